// Character n-gram language models: the baselines the Transformer has to beat. They predict each
// character from the one or two before it, from counts in the training text. Framework-free, so a
// chapter can put an n-gram and the Transformer side by side.
//
// Text is a list of paragraphs. Each paragraph is read as "\n\n" + paragraph + "\n": the model
// predicts every character of the paragraph and then the "\n" that ends it, from a context that
// starts at a paragraph boundary. This mirrors how the Transformer is evaluated (each paragraph
// followed by <|endoftext|>), so both are scored on the same count of characters: the paragraph's
// code points plus one for its end.
//
// Smoothing (Jelinek & Mercer 1980, recursive linear interpolation):
//   P1(c)       = (n(c) + 1) / (N + |V|)                        add-one, so no character gets 0
//   P2(c | b)   = λ2·n(bc)/n(b)   + (1 - λ2)·P1(c)              (P1(c) when b was never seen)
//   P3(c | ab)  = λ3·n(abc)/n(ab) + (1 - λ3)·P2(c | b)          (P2 when ab was never seen)
// |V| counts one extra symbol for characters never seen in training. λ2 and λ3 are tuned on a
// slice of the training text held back from the counts (every 10th paragraph), by a grid search
// over 0.01..0.999, then the counts are taken over all of the training text.
import { EngineError } from './errors';

export interface NgramBaselines {
  unigram: number; // held-out nats per character
  bigram: number;
  trigram: number;
  lambda2: number;
  lambda3: number;
  chars: number; // characters scored
}

// A model's counts as plain arrays (JSON): the code point of each character id (id 0 is "\n"; the
// unknown symbol, id V - 1, has none) and the nonzero trigram counts as (flat index, count) pairs,
// the flat index of (a, b, c) being (a·V + b)·V + c.
export interface NgramCounts {
  chars: number[];
  trigrams: number[];
}

// A character model fit on some paragraphs: counts indexed by character id (UNK is id V - 1).
export class CharNgram {
  readonly ids = new Map<number, number>(); // code point -> id
  readonly V: number; // vocabulary, with the unknown symbol
  readonly n1: Float64Array; // (V)
  readonly n2: Float64Array; // (V, V)
  readonly n3: Float64Array; // (V, V, V)
  readonly total: number;

  constructor(paragraphs: readonly string[]) {
    this.ids.set(10, 0); // "\n", the paragraph boundary
    for (const p of paragraphs) for (const ch of p) {
      const cp = ch.codePointAt(0)!;
      if (!this.ids.has(cp)) this.ids.set(cp, this.ids.size);
    }
    this.V = this.ids.size + 1;
    const V = this.V;
    this.n1 = new Float64Array(V);
    this.n2 = new Float64Array(V * V);
    this.n3 = new Float64Array(V * V * V);
    let total = 0;
    for (const p of paragraphs) {
      const s = this.encode(p);
      for (let i = 2; i < s.length; i++) {
        this.n1[s[i]]++;
        this.n2[s[i - 1] * V + s[i]]++;
        this.n3[(s[i - 2] * V + s[i - 1]) * V + s[i]]++;
        total++;
      }
    }
    this.total = total;
  }

  // The trigram counts, sparse: what a page needs to rebuild this model without the training text.
  // Every scored character adds one to n1, n2 and n3 alike, so n1 and n2 are sums of n3.
  toCounts(): NgramCounts {
    const chars = [...this.ids.keys()]; // in id order: a Map keeps insertion order
    const trigrams: number[] = [];
    this.n3.forEach((n, i) => {
      if (n > 0) trigrams.push(i, n);
    });
    return { chars, trigrams };
  }

  // The model toCounts() describes, equal count for count.
  static fromCounts(c: NgramCounts): CharNgram {
    if (c.chars[0] !== 10 || new Set(c.chars).size !== c.chars.length || c.trigrams.length % 2 !== 0) {
      throw new EngineError('bad_data', 'These n-gram counts are malformed: chars must start with "\\n", hold no repeats, and trigrams come in (index, count) pairs.');
    }
    const m = Object.create(CharNgram.prototype) as { -readonly [K in keyof CharNgram]: CharNgram[K] };
    m.ids = new Map(c.chars.map((cp, i) => [cp, i]));
    const V = (m.V = c.chars.length + 1);
    m.n1 = new Float64Array(V);
    m.n2 = new Float64Array(V * V);
    m.n3 = new Float64Array(V * V * V);
    let total = 0;
    for (let k = 0; k < c.trigrams.length; k += 2) {
      const [i, n] = [c.trigrams[k], c.trigrams[k + 1]];
      if (!Number.isInteger(i) || i < 0 || i >= V * V * V || !(n > 0)) throw new EngineError('bad_data', `Trigram entry ${k / 2} (${i}, ${n}) is out of range.`);
      m.n3[i] += n;
      m.n2[i % (V * V)] += n;
      m.n1[i % V] += n;
      total += n;
    }
    m.total = total;
    return m as CharNgram;
  }

  // "\n\n" + paragraph + "\n" as ids; the first two are context only.
  encode(p: string): Int32Array {
    const cps = [10, 10];
    for (const ch of p) cps.push(ch.codePointAt(0)!);
    cps.push(10);
    return Int32Array.from(cps, (cp) => this.ids.get(cp) ?? this.V - 1);
  }

  // The three estimates for every scored character of the paragraphs, for tuning and scoring:
  // p1 = P1(c), m2 = n(bc)/n(b) or NaN when b is unseen, m3 = n(abc)/n(ab) or NaN.
  estimates(paragraphs: readonly string[]): Estimates {
    const { V, n1, n2, n3, total } = this;
    // row sums of the counts: n(b) as a context and n(ab) as a context
    const c2 = new Float64Array(V);
    const c3 = new Float64Array(V * V);
    for (let i = 0; i < V * V; i++) c2[Math.floor(i / V)] += n2[i];
    for (let i = 0; i < V * V * V; i++) c3[Math.floor(i / V)] += n3[i];
    const p1: number[] = [];
    const m2: number[] = [];
    const m3: number[] = [];
    for (const p of paragraphs) {
      const s = this.encode(p);
      for (let i = 2; i < s.length; i++) {
        const [a, b, c] = [s[i - 2], s[i - 1], s[i]];
        p1.push((n1[c] + 1) / (total + V));
        m2.push(c2[b] > 0 ? n2[b * V + c] / c2[b] : NaN);
        m3.push(c3[a * V + b] > 0 ? n3[(a * V + b) * V + c] / c3[a * V + b] : NaN);
      }
    }
    return { p1: Float64Array.from(p1), m2: Float64Array.from(m2), m3: Float64Array.from(m3) };
  }
}

// Mean negative log-likelihood (nats per character) of the interpolated model of the given order.
export type Estimates = { p1: Float64Array; m2: Float64Array; m3: Float64Array };

// The interpolated probability of scored character i (see the formulas at the top).
export function ngramProb(e: Estimates, i: number, order: 1 | 2 | 3, lambda2: number, lambda3: number): number {
  let p = e.p1[i];
  if (order >= 2 && !Number.isNaN(e.m2[i])) p = lambda2 * e.m2[i] + (1 - lambda2) * p;
  if (order >= 3 && !Number.isNaN(e.m3[i])) p = lambda3 * e.m3[i] + (1 - lambda3) * p;
  return p;
}

export function ngramNats(e: Estimates, order: 1 | 2 | 3, lambda2: number, lambda3: number): number {
  let nats = 0;
  const n = e.p1.length;
  for (let i = 0; i < n; i++) nats -= Math.log(ngramProb(e, i, order, lambda2, lambda3));
  return nats / n;
}

// Unigram, bigram and interpolated-trigram held-out cross-entropy, fit on `train`.
export function ngramBaselines(train: readonly string[], heldout: readonly string[]): NgramBaselines {
  if (train.length < 10 || heldout.length === 0) throw new EngineError('bad_data', 'The n-gram baselines need at least 10 training paragraphs and 1 held-out one.');
  // tune λ2, λ3 on every 10th training paragraph, with counts from the other nine tenths
  const tuneFit = new CharNgram(train.filter((_, i) => i % 10 !== 9));
  const tuneSet = tuneFit.estimates(train.filter((_, i) => i % 10 === 9));
  // 0.01 .. 0.99, then finer towards 1, where λ lands when the counts are plentiful
  const grid = [...Array.from({ length: 99 }, (_, i) => (i + 1) / 100), ...Array.from({ length: 9 }, (_, i) => 0.991 + i / 1000)];
  // the first grid value with the lowest loss (each loss computed once: a pass is half a second)
  const argmin = (loss: (l: number) => number) => {
    let [best, bestLoss] = [grid[0], loss(grid[0])];
    for (const l of grid.slice(1)) {
      const v = loss(l);
      if (v < bestLoss) [best, bestLoss] = [l, v];
    }
    return best;
  };
  const lambda2 = argmin((l2) => ngramNats(tuneSet, 2, l2, 0));
  const lambda3 = argmin((l3) => ngramNats(tuneSet, 3, lambda2, l3));

  const fit = new CharNgram(train);
  const e = fit.estimates(heldout);
  return {
    unigram: ngramNats(e, 1, 0, 0),
    bigram: ngramNats(e, 2, lambda2, 0),
    trigram: ngramNats(e, 3, lambda2, lambda3),
    lambda2,
    lambda3,
    chars: e.p1.length
  };
}

// Characters scored for a list of paragraphs under the convention above: code points plus one
// end-of-paragraph per paragraph. The Transformer's loss is divided by the same number.
export function scoredChars(paragraphs: readonly string[]): number {
  let n = 0;
  for (const p of paragraphs) n += [...p].length + 1;
  return n;
}
