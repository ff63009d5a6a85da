// Held-out loss of a model over one long token stream, with a sliding window: the model sees at
// most T tokens at once, so the stream is cut into windows of T that overlap by T - stride, and
// each token is scored once, in the first window where it has at least T - stride tokens of
// context (the very first window scores all of its tokens). It runs the training forward pass,
// batched, so the fast kernels do the work.
import { EngineError } from '../errors';
import { trainForward, type TrainState } from './gpt-train';

export interface StreamLoss {
  nats: number; // summed cross-entropy of every predicted token
  tokens: number; // how many tokens were predicted: all but the first
}

export function streamLoss(
  s: TrainState, tokens: Int32Array, stride = Math.max(1, s.T >> 1), onBatch?: (done: number, total: number) => void
): StreamLoss {
  const { B, T } = s;
  const N = tokens.length;
  if (N < T + 1) throw new EngineError('bad_data', `The stream (${N} tokens) is shorter than one window of ${T + 1}.`);
  if (!Number.isInteger(stride) || stride < 1 || stride > T) throw new EngineError('bad_argument', `stride must be 1..${T}, got ${stride}.`);
  // windows [start, start + T] (T inputs, T targets); `from` is the first target this window scores
  const windows: { start: number; from: number }[] = [];
  let next = 1; // first target index not yet scored
  for (let start = 0; next <= N - 1; start += stride) {
    const st = Math.min(start, N - 1 - T);
    windows.push({ start: st, from: next - (st + 1) });
    next = st + T + 1;
  }
  const inputs = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  let nats = 0;
  let count = 0;
  for (let w0 = 0; w0 < windows.length; w0 += B) {
    for (let b = 0; b < B; b++) {
      const { start } = windows[Math.min(w0 + b, windows.length - 1)]; // a short last batch repeats a window, unscored
      inputs.set(tokens.subarray(start, start + T), b * T);
      targets.set(tokens.subarray(start + 1, start + T + 1), b * T);
    }
    trainForward(s, inputs, targets);
    for (let b = 0; b < B && w0 + b < windows.length; b++) {
      for (let t = windows[w0 + b].from; t < T; t++) {
        nats += s.acts.losses[b * T + t];
        count++;
      }
    }
    onBatch?.(Math.min(w0 + B, windows.length), windows.length);
  }
  return { nats, tokens: count };
}
