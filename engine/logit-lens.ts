// The logit lens: read the residual stream part-way through the model as if it were the last
// layer's output. The final LayerNorm (ln_f) and the tied output head (wte) turn any (C) vector of
// the stream into a distribution over the vocabulary, so applying them after the embedding and
// after each block shows the next-token guess forming layer by layer. After the last block the
// lens is exactly the model's own output.
import type { Weights } from './gpt';
import { EngineError } from './errors';
import { layernormForward, matmulTransposedForward, softmaxRows } from './kernels';

export interface LensGuess {
  id: number;
  p: number; // probability at temperature 1
  logit: number;
}

// Logits (N, V) of N residual vectors (N, C) through ln_f and the head.
export function lensLogits(model: Weights, residual: Float32Array, N: number): Float32Array {
  const { config, params: p } = model;
  const C = config.n_embd;
  const V = config.vocab_size;
  if (residual.length !== N * C) {
    throw new EngineError('bad_shape', `The logit lens needs ${N} vectors of ${C} numbers, got ${residual.length} numbers.`);
  }
  const ln = new Float32Array(N * C); // (N, C)
  layernormForward(ln, null, null, residual, p['ln_f.weight'], p['ln_f.bias'], N, C, config.layer_norm_epsilon);
  const logits = new Float32Array(N * V); // (N, V)
  matmulTransposedForward(logits, ln, p['wte.weight'], N, C, V);
  return logits;
}

// The k most likely tokens of each row of logits (N, V), most likely first (ties by id).
export function topGuesses(logits: Float32Array, N: number, V: number, k: number): LensGuess[][] {
  if (!Number.isInteger(k) || k < 1) throw new EngineError('bad_argument', `The number of guesses must be a whole number of at least 1, got ${k}.`);
  const probs = logits.slice(); // (N, V)
  softmaxRows(probs, N, V);
  const rows: LensGuess[][] = [];
  for (let n = 0; n < N; n++) {
    const o = n * V;
    const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => probs[o + b] - probs[o + a] || a - b);
    rows.push(order.slice(0, Math.min(k, V)).map((id) => ({ id, p: probs[o + id], logit: logits[o + id] })));
  }
  return rows;
}

// The lens at one position for a stack of residual vectors: `stream` is (L+1, C), the embedding x0
// and then res2 of each layer, all for that position. Row 0 is the embedding's guess, row l+1 the
// guess after block l.
export function logitLens(model: Weights, stream: Float32Array, k: number): LensGuess[][] {
  const C = model.config.n_embd;
  const N = stream.length / C;
  return topGuesses(lensLogits(model, stream, N), N, model.config.vocab_size, k);
}
