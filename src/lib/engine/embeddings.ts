// What the embeddings chapter asks of the model's first two matrices: wte (V, C), one row per
// token, and wpe (n_positions, C), one row per position. The map of every token (PCA to two
// axes), a token's nearest neighbours by cosine, the arithmetic a − b + c, and the position matrix
// with the similarity of its rows. None of this runs the model, only reads its parameters; the
// slow parts (the PCA, the position similarities) are computed once per model and kept.
//
// Legend: V = vocab, C = channels (n_embd), P = n_positions.
import { EngineError } from '../../../engine/errors';
import type { Model } from '../../../engine/model';
import { pca } from '../../../engine/pca';
import { analogyVector, cosineMatrix, nearest, rowNorms } from '../../../engine/similarity';
import type { EngineContext } from './api';

export interface EmbeddingMap {
  vocab: number; // V
  channels: number; // C
  x: Float32Array; // (V) each token along the first principal component
  y: Float32Array; // (V) along the second
  explained: number[]; // (2) share of the total variance each axis keeps
  variances: number[]; // (2) the variance along each axis
  totalVariance: number; // along all C dimensions
  texts: string[]; // (V) each token's text for display
  // word tokens (a space and at least two letters), most frequent first: what the map labels
  words: number[];
  // how "most frequent" was measured: the merge counts the tokenizer recorded when it learned each
  // merge, or, for a tokenizer without them (GPT-2's files), the merge order (earlier = more frequent)
  rule: 'merge-count' | 'merge-order';
  ms: number; // how long the PCA took in the worker
}

export interface TokenLookup {
  text: string; // as typed
  ids: number[]; // what our tokenizer makes of it
  pieces: string[];
  id: number | null; // the token, when the text is exactly one
  // the same word with its leading space added (or taken away): in GPT-2-style vocabularies the
  // word inside a sentence is usually the spaced form, " king", a different token from "king"
  other: { text: string; ids: number[]; pieces: string[]; id: number | null } | null;
}

export interface Neighbour {
  id: number;
  text: string;
  cosine: number;
}

export interface NeighbourResult {
  id: number;
  text: string;
  neighbours: Neighbour[]; // most similar first, the token itself left out
}

export interface ArithmeticResult {
  a: { id: number; text: string };
  b: { id: number; text: string };
  c: { id: number; text: string };
  results: Neighbour[]; // nearest to a − b + c, with a, b and c left out
  withInputs: Neighbour[]; // the same, with nothing left out
  candidates: number; // tokens the results were chosen from
  expected: { id: number; text: string; rank: number | null; cosine: number } | null; // where the reader's expected answer ranks (null: it is one of a, b, c)
}

export interface PositionMatrix {
  positions: number; // P
  channels: number; // C
  wpe: Float32Array; // (P, C)
  similarity: Float32Array; // (P, P) cos(wpe[i], wpe[j])
}

interface Cached {
  norms: Float64Array; // (V) lengths of the rows of wte
  map?: EmbeddingMap;
  positions?: PositionMatrix;
}

const wordToken = /^ \p{L}{2,}$/u;

export function createEmbeddingsApi(ctx: EngineContext) {
  const cache = new WeakMap<Model, Cached>(); // per model: a reload computes afresh

  function wte(m: Model) {
    const { vocab_size: V, n_embd: C } = m.config;
    return { data: m.params['wte.weight'], V, C }; // (V, C)
  }

  function cached(m: Model): Cached {
    let c = cache.get(m);
    if (!c) {
      const { data, V, C } = wte(m);
      c = { norms: rowNorms(data, V, C) };
      cache.set(m, c);
    }
    return c;
  }

  function checkId(m: Model, id: number, what = 'Token'): void {
    const V = m.config.vocab_size;
    if (!Number.isInteger(id) || id < 0 || id >= V) {
      throw new EngineError('bad_token', `${what} id ${id} is not a whole number in [0, ${V}).`);
    }
  }

  function lookup(m: Model, text: string) {
    const ids = m.tokenizer.encode(text);
    return { text, ids, pieces: ids.map((i) => ctx.tokenString(i)), id: ids.length === 1 ? ids[0] : null };
  }

  return {
    // Every token as a point: wte's rows projected onto its top two principal components.
    // onProgress hears how many rows of the covariance are summed (GPT-2 small's 50,257 rows take
    // tens of seconds; ours, a fraction of one).
    embeddingMap(onProgress?: (p: { rows: number; of: number }) => void): EmbeddingMap {
      const m = ctx.requireModel();
      const c = cached(m);
      if (c.map) return c.map;
      const t0 = performance.now();
      const { data, V, C } = wte(m);
      const r = pca(data, V, C, 2, { onRows: onProgress && ((rows, of) => onProgress({ rows, of })) });
      const x = new Float32Array(V); // (V)
      const y = new Float32Array(V); // (V)
      for (let i = 0; i < V; i++) {
        x[i] = r.projected[i * 2];
        y[i] = r.projected[i * 2 + 1];
      }
      const texts = Array.from({ length: V }, (_, i) => ctx.tokenString(i));
      const merges = m.tokenizer.merges;
      const counted = merges.length > 0 && merges.every((s) => s.count !== null);
      // merge i made token 256 + i; its count is how often the pair stood side by side in the
      // training text when the tokenizer learned it
      const count = (id: number) => (id >= 256 && id - 256 < merges.length ? (merges[id - 256].count ?? 0) : 0);
      const words = texts
        .map((t, id) => ({ t, id }))
        .filter(({ t, id }) => id >= 256 && id - 256 < merges.length && wordToken.test(t))
        .sort((a, b) => (counted ? count(b.id) - count(a.id) : 0) || a.id - b.id)
        .map(({ id }) => id);
      c.map = {
        vocab: V,
        channels: C,
        x,
        y,
        explained: r.explained,
        variances: Array.from(r.variances),
        totalVariance: r.totalVariance,
        texts,
        words,
        rule: counted ? 'merge-count' : 'merge-order',
        ms: performance.now() - t0
      };
      return c.map;
    },

    // What our tokenizer makes of a word the reader typed: one token, or the pieces it splits into.
    tokenInfo(text: string): TokenLookup {
      const m = ctx.requireModel();
      if (typeof text !== 'string' || text === '') throw new EngineError('empty_text', 'Type a word to look it up.');
      const spaced = text.startsWith(' ') ? text.replace(/^ +/, '') : ` ${text}`;
      return { ...lookup(m, text), other: spaced === '' ? null : lookup(m, spaced) };
    },

    // The k tokens whose embeddings point most nearly the same way as token `id`'s.
    neighbours(id: number, k = 10): NeighbourResult {
      const m = ctx.requireModel();
      checkId(m, id);
      const { data, V, C } = wte(m);
      const row = data.subarray(id * C, id * C + C); // (C)
      const found = nearest(data, V, C, row, k, { exclude: [id], norms: cached(m).norms });
      return { id, text: ctx.tokenString(id), neighbours: found.map((f) => ({ ...f, text: ctx.tokenString(f.id) })) };
    },

    // wte[a] − wte[b] + wte[c] and the tokens nearest to it. As word2vec's evaluation did, the
    // three inputs are left out of the results (the sum usually stays closest to c); withInputs
    // shows what the list would be without that rule.
    arithmetic(a: number, b: number, c: number, k = 10, expected: number | null = null): ArithmeticResult {
      const m = ctx.requireModel();
      checkId(m, a, 'Token a');
      checkId(m, b, 'Token b');
      checkId(m, c, 'Token c');
      if (expected !== null) checkId(m, expected, 'The expected token');
      if (!Number.isInteger(k) || k < 0) throw new EngineError('bad_argument', `The number of results must be a whole number of at least 0, got ${k}.`);
      const { data, V, C } = wte(m);
      const norms = cached(m).norms;
      const v = analogyVector(data, V, C, a, b, c); // (C)
      const all = nearest(data, V, C, v, V, { norms }); // every token, most similar first
      const inputs = new Set([a, b, c]);
      const others = all.filter((x) => !inputs.has(x.id));
      const named = (xs: { id: number; cosine: number }[]) => xs.map((x) => ({ ...x, text: ctx.tokenString(x.id) }));
      let exp: ArithmeticResult['expected'] = null;
      if (expected !== null) {
        const at = others.findIndex((x) => x.id === expected);
        const hit = all.find((x) => x.id === expected);
        if (!hit) throw new EngineError('zero_vector', 'The expected token\'s embedding is all zeros: it has no direction to compare.');
        exp = { id: expected, text: ctx.tokenString(expected), rank: at < 0 ? null : at + 1, cosine: hit.cosine };
      }
      const ids = (id: number) => ({ id, text: ctx.tokenString(id) });
      return {
        a: ids(a),
        b: ids(b),
        c: ids(c),
        results: named(others.slice(0, k)),
        withInputs: named(all.slice(0, k)),
        candidates: V - inputs.size,
        expected: exp
      };
    },

    // The position matrix and how alike its rows are.
    positionMatrix(): PositionMatrix {
      const m = ctx.requireModel();
      const c = cached(m);
      if (c.positions) return c.positions;
      const { n_positions: P, n_embd: C } = m.config;
      const wpe = m.params['wpe.weight']; // (P, C)
      c.positions = { positions: P, channels: C, wpe, similarity: cosineMatrix(wpe, P, C) };
      return c.positions;
    }
  };
}
