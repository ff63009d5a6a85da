// Probes of a trained model "as a teacher": what each attention head looks at, whether the model
// copies a sequence it has already read, whether its embedding puts related words together, and
// whether what it writes is made of real words. Pure functions over attention weights, logits,
// embeddings and text, with nothing from Node or the DOM, so the command line (engine/cli/probe.ts)
// and the site's worker compute the same numbers.
//
// One head's attention over one text is `weights` (T, T), row-major: weights[i * T + j] is how much
// token i attends to token j; zero for j > i (causal), each row sums to 1.
//
// Which rows each measure averages over, and why:
// - prev, self, entropy: rows 1..T-1 (row 0 can only attend to itself, so it says nothing).
// - first: rows 2..T-1 (in row 1 the first token is also the previous one).
// - sharpness and jobs: rows 2..T-1, over targets 1..i. The first token is left out because many
//   heads park their weight there when they have nothing to do (an "attention sink"); a head's job
//   is what it picks among the other tokens, and row 1 offers only one of those (itself).
// - duplicate: the rows whose token appeared earlier in the text.
// - induction: the rows whose token appeared earlier with another token after it.
// Over several texts the sums and row counts are pooled, so a long sentence weighs more than a
// short one, as each row is one observation.
import { EngineError } from './errors';
import { Rng } from './sampling';

export interface AttentionSample {
  weights: Float32Array; // (T, T) one head's attention
  ids: readonly number[]; // (T) token ids
  pieces: readonly string[]; // (T) each token's text, for naming what a head attends to
}

// a head is "sharp" when, on average, its largest weight on a token other than the first is this or more
export const SHARP = 0.5;
// a sharp head is given a job when at least this share of its rows puts its largest weight on that kind of token
export const JOB_SHARE = 0.5;

export interface HeadStats {
  prev: number; // mean weight on the previous token
  self: number; // mean weight on the token itself
  first: number; // mean weight on the first token
  duplicate: number | null; // mean weight on earlier copies of the same token id (null: no token repeats)
  entropy: number; // mean of H(row) / log(i + 1): 1 is uniform over the visible tokens, 0 is one token
  sharpness: number; // mean of the largest weight on a token other than the first
  job: string | null; // for a sharp head, the kind of token it picks (see jobs); null otherwise
  jobShare: number | null; // the share of rows whose largest weight goes to that kind of token
}

function checkSample(s: AttentionSample): number {
  const T = s.ids.length;
  if (s.weights.length !== T * T || s.pieces.length !== T) {
    throw new EngineError('bad_probe', `An attention sample needs weights of ${T}×${T} and ${T} pieces for its ${T} tokens, got ${s.weights.length} weights and ${s.pieces.length} pieces.`);
  }
  return T;
}

// the target in 1..i with the largest weight (the nearer one on a tie)
function argmaxAfterFirst(w: Float32Array, T: number, i: number): number {
  let best = 1;
  for (let j = 2; j <= i; j++) if (w[i * T + j] >= w[i * T + best]) best = j;
  return best;
}

// What a head can be doing, each a test on (row i, its chosen target j). The order breaks ties.
export interface Job {
  name: string;
  fits: (i: number, j: number, ids: readonly number[], pieces: readonly string[]) => boolean;
}

const word = (piece: string) => piece.trim().toLowerCase();
const articles = new Set(['the', 'a', 'an']);
const pronouns = new Set(['i', 'me', 'my', 'he', 'him', 'his', 'she', 'her', 'it', 'its', 'we', 'us', 'our', 'you', 'your', 'they', 'them', 'their']);
const prepositions = new Set(['of', 'in', 'to', 'for', 'with', 'on', 'at', 'by', 'from', 'into', 'about', 'as', 'over', 'after', 'under', 'before', 'through']);
const wordStart = /^ \p{L}/u; // a piece that begins a word: " the", " Ken"
const wordPart = /^\p{L}/u; // a piece that goes on with one: "nedy"

export const jobs: readonly Job[] = [
  { name: 'previous token', fits: (i, j) => j === i - 1 },
  { name: 'itself', fits: (i, j) => j === i },
  { name: 'same token earlier', fits: (i, j, ids) => j < i && ids[j] === ids[i] },
  // an induction head in ordinary text: "... Mr. Hol|mes ... Mr." attends to "Hol"
  { name: 'token after an earlier copy', fits: (i, j, ids) => j < i && ids[j - 1] === ids[i] },
  {
    // the piece that began the word this token is part of, as " Ken" for "nedy"
    name: 'start of this word',
    fits: (i, j, _ids, pieces) => {
      if (j >= i || !wordStart.test(pieces[j])) return false;
      for (let m = j + 1; m <= i; m++) if (!wordPart.test(pieces[m])) return false;
      return true;
    }
  },
  { name: 'punctuation', fits: (_i, j, _ids, pieces) => /^\s*[.,;:!?"'()-]+$/.test(pieces[j]) },
  { name: 'article', fits: (_i, j, _ids, pieces) => articles.has(word(pieces[j])) },
  { name: 'pronoun', fits: (_i, j, _ids, pieces) => pronouns.has(word(pieces[j])) },
  { name: 'preposition', fits: (_i, j, _ids, pieces) => prepositions.has(word(pieces[j])) },
  { name: 'capitalised word', fits: (_i, j, _ids, pieces) => /^ ?\p{Lu}/u.test(pieces[j]) }
];

// For each job, the share of rows (2..T-1, pooled) whose largest weight other than on the first
// token goes to a token of that kind. The best is the one with the largest share (the earlier on a tie).
export function jobShares(samples: readonly AttentionSample[]): { name: string; share: number }[] {
  const hits = new Array<number>(jobs.length).fill(0);
  let rows = 0;
  for (const s of samples) {
    const T = checkSample(s);
    for (let i = 2; i < T; i++) {
      const j = argmaxAfterFirst(s.weights, T, i);
      jobs.forEach((job, k) => {
        if (job.fits(i, j, s.ids, s.pieces)) hits[k]++;
      });
      rows++;
    }
  }
  if (rows === 0) throw new EngineError('bad_probe', 'Naming what a head does needs a text of at least 3 tokens.');
  return jobs.map((job, k) => ({ name: job.name, share: hits[k] / rows }));
}

export function bestJob(samples: readonly AttentionSample[]): { name: string; share: number } {
  return jobShares(samples).reduce((a, b) => (b.share > a.share ? b : a));
}

export function headStats(samples: readonly AttentionSample[]): HeadStats {
  let prev = 0, self = 0, entropy = 0, rows1 = 0; // rows 1..T-1
  let first = 0, sharp = 0, rows2 = 0; // rows 2..T-1
  let dup = 0, dupRows = 0;
  for (const s of samples) {
    const T = checkSample(s);
    const w = s.weights; // (T, T)
    for (let i = 1; i < T; i++) {
      const row = i * T;
      prev += w[row + i - 1];
      self += w[row + i];
      let h = 0;
      for (let j = 0; j <= i; j++) if (w[row + j] > 0) h -= w[row + j] * Math.log(w[row + j]);
      entropy += h / Math.log(i + 1);
      rows1++;
      if (i >= 2) {
        first += w[row];
        sharp += w[row + argmaxAfterFirst(w, T, i)];
        rows2++;
      }
      let d = 0;
      let seen = false;
      for (let j = 0; j < i; j++) {
        if (s.ids[j] === s.ids[i]) {
          d += w[row + j];
          seen = true;
        }
      }
      if (seen) {
        dup += d;
        dupRows++;
      }
    }
  }
  if (rows2 === 0) throw new EngineError('bad_probe', 'Measuring a head needs a text of at least 3 tokens.');
  const sharpness = sharp / rows2;
  const job = sharpness >= SHARP ? bestJob(samples) : null;
  const named = job !== null && job.share >= JOB_SHARE;
  return {
    prev: prev / rows1,
    self: self / rows1,
    first: first / rows2,
    duplicate: dupRows > 0 ? dup / dupRows : null,
    entropy: entropy / rows1,
    sharpness,
    job: named ? job.name : null,
    jobShare: named ? job.share : null
  };
}

// The induction score: in each row i whose token appeared earlier at j (and j + 1 < i), the weight
// on j + 1, the token that followed it then; a copying head looks there to predict what comes next.
// On a random sequence repeated twice, the rows are the second copy and the targets are the first
// copy's next tokens. null when no token repeats.
export function inductionScore(samples: readonly { weights: Float32Array; ids: readonly number[] }[]): number | null {
  let sum = 0, rows = 0;
  for (const s of samples) {
    const T = s.ids.length;
    if (s.weights.length !== T * T) throw new EngineError('bad_probe', `Attention weights of ${s.weights.length} numbers do not fit ${T} tokens.`);
    for (let i = 1; i < T; i++) {
      const targets = new Set<number>();
      for (let j = 0; j + 1 < i; j++) if (s.ids[j] === s.ids[i]) targets.add(j + 1);
      if (targets.size === 0) continue;
      for (const t of targets) sum += s.weights[i * T + t];
      rows++;
    }
  }
  return rows > 0 ? sum / rows : null;
}

// n distinct token ids drawn uniformly from 0..V-1 without `skip` (end-of-text), then the same n
// again: (2n) ids. Distinct, so every token of the second copy has exactly one earlier occurrence.
export function repeatedSequence(n: number, V: number, seed: number, skip: number): number[] {
  if (!Number.isInteger(n) || n < 2 || n > V - 1) throw new EngineError('bad_probe', `A repeated sequence needs 2 to ${V - 1} distinct tokens, got ${n}.`);
  const rng = new Rng(seed);
  const pool = Array.from({ length: V }, (_, i) => i).filter((i) => i !== skip);
  const r: number[] = [];
  for (let k = 0; k < n; k++) {
    const m = k + Math.floor(rng.next() * (pool.length - k)); // a partial Fisher-Yates shuffle
    [pool[k], pool[m]] = [pool[m], pool[k]];
    r.push(pool[k]);
  }
  return [...r, ...r];
}

// Mean cross-entropy in nats of the tokens at positions from..to-1, each predicted from the logits
// of the position before it. logits (T, V).
export function meanTokenLoss(logits: Float32Array, ids: readonly number[], V: number, from: number, to: number): number {
  if (from < 1 || to > ids.length || to <= from || logits.length < (to - 1) * V) {
    throw new EngineError('bad_probe', `Cannot score tokens ${from}..${to - 1} of ${ids.length} from ${logits.length / V} rows of logits.`);
  }
  let nats = 0;
  for (let t = from; t < to; t++) {
    const o = (t - 1) * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[o + v]);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[o + v] - max);
    nats += max + Math.log(sum) - logits[o + ids[t]];
  }
  return nats / (to - from);
}

// Word groups for the embedding probe, in the form a tokenizer meets them in running text: a
// leading space, capitalised where English capitalises (" Monday"), lower case otherwise (" red").
export const wordGroups: readonly { name: string; words: readonly string[] }[] = [
  { name: 'days', words: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] },
  { name: 'months', words: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'] },
  { name: 'numbers', words: ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'] },
  { name: 'colours', words: ['red', 'green', 'blue', 'black', 'white', 'yellow', 'brown', 'gray', 'pink'] },
  { name: 'family', words: ['father', 'mother', 'brother', 'sister', 'son', 'daughter', 'wife', 'husband', 'uncle', 'aunt'] },
  { name: 'pronouns', words: ['he', 'she', 'they', 'we', 'you', 'him', 'her', 'them', 'us', 'me'] },
  { name: 'animals', words: ['dog', 'cat', 'horse', 'cow', 'bird', 'fish', 'pig', 'sheep', 'mouse'] },
  { name: 'body', words: ['hand', 'head', 'eye', 'face', 'arm', 'leg', 'foot', 'heart', 'mouth'] },
  { name: 'time', words: ['minute', 'hour', 'day', 'week', 'month', 'year'] },
  { name: 'directions', words: ['north', 'south', 'east', 'west'] }
];

// The k rows of wte (V, C) nearest to row `id` by cosine similarity, itself left out, nearest first.
export function nearestTokens(wte: Float32Array, V: number, C: number, id: number, k: number): number[] {
  if (wte.length !== V * C) throw new EngineError('bad_probe', `An embedding of ${wte.length} numbers is not ${V}×${C}.`);
  if (!Number.isInteger(id) || id < 0 || id >= V) throw new EngineError('bad_token', `Token id ${id} is outside the vocabulary (0 to ${V - 1}).`);
  const norm = (r: number) => {
    let s = 0;
    for (let c = 0; c < C; c++) s += wte[r * C + c] ** 2;
    return Math.sqrt(s);
  };
  const n0 = norm(id) || 1;
  const sims: { r: number; s: number }[] = [];
  for (let r = 0; r < V; r++) {
    if (r === id) continue;
    let dot = 0;
    for (let c = 0; c < C; c++) dot += wte[id * C + c] * wte[r * C + c];
    sims.push({ r, s: dot / (n0 * (norm(r) || 1)) });
  }
  sims.sort((a, b) => b.s - a.s || a.r - b.r);
  return sims.slice(0, k).map((x) => x.r);
}

export interface NeighbourGroup {
  name: string;
  words: number; // words in the group
  single_tokens: number; // of them, one token each
  with_group_neighbour: number; // of those, with another single-token word of the group among their k nearest
  members: { word: string; id: number | null; neighbours: number[]; same_group: boolean }[];
}

// `ids[g][w]`: the token id of word w of group g when it is a single token, else null.
export function groupNeighbours(wte: Float32Array, V: number, C: number, groups: readonly { name: string; words: readonly string[]; ids: readonly (number | null)[] }[], k = 5): NeighbourGroup[] {
  return groups.map((g) => {
    const inGroup = new Set(g.ids.filter((id): id is number => id !== null));
    const members = g.words.map((w, m) => {
      const id = g.ids[m];
      if (id === null) return { word: w, id, neighbours: [], same_group: false };
      const neighbours = nearestTokens(wte, V, C, id, k);
      return { word: w, id, neighbours, same_group: neighbours.some((n) => inGroup.has(n)) };
    });
    return {
      name: g.name,
      words: g.words.length,
      single_tokens: inGroup.size,
      with_group_neighbour: members.filter((m) => m.same_group).length,
      members
    };
  });
}

// Words of a text: runs of letters, lower-cased.
export function wordsOf(text: string): string[] {
  return (text.match(/\p{L}+/gu) ?? []).map((w) => w.toLowerCase());
}

// Ordinary English sentences for the head measurements, in the register of the Brown corpus and
// written for this project. Each has repeated words (for the duplicate measure), articles,
// pronouns, prepositions, commas and capitalised names.
export const probeSentences: readonly string[] = [
  'The old man walked down to the river, and the boy walked after him with the basket.',
  'When Mrs. Harper came home, she found that the letter from her sister was still on the table.',
  'The committee said on Monday that the new school would open in the fall, if the city paid for it.',
  'He looked at the window for a long time, then he turned to the door and said nothing.',
  'In the spring the farmers of the valley plant corn, and in the fall they sell the corn in town.',
  'Mr. Brown told the jury that he had never seen the man before, but the jury did not believe him.',
  'She had a small house near the church, a garden with a few trees, and a dog that slept all day.',
  'The President asked Congress for more money, and Congress gave the President half of what he asked.'
];

// A head "formed" for the model card when some head reaches these.
export const PREV_HEAD = 0.5; // mean weight on the previous token
export const INDUCTION_HEAD = 0.3; // induction score on a repeated random sequence

// The head with the largest value of one measure, as "the head that puts the most weight on the
// previous token": its index in `heads` and the value.
export function strongestHead<H>(heads: readonly H[], value: (h: H) => number | null): { index: number; value: number } | null {
  let best: { index: number; value: number } | null = null;
  heads.forEach((h, index) => {
    const v = value(h);
    if (v !== null && (best === null || v > best.value)) best = { index, value: v };
  });
  return best;
}
