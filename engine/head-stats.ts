// What one attention head does on one text, in a few numbers: where its weight goes on average.
// Pure functions over a head's softmax weights, a (T, T) row-major matrix whose row i is how much
// token i attends to each token j ≤ i. Row 0 has one choice (itself), so every score averages the
// rows 1..T-1, where a head could have looked elsewhere.
import { EngineError } from './errors';

export interface HeadScores {
  prev: number; // mean weight on the previous token, w[i][i-1]
  self: number; // mean weight on the token itself, w[i][i]
  first: number; // mean weight on the first token, w[i][0]
  entropy: number; // mean entropy of a row, in nats: 0 when all weight is on one token
  sharpness: number; // mean of the largest weight on any token but the first, max over 1 ≤ j ≤ i of w[i][j]
}

export type ScoreName = keyof HeadScores;

export function checkWeights(w: ArrayLike<number>, T: number): void {
  if (!Number.isInteger(T) || T < 2) {
    throw new EngineError('too_short', `A head's pattern needs at least 2 tokens (got ${T}): the first token can only look at itself.`);
  }
  if (w.length !== T * T) throw new EngineError('bad_shape', `Expected ${T} × ${T} = ${T * T} weights, got ${w.length}.`);
}

// The mean over rows 1..T-1 of f(row i).
function meanOverRows(w: ArrayLike<number>, T: number, f: (i: number) => number): number {
  checkWeights(w, T);
  let s = 0;
  for (let i = 1; i < T; i++) s += f(i);
  return s / (T - 1);
}

export const prevScore = (w: ArrayLike<number>, T: number) => meanOverRows(w, T, (i) => w[i * T + i - 1]);
export const selfScore = (w: ArrayLike<number>, T: number) => meanOverRows(w, T, (i) => w[i * T + i]);
export const firstScore = (w: ArrayLike<number>, T: number) => meanOverRows(w, T, (i) => w[i * T]);

export function entropy(w: ArrayLike<number>, T: number): number {
  return meanOverRows(w, T, (i) => {
    let h = 0;
    for (let j = 0; j <= i; j++) {
      const p = w[i * T + j];
      if (p > 0) h -= p * Math.log(p);
    }
    return h;
  });
}

// The first token often collects weight that has nowhere better to go (a "resting" place), so
// sharpness leaves it out: a head that looks hard at one particular earlier token scores near 1.
export function sharpness(w: ArrayLike<number>, T: number): number {
  return meanOverRows(w, T, (i) => {
    let m = 0;
    for (let j = 1; j <= i; j++) m = Math.max(m, w[i * T + j]);
    return m;
  });
}

export function headScores(w: ArrayLike<number>, T: number): HeadScores {
  return { prev: prevScore(w, T), self: selfScore(w, T), first: firstScore(w, T), entropy: entropy(w, T), sharpness: sharpness(w, T) };
}

// Scores of every head of a layer from its (nh, T, T) weights.
export function layerScores(weights: Float32Array, nh: number, T: number): HeadScores[] {
  if (weights.length !== nh * T * T) throw new EngineError('bad_shape', `Expected ${nh} × ${T} × ${T} weights, got ${weights.length}.`);
  return Array.from({ length: nh }, (_, h) => headScores(weights.subarray(h * T * T, (h + 1) * T * T), T));
}

export interface Leader {
  layer: number;
  head: number;
  value: number;
}

// The head with the largest (or, with lowest, the smallest) score; ties go to the earlier head.
export function leader(scores: HeadScores[][], name: ScoreName, lowest = false): Leader {
  let best: Leader | null = null;
  scores.forEach((layer, l) =>
    layer.forEach((s, h) => {
      const v = s[name];
      if (best === null || (lowest ? v < best.value : v > best.value)) best = { layer: l, head: h, value: v };
    })
  );
  if (best === null) throw new EngineError('no_heads', 'There are no heads to compare.');
  return best;
}
