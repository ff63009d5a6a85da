// AdamW (Loshchilov & Hutter 2019, "Decoupled Weight Decay Regularization"): Adam's update, with
// the weight decay applied to the weights directly instead of being added to the gradient, so
// decay does not get rescaled by Adam's per-parameter step size. Plus the two things every GPT
// training run has around it: a learning-rate schedule and gradient clipping.
//
// Which parameters decay: the matrices (linear weights, and the wte and wpe embeddings), as in
// nanoGPT's configure_optimizers (every parameter of 2 or more dimensions). Biases and LayerNorm
// gains and shifts do not: shrinking a gain towards 0 is not a simpler model, just a different one.
import type { AdamWKernel, TrainKernels } from './gpt-train';

export interface AdamWOptions {
  beta1: number; // decay of the running mean of gradients
  beta2: number; // decay of the running mean of squared gradients
  eps: number;
  weightDecay: number; // decoupled: p -= lr·weightDecay·p on the decayed ranges
}

// The optimizer's state and update. Given a kernel table with an adamw kernel ('wasm-simd-fused'),
// the moments live in its memory and the update runs there (in f32); otherwise the loop below
// (f64 arithmetic, rounded once per value) does it.
export class AdamW {
  readonly m: Float32Array; // first moment, same layout as the parameters
  readonly v: Float32Array; // second moment
  t = 0; // updates done so far (for the bias correction)
  private readonly decay: Uint8Array; // 1 where weight decay applies
  private readonly decayMask: Float32Array | null = null; // the same as floats, for the kernel
  private readonly kernel: AdamWKernel | null = null;

  constructor(
    n: number,
    readonly opts: AdamWOptions,
    decayRanges: [offset: number, length: number][] = [[0, n]],
    kernels?: Pick<TrainKernels, 'adamw' | 'alloc'>
  ) {
    this.decay = new Uint8Array(n);
    for (const [off, len] of decayRanges) this.decay.fill(1, off, off + len);
    if (kernels?.adamw && n % 4 === 0) {
      this.kernel = kernels.adamw;
      this.m = kernels.alloc(n);
      this.v = kernels.alloc(n);
      this.decayMask = kernels.alloc(n);
      for (const [off, len] of decayRanges) this.decayMask.fill(1, off, off + len);
    } else {
      this.m = new Float32Array(n);
      this.v = new Float32Array(n);
    }
  }

  step(params: Float32Array, grads: Float32Array, lr: number): void {
    const { beta1, beta2, eps, weightDecay } = this.opts;
    const { m, v, decay } = this;
    this.t++;
    // the moments start at 0, so early on they underestimate; dividing by 1 - β^t corrects that
    const c1 = 1 - beta1 ** this.t;
    const c2 = 1 - beta2 ** this.t;
    if (this.kernel) {
      this.kernel(params, grads, m, v, this.decayMask!, params.length, lr, beta1, beta2, eps, weightDecay, c1, c2);
      return;
    }
    for (let i = 0; i < params.length; i++) {
      const g = grads[i];
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      const mHat = m[i] / c1;
      const vHat = v[i] / c2;
      params[i] -= lr * (mHat / (Math.sqrt(vHat) + eps) + (decay[i] ? weightDecay * params[i] : 0));
    }
  }
}

export interface Schedule {
  maxLr: number;
  minLr: number;
  warmupSteps: number;
  totalSteps: number;
}

// Linear warmup from 0 (the first updates, from random weights, have the noisiest gradients and
// Adam's moment estimates are not settled yet), then a cosine decay from maxLr to minLr.
export function learningRate(step: number, s: Schedule): number {
  if (step < s.warmupSteps) return (s.maxLr * (step + 1)) / s.warmupSteps;
  if (step >= s.totalSteps) return s.minLr;
  const progress = (step - s.warmupSteps) / Math.max(1, s.totalSteps - s.warmupSteps);
  return s.minLr + 0.5 * (s.maxLr - s.minLr) * (1 + Math.cos(Math.PI * progress));
}

// Scale all gradients down together when their global L2 norm exceeds maxNorm, so one unlucky
// batch cannot throw the weights far; the direction is kept. Returns the norm before clipping.
export function clipGradNorm(grads: Float32Array, maxNorm: number): number {
  let sq = 0;
  for (let i = 0; i < grads.length; i++) sq += grads[i] * grads[i];
  const norm = Math.sqrt(sq);
  if (norm > maxNorm && maxNorm > 0) {
    const k = maxNorm / norm;
    for (let i = 0; i < grads.length; i++) grads[i] *= k;
  }
  return norm;
}
