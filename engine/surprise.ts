// Surprise: how many nats each actual next token cost the model, −log P(token | text before it),
// read off the logits of one forward pass. Their mean is the cross-entropy loss that training
// minimises, so a figure can show a text's loss token by token.
//
// Legend: T time (tokens), V vocab.
import { EngineError } from './errors';

// −log softmax(logits[t])[targets[t]] for every t, in float64 (a log-sum-exp with the row's max
// taken out first, so a score of 80 does not overflow).
export function tokenSurprise(logits: Float32Array, targets: ArrayLike<number>, V: number): Float64Array {
  const T = targets.length;
  if (!Number.isInteger(V) || V < 1 || logits.length < T * V) {
    throw new EngineError('bad_argument', `tokenSurprise needs (T, V) logits for ${T} targets of vocabulary ${V}, got ${logits.length} numbers.`);
  }
  const out = new Float64Array(T); // (T)
  for (let t = 0; t < T; t++) {
    const row = logits.subarray(t * V, (t + 1) * V); // (V)
    const target = targets[t];
    if (!Number.isInteger(target) || target < 0 || target >= V) throw new EngineError('bad_token', `Target ${target} at position ${t} is not a token id below ${V}.`);
    let max = -Infinity;
    for (let i = 0; i < V; i++) if (row[i] > max) max = row[i];
    let sum = 0;
    for (let i = 0; i < V; i++) sum += Math.exp(row[i] - max);
    out[t] = max + Math.log(sum) - row[target];
  }
  return out;
}

// The mean of the surprises: the cross-entropy in nats per token (NaN for no tokens).
export function meanNats(nats: ArrayLike<number>): number {
  if (nats.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < nats.length; i++) s += nats[i];
  return s / nats.length;
}
