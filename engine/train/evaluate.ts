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
  const scorer = new StreamScorer(s, tokens, stride);
  while (!scorer.done) {
    scorer.next();
    onBatch?.(scorer.scored, scorer.windows.length);
  }
  return { nats: scorer.nats, tokens: scorer.tokens };
}

// The same scoring one batch of B windows at a time, so a caller that must stay responsive (the
// page's worker) can yield between batches. The sums run in the same order as in one go.
export class StreamScorer {
  readonly windows: { start: number; from: number }[] = []; // [start, start + T]; `from`: first target it scores
  scored = 0; // windows done
  nats = 0;
  tokens = 0;
  readonly #inputs: Int32Array; // (B, T)
  readonly #targets: Int32Array; // (B, T)

  constructor(
    readonly s: TrainState, readonly stream: Int32Array, stride = Math.max(1, s.T >> 1)
  ) {
    const { B, T } = s;
    const N = stream.length;
    if (N < T + 1) throw new EngineError('bad_data', `The stream (${N} tokens) is shorter than one window of ${T + 1}.`);
    if (!Number.isInteger(stride) || stride < 1 || stride > T) throw new EngineError('bad_argument', `stride must be 1..${T}, got ${stride}.`);
    let next = 1; // first target index not yet scored
    for (let start = 0; next <= N - 1; start += stride) {
      const st = Math.min(start, N - 1 - T);
      this.windows.push({ start: st, from: next - (st + 1) });
      next = st + T + 1;
    }
    this.#inputs = new Int32Array(B * T);
    this.#targets = new Int32Array(B * T);
  }

  get done(): boolean {
    return this.scored >= this.windows.length;
  }

  // Score the next batch of windows.
  next(): void {
    const { s, stream, windows } = this;
    const { B, T } = s;
    const w0 = this.scored;
    for (let b = 0; b < B; b++) {
      const { start } = windows[Math.min(w0 + b, windows.length - 1)]; // a short last batch repeats a window, unscored
      this.#inputs.set(stream.subarray(start, start + T), b * T);
      this.#targets.set(stream.subarray(start + 1, start + T + 1), b * T);
    }
    trainForward(s, this.#inputs, this.#targets);
    for (let b = 0; b < B && w0 + b < windows.length; b++) {
      for (let t = windows[w0 + b].from; t < T; t++) {
        this.nats += s.acts.losses[b * T + t];
        this.tokens++;
      }
    }
    this.scored = Math.min(w0 + B, windows.length);
  }
}
