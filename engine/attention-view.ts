// Attention taken apart for a reader: one row's softmax worked step by step, one score as a dot
// product, one head's output as a blend of value vectors, and how strongly a head follows a
// pattern (the previous token, the first token). Everything here reads tensors the forward pass
// traced (engine/gpt.ts) and recomputes a piece of them in plain float64 loops, so a figure can
// show the arithmetic and check it against what the model itself computed.
//
// Legend: T = time (queries), Tk = keys (T plus any cached tokens), nh = heads, hs = head size,
// C = nh * hs.
import { EngineError } from './errors';
import type { TracedTensor } from './gpt';

function checkShape(t: TracedTensor, rank: number, what: string): void {
  if (t.shape.length !== rank || t.data.length !== t.shape.reduce((a, b) => a * b, 1)) {
    throw new EngineError('bad_shape', `${what} must be a tensor of rank ${rank} whose data fills its shape, got (${t.shape.join(', ')}) with ${t.data.length} numbers.`);
  }
}

function checkIndex(i: number, n: number, what: string): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) {
    throw new EngineError('bad_index', `The ${what} must be a whole number from 0 to ${n - 1}, got ${i}.`);
  }
}

// Row i of head h of an (nh, T, Tk) tensor (scores, masked scores or weights): (Tk)
export function headRow(t: TracedTensor, h: number, i: number): Float32Array {
  checkShape(t, 3, 'An attention matrix');
  const [nh, T, Tk] = t.shape;
  checkIndex(h, nh, 'head');
  checkIndex(i, T, 'query position');
  return t.data.subarray((h * T + i) * Tk, (h * T + i + 1) * Tk);
}

// Head h's whole matrix of an (nh, T, Tk) tensor: (T, Tk)
export function headMatrix(t: TracedTensor, h: number): Float32Array {
  checkShape(t, 3, 'An attention matrix');
  const [nh, T, Tk] = t.shape;
  checkIndex(h, nh, 'head');
  return t.data.subarray(h * T * Tk, (h + 1) * T * Tk);
}

// Token i's vector in head h of q, k or v (nh, T, hs): (hs)
export function headVector(t: TracedTensor, h: number, i: number): Float32Array {
  checkShape(t, 3, 'A query, key or value tensor');
  const [nh, T, hs] = t.shape;
  checkIndex(h, nh, 'head');
  checkIndex(i, T, 'position');
  return t.data.subarray((h * T + i) * hs, (h * T + i + 1) * hs);
}

// Head h's columns of token i in a (T, C) tensor whose heads sit side by side (attn.heads): (hs)
export function headSlice(t: TracedTensor, h: number, i: number, nh: number): Float32Array {
  checkShape(t, 2, 'A (T, C) tensor');
  const [T, C] = t.shape;
  if (!Number.isInteger(nh) || nh < 1 || C % nh !== 0) throw new EngineError('bad_shape', `${C} channels do not split into ${nh} heads.`);
  const hs = C / nh;
  checkIndex(h, nh, 'head');
  checkIndex(i, T, 'position');
  return t.data.subarray(i * C + h * hs, i * C + (h + 1) * hs);
}

export interface SoftmaxSteps {
  max: number; // the largest finite score: subtracting it keeps every exponential at most 1
  exps: Float64Array; // exp(s - max) per key; 0 where the score is −∞ (masked)
  sum: number; // Σ exp(s - max)
  weights: Float64Array; // exp(s - max) / sum: positive where not masked, adding up to 1
}

// Softmax of one row of (masked) scores, keeping each intermediate, as the worked example shows it.
export function softmaxSteps(row: ArrayLike<number>): SoftmaxSteps {
  let max = -Infinity;
  for (let j = 0; j < row.length; j++) {
    const s = row[j];
    if (Number.isNaN(s) || s === Infinity) throw new EngineError('bad_score', `Score ${j} is ${Number.isNaN(s) ? 'not a number' : 'infinite'}.`);
    if (s > max) max = s;
  }
  if (max === -Infinity) throw new EngineError('all_masked', 'Every score in this row is masked (−∞): softmax needs at least one key to attend to.');
  const exps = new Float64Array(row.length);
  let sum = 0;
  for (let j = 0; j < row.length; j++) {
    exps[j] = row[j] === -Infinity ? 0 : Math.exp(row[j] - max);
    sum += exps[j];
  }
  const weights = exps.map((e) => e / sum);
  return { max, exps, sum, weights };
}

export interface DotProduct {
  terms: Float64Array; // q[d] * k[d] per dimension
  dot: number; // Σ terms
  score: number; // dot / √d_k, d_k = hs
}

// score(i, j) = q_i · k_j / √d_k, with the products it sums.
export function scaledDot(q: ArrayLike<number>, k: ArrayLike<number>): DotProduct {
  if (q.length !== k.length || q.length === 0) {
    throw new EngineError('bad_shape', `A query and a key must have the same nonzero length, got ${q.length} and ${k.length}.`);
  }
  const terms = new Float64Array(q.length);
  let dot = 0;
  for (let d = 0; d < q.length; d++) {
    terms[d] = q[d] * k[d];
    dot += terms[d];
  }
  return { terms, dot, score: dot / Math.sqrt(q.length) };
}

// Σ_j w_j v_j: a query's output in one head, from its weights (Tk) and that head's values (Tk, hs).
export function blendValues(weights: ArrayLike<number>, values: ArrayLike<number>, hs: number): Float64Array {
  const Tk = weights.length;
  if (!Number.isInteger(hs) || hs < 1 || values.length !== Tk * hs) {
    throw new EngineError('bad_shape', `${Tk} weights need ${Tk} value vectors of ${hs} numbers (${Tk * hs} in all), got ${values.length}.`);
  }
  const out = new Float64Array(hs); // (hs)
  for (let j = 0; j < Tk; j++) {
    const w = weights[j];
    if (w === 0) continue; // a masked key adds nothing
    for (let d = 0; d < hs; d++) out[d] += w * values[j * hs + d];
  }
  return out;
}

export type HeadPattern = 'previous' | 'first';

export interface PatternShare {
  share: number; // the mean weight, over queries 1..T-1, on the pattern's key
  even: number; // the same mean if every query spread its weight evenly over the keys it sees
}

// How much of its attention a head gives, on average, to the token just before each query
// ('previous') or to the text's first token ('first'). Query 0 sees only itself, so it is left
// out. weights: one head's (T, T) causal matrix.
export function patternShare(weights: ArrayLike<number>, T: number, pattern: HeadPattern): PatternShare {
  if (!Number.isInteger(T) || T < 2) throw new EngineError('too_short', 'A head’s pattern needs a text of at least two tokens.');
  if (weights.length !== T * T) throw new EngineError('bad_shape', `A (T, T) matrix for T = ${T} has ${T * T} numbers, got ${weights.length}.`);
  let share = 0;
  let even = 0;
  for (let i = 1; i < T; i++) {
    share += weights[i * T + (pattern === 'previous' ? i - 1 : 0)];
    even += 1 / (i + 1);
  }
  return { share: share / (T - 1), even: even / (T - 1) };
}

export interface StrongestHead extends PatternShare {
  layer: number;
  head: number;
}

// The head, over every layer, that follows a pattern most: layers[l] is layer l's attn.weights
// (nh, T, T) for a text with no cached tokens.
export function strongestHead(layers: TracedTensor[], pattern: HeadPattern): StrongestHead {
  if (layers.length === 0) throw new EngineError('bad_shape', 'No layers to look at.');
  let best: StrongestHead | null = null;
  layers.forEach((t, layer) => {
    checkShape(t, 3, 'An attention matrix');
    const [nh, T, Tk] = t.shape;
    if (Tk !== T) throw new EngineError('bad_shape', `Expected square (T, T) matrices per head, got (${T}, ${Tk}).`);
    for (let head = 0; head < nh; head++) {
      const s = patternShare(headMatrix(t, head), T, pattern);
      if (!best || s.share > best.share) best = { layer, head, ...s };
    }
  });
  return best!;
}
