// The training engine: every backward kernel and the whole model's gradient against finite
// differences (in float64: the kernels are plain loops, so handing them Float64Arrays runs the
// same code at double precision, and a central difference is then accurate to ~1e-9), the whole
// model against tfjs autodiff on the same weights (float32), AdamW and its schedule, the data
// loader, bit-identical resume from a checkpoint, and short training runs whose loss falls.
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeConfig, type GPTConfig } from '../../engine/config';
import { EngineError } from '../../engine/errors';
import { forward } from '../../engine/gpt';
import {
  causalAttentionBackward, causalAttentionForward, crossEntropyBackward, crossEntropyForward, encoderBackward,
  encoderForward, geluBackward, geluForward, layernormBackward, layernormForward, matmulBackward, matmulForward,
  matmulTransposedBackward, matmulTransposedForward, residualBackward, residualForward
} from '../../engine/kernels';
import { initParams } from '../../engine/model';
import { Rng } from '../../engine/sampling';
import { AdamW, clipGradNorm, learningRate } from '../../engine/train/adamw';
import { attentionBackward, attentionForward, createAttentionScratch } from '../../engine/train/attention';
import { DataLoader, tokenStream } from '../../engine/train/data';
import { streamLoss } from '../../engine/train/evaluate';
import {
  createTrainState, getParams, referenceKernels, setParams, trainBackward, trainForward, trainStateFloats, wasmKernels, type TrainKernels
} from '../../engine/train/gpt-train';
import { quick } from '../../engine/train/recipes';
import { Trainer, trainSteps, type TrainRecipe } from '../../engine/train/train';
import { tfjsLossAndGrads } from '../reference/tfjs-gpt';

type F = Float32Array; // the kernels' declared type; the float64 checks pass Float64Arrays as F
const f64 = (n: number, rng?: Rng, scale = 1): F => {
  const a = new Float64Array(n);
  if (rng) for (let i = 0; i < n; i++) a[i] = scale * rng.normal();
  return a as unknown as F;
};
const float64Kernels: TrainKernels = { ...referenceKernels, name: 'float64', alloc: (n) => f64(n) };

// Check d(Σ out·dout)/d(x) from `backward` against central differences of `forward`, for every
// input in `wrt`. forward() recomputes the outputs from the current inputs and returns Σ out·dout.
function gradCheck(
  wrt: Record<string, { x: F; dx: F }>, forwardDot: () => number, backward: () => void, h = 1e-6
): number {
  for (const { dx } of Object.values(wrt)) dx.fill(0);
  backward();
  let worst = 0;
  for (const [name, { x, dx }] of Object.entries(wrt)) {
    let scale = 0;
    for (let i = 0; i < dx.length; i++) scale = Math.max(scale, Math.abs(dx[i]));
    for (let i = 0; i < x.length; i++) {
      const old = x[i];
      x[i] = old + h;
      const up = forwardDot();
      x[i] = old - h;
      const down = forwardDot();
      x[i] = old;
      const fd = (up - down) / (2 * h);
      const err = Math.abs(fd - dx[i]) / Math.max(scale, 1e-12);
      worst = Math.max(worst, err);
      if (err > 1e-6) throw new Error(`${name}[${i}]: analytic ${dx[i]}, finite difference ${fd}`);
    }
  }
  return worst;
}

const dot = (a: F, b: F) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

describe('backward kernels against finite differences (float64)', () => {
  const rng = new Rng(42);
  const report = (name: string, worst: number) => console.log(`${name}: max |analytic - finite difference| / max |gradient| = ${worst.toExponential(2)}`);

  it('matmulBackward: input, weight and bias gradients of x @ W + b', () => {
    const [N, IC, OC] = [3, 4, 5];
    const inp = f64(N * IC, rng), w = f64(IC * OC, rng), b = f64(OC, rng), dout = f64(N * OC, rng), out = f64(N * OC);
    const dinp = f64(N * IC), dw = f64(IC * OC), db = f64(OC);
    const fwd = () => (matmulForward(out, inp, w, b, N, IC, OC), dot(out, dout));
    report('matmulBackward', gradCheck({ inp: { x: inp, dx: dinp }, w: { x: w, dx: dw }, b: { x: b, dx: db } }, fwd, () => matmulBackward(dinp, dw, db, dout, inp, w, N, IC, OC)));
  });

  it('matmulTransposedBackward: input and weight gradients of x @ Wᵀ (the tied head)', () => {
    const [N, IC, OC] = [3, 4, 6];
    const inp = f64(N * IC, rng), w = f64(OC * IC, rng), dout = f64(N * OC, rng), out = f64(N * OC);
    const dinp = f64(N * IC), dw = f64(OC * IC);
    const fwd = () => (matmulTransposedForward(out, inp, w, N, IC, OC), dot(out, dout));
    report('matmulTransposedBackward', gradCheck({ inp: { x: inp, dx: dinp }, w: { x: w, dx: dw } }, fwd, () => matmulTransposedBackward(dinp, dw, dout, inp, w, N, IC, OC)));
  });

  it('layernormBackward: input, gain and shift gradients, including a row with a large mean', () => {
    const [N, C] = [3, 6];
    const inp = f64(N * C, rng), w = f64(C, rng), b = f64(C, rng), dout = f64(N * C, rng);
    for (let i = 0; i < C; i++) inp[C + i] += 100; // row 1 sits far from 0: the mean must cancel exactly
    const out = f64(N * C), mean = f64(N), rstd = f64(N);
    const dinp = f64(N * C), dw = f64(C), db = f64(C);
    const fwd = () => (layernormForward(out, mean, rstd, inp, w, b, N, C, 1e-5), dot(out, dout));
    fwd();
    report('layernormBackward', gradCheck({ inp: { x: inp, dx: dinp }, w: { x: w, dx: dw }, b: { x: b, dx: db } }, fwd, () => layernormBackward(dinp, dw, db, dout, inp, w, mean, rstd, N, C)));
  });

  it('geluBackward: over negative, zero and positive inputs, including the far tails', () => {
    const inp = Float64Array.from([-8, -3, -1, -0.5, 0, 0.1, 0.7, 2, 6]) as unknown as F;
    const n = inp.length;
    const dout = f64(n, rng), out = f64(n), dinp = f64(n);
    const fwd = () => (geluForward(out, inp, n), dot(out, dout));
    report('geluBackward', gradCheck({ inp: { x: inp, dx: dinp } }, fwd, () => geluBackward(dinp, inp, dout, n)));
  });

  it('residualBackward: the gradient reaches both branches unchanged', () => {
    const n = 5;
    const a = f64(n, rng), b = f64(n, rng), dout = f64(n, rng), out = f64(n), da = f64(n), db = f64(n);
    const fwd = () => (residualForward(out, a, b, n), dot(out, dout));
    report('residualBackward', gradCheck({ a: { x: a, dx: da }, b: { x: b, dx: db } }, fwd, () => residualBackward(da, db, dout, n)));
  });

  it('encoderBackward: a token repeated in the batch sums its gradients into one wte row', () => {
    const [B, T, C, V] = [2, 3, 4, 5];
    const ids = Int32Array.from([1, 3, 1, 4, 1, 0]);
    const wte = f64(V * C, rng), wpe = f64(T * C, rng), dout = f64(B * T * C, rng), out = f64(B * T * C);
    const dwte = f64(V * C), dwpe = f64(T * C);
    const fwd = () => (encoderForward(out, ids, wte, wpe, B, T, C), dot(out, dout));
    report('encoderBackward', gradCheck({ wte: { x: wte, dx: dwte }, wpe: { x: wpe, dx: dwpe } }, fwd, () => encoderBackward(dwte, dwpe, dout, ids, B, T, C)));
  });

  it('crossEntropyBackward: the gradient of Σ dloss·loss through the fused softmax', () => {
    const [N, V] = [3, 7];
    const logits = f64(N * V, rng, 3), targets = Int32Array.from([0, 6, 3]), dl = f64(N, rng);
    const losses = f64(N), probs = f64(N * V), dlogits = f64(N * V);
    const fwd = () => (crossEntropyForward(losses, probs, logits, targets, N, V), dot(losses, dl));
    fwd();
    report('crossEntropyBackward', gradCheck({ logits: { x: logits, dx: dlogits } }, fwd, () => crossEntropyBackward(dlogits, probs, targets, dl, N, V)));
  });

  it('crossEntropyForward in place (probs = logits) gives the same losses as out of place', () => {
    const [N, V] = [2, 5];
    const logits = new Float32Array([1, 2, 3, 4, 5, -1, 0, 1, 30, -30]);
    const targets = Int32Array.from([4, 9 % V]);
    const a = new Float32Array(N), b = new Float32Array(N), probs = new Float32Array(N * V);
    crossEntropyForward(a, probs, logits, targets, N, V);
    const inPlace = logits.slice();
    crossEntropyForward(b, inPlace, inPlace, targets, N, V);
    expect(b).toEqual(a);
    expect(inPlace).toEqual(probs);
  });

  it('causalAttentionBackward: q, k and v gradients, and no gradient flows from the future', () => {
    const [B, T, C, nh] = [2, 4, 6, 2];
    const qkv = f64(B * T * 3 * C, rng), dout = f64(B * T * C, rng), out = f64(B * T * C), att = f64(B * nh * T * T);
    const dqkv = f64(B * T * 3 * C);
    const fwd = () => (causalAttentionForward(out, att, qkv, B, T, C, nh), dot(out, dout));
    fwd();
    report('causalAttentionBackward', gradCheck({ qkv: { x: qkv, dx: dqkv } }, fwd, () => causalAttentionBackward(dqkv, dout, qkv, att, B, T, C, nh)));
    // the output of the first token depends on nothing after it
    const d0 = f64(B * T * C);
    for (let i = 0; i < C; i++) d0[i] = 1;
    const g = f64(B * T * 3 * C);
    causalAttentionBackward(g, d0, qkv, att, B, T, C, nh);
    for (let t = 1; t < T; t++) for (let i = 0; i < 3 * C; i++) expect(g[t * 3 * C + i]).toBe(0);
  });
});

describe('matmul attention (engine/train/attention.ts) equals the plain-loop specification', () => {
  const [B, T, C, nh] = [2, 5, 8, 2];
  const rng = new Rng(9);
  const qkv = f64(B * T * 3 * C, rng), dout = f64(B * T * C, rng);
  const ref = { out: f64(B * T * C), att: f64(B * nh * T * T), dqkv: f64(B * T * 3 * C) };
  causalAttentionForward(ref.out, ref.att, qkv, B, T, C, nh);
  causalAttentionBackward(ref.dqkv, dout, qkv, ref.att, B, T, C, nh);

  const run = (k: TrainKernels) => {
    const a = (x: F) => { const y = k.alloc(x.length); y.set(x); return y; };
    const s = createAttentionScratch(k, B, T, C);
    const out = k.alloc(B * T * C), att = k.alloc(B * nh * T * T), dqkv = k.alloc(B * T * 3 * C);
    const q = a(qkv), d = a(dout);
    attentionForward(k, s, out, att, q, B, T, C, nh);
    attentionBackward(k, s, dqkv, d, q, att, B, T, C, nh);
    return { out, att, dqkv };
  };
  const worst = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let m = 0, scale = 0;
    for (let i = 0; i < a.length; i++) { m = Math.max(m, Math.abs(a[i] - b[i])); scale = Math.max(scale, Math.abs(b[i])); }
    return m / scale;
  };

  it('in float64 with the reference matmuls: equal to rounding', () => {
    const r = run(float64Kernels);
    for (const key of ['out', 'att', 'dqkv'] as const) expect(worst(r[key], ref[key])).toBeLessThan(1e-12);
  });

  it('in float32 with the WASM SIMD matmuls: within float32 rounding', async () => {
    const r = run(await wasmKernels(64 * 2 ** 20));
    const d = { out: worst(r.out, ref.out), att: worst(r.att, ref.att), dqkv: worst(r.dqkv, ref.dqkv) };
    console.log(`WASM matmul attention vs float64 loops: out ${d.out.toExponential(2)}, weights ${d.att.toExponential(2)}, dqkv ${d.dqkv.toExponential(2)}`);
    for (const v of Object.values(d)) expect(v).toBeLessThan(1e-5);
  });
});

// Random ids and targets (B, T) for a config.
function batch(config: GPTConfig, B: number, T: number, seed: number): { inputs: number[]; targets: number[] } {
  const rng = new Rng(seed);
  const draw = () => Array.from({ length: B * T }, () => Math.floor(rng.next() * config.vocab_size));
  return { inputs: draw(), targets: draw() };
}

// GPT-2 init is so small that most gradients are ~1e-4 and LayerNorm gains sit at 1; random
// weights of order 0.3 exercise every path with gradients of order 1.
function busyParams(config: GPTConfig, seed: number) {
  const p = initParams(config, seed);
  const rng = new Rng(seed + 100);
  for (const x of Object.values(p)) for (let i = 0; i < x.length; i++) x[i] += 0.3 * rng.normal();
  return p;
}

describe('trainStateFloats', () => {
  it('is what createTrainState really allocates, for shapes unlike each other', () => {
    for (const [B, T, shape] of [[2, 16, {}], [1, 7, { n_layer: 3, n_head: 4, n_embd: 16 }], [3, 32, { vocab_size: 300, n_positions: 32 }]] as const) {
      const config = makeConfig('micro', shape);
      let real = 0;
      createTrainState(config, B, T, { ...referenceKernels, alloc: (n) => ((real += n), new Float32Array(n)) });
      expect(trainStateFloats(config, B, T)).toBe(real);
      expect(real).toBeGreaterThan(2 * config.n_embd * config.vocab_size); // at least the token table and its gradient
    }
  });
});

describe('the whole model', () => {
  const config = makeConfig('micro');
  const [B, T] = [2, 8];

  it('every parameter\'s gradient equals a finite difference of the loss (micro preset, float64)', () => {
    const s = createTrainState(config, B, T, float64Kernels);
    setParams(s, busyParams(config, 3));
    const { inputs, targets } = batch(config, B, T, 5);
    trainForward(s, inputs, targets);
    trainBackward(s);
    const grads = s.grads.slice();
    let scale = 0;
    for (const g of grads) scale = Math.max(scale, Math.abs(g));
    let worst = 0;
    const h = 1e-6;
    for (let i = 0; i < s.params.length; i++) {
      const old = s.params[i];
      s.params[i] = old + h;
      const up = trainForward(s, inputs, targets);
      s.params[i] = old - h;
      const down = trainForward(s, inputs, targets);
      s.params[i] = old;
      worst = Math.max(worst, Math.abs((up - down) / (2 * h) - grads[i]) / scale);
    }
    console.log(`whole model (micro, ${s.params.length} parameters) vs finite differences: max |difference| / max |gradient| = ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-7);
  });

  it('loss and every gradient match tfjs autodiff on the same random weights (float32)', async () => {
    await tf.setBackend('cpu');
    const cfg = makeConfig('micro', { n_embd: 16, n_head: 4 });
    const [b, t] = [2, 6];
    const params = busyParams(cfg, 11);
    const { inputs, targets } = batch(cfg, b, t, 12);
    const rows = (x: number[]) => Array.from({ length: b }, (_, i) => x.slice(i * t, (i + 1) * t));
    const ref = tfjsLossAndGrads(cfg, params, rows(inputs), rows(targets));
    const s = createTrainState(cfg, b, t);
    setParams(s, params);
    const loss = trainForward(s, inputs, targets);
    trainBackward(s);
    // per tensor: max |ours - tfjs| / max |tfjs| (relative to the tensor's scale, since single
    // entries near 0 have no meaningful relative error)
    let worst = 0;
    let worstName = '';
    for (const [name, g] of Object.entries(ref.grads)) {
      let diff = 0, scale = 0;
      for (let i = 0; i < g.length; i++) { diff = Math.max(diff, Math.abs(s.g[name][i] - g[i])); scale = Math.max(scale, Math.abs(g[i])); }
      if (diff / scale > worst) [worst, worstName] = [diff / scale, name];
    }
    const lossRel = Math.abs(loss - ref.loss) / ref.loss;
    console.log(`vs tfjs autodiff: loss ${loss.toFixed(6)} vs ${ref.loss.toFixed(6)} (relative ${lossRel.toExponential(2)}); ` +
      `gradients: max relative difference ${worst.toExponential(2)} (${worstName}) over ${Object.keys(ref.grads).length} tensors`);
    expect(Object.keys(ref.grads).sort()).toEqual(Object.keys(s.g).sort());
    expect(lossRel).toBeLessThanOrEqual(1e-4);
    expect(worst).toBeLessThanOrEqual(1e-4);
  });

  it('the training forward gives the same probabilities as the inference forward (gpt.ts)', () => {
    const params = busyParams(config, 4);
    const s = createTrainState(config, 1, T);
    setParams(s, params);
    const { inputs, targets } = batch(config, 1, T, 6);
    trainForward(s, inputs, targets);
    const { logits } = forward({ config, params }, inputs);
    const V = config.vocab_size;
    let worst = 0;
    for (let t = 0; t < T; t++) {
      const row = logits.subarray(t * V, (t + 1) * V);
      const max = Math.max(...row);
      const sum = row.reduce((a, z) => a + Math.exp(z - max), 0);
      for (let i = 0; i < V; i++) worst = Math.max(worst, Math.abs(Math.exp(row[i] - max) / sum - s.acts.logits[t * V + i]));
    }
    expect(worst).toBeLessThan(1e-6);
  });

  it('the tied wte gets the sum of its head and embedding gradients', () => {
    const s = createTrainState(config, B, T, float64Kernels);
    setParams(s, busyParams(config, 8));
    const { inputs, targets } = batch(config, B, T, 9);
    trainForward(s, inputs, targets);
    trainBackward(s);
    const total = s.g['wte.weight'].slice();
    // the head's share alone: d(loss)/d(wte) through logits = lnf @ wteᵀ
    const C = config.n_embd, V = config.vocab_size, N = B * T;
    const dlogits = f64(N * V), dlnf = f64(N * C), head = f64(V * C);
    crossEntropyBackward(dlogits, s.acts.logits, s.targets, s.dacts.dlosses, N, V);
    matmulTransposedBackward(dlnf, head, dlogits, s.acts.lnf, s.p['wte.weight'], N, C, V);
    // the rest must be exactly what the embedding sent back: row v gets d(encoded) of every
    // position whose input token is v, and rows of tokens not in the batch get nothing more
    const embedding = f64(V * C);
    inputs.forEach((v, n) => { for (let i = 0; i < C; i++) embedding[v * C + i] += s.dacts.encoded[n * C + i]; });
    let worst = 0;
    for (let j = 0; j < V * C; j++) worst = Math.max(worst, Math.abs(total[j] - head[j] - embedding[j]));
    expect(worst).toBeLessThan(1e-12);
    expect(new Set(inputs).size).toBeLessThan(V); // some rows get the head's gradient only
  });

  it('rejects a token outside the vocabulary and sequences longer than the context', () => {
    const s = createTrainState(config, 1, 4);
    expect(() => trainForward(s, [0, 1, 2, config.vocab_size], [0, 1, 2, 3])).toThrow(EngineError);
    expect(() => trainForward(s, [0, 1, 2], [0, 1, 2])).toThrow(/Expected 4/);
    expect(() => createTrainState(config, 1, config.n_positions + 1)).toThrow(/do not fit/);
  });
});

describe('AdamW, schedule and clipping', () => {
  it('AdamW minimises a quadratic to its minimum', () => {
    // f(x) = Σ a_i (x_i - c_i)², gradient 2 a_i (x_i - c_i), very different curvatures a_i
    const a = [0.01, 1, 100];
    const c = [3, -2, 0.5];
    const x = new Float32Array(3);
    const g = new Float32Array(3);
    const opt = new AdamW(3, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
    for (let step = 0; step < 3000; step++) {
      for (let i = 0; i < 3; i++) g[i] = 2 * a[i] * (x[i] - c[i]);
      opt.step(x, g, learningRate(step, { maxLr: 0.1, minLr: 0.001, warmupSteps: 10, totalSteps: 3000 }));
    }
    for (let i = 0; i < 3; i++) expect(Math.abs(x[i] - c[i])).toBeLessThan(1e-2);
  });

  it('the first step moves every parameter by lr against its gradient sign; decay only where asked', () => {
    const x = new Float32Array([1, 1, 1, 1]);
    const g = new Float32Array([0.5, -2, 1e-3, 0]);
    const opt = new AdamW(4, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.5 }, [[2, 2]]);
    opt.step(x, g, 0.1);
    // bias-corrected m̂/√v̂ = g/|g| on the first step; weight decay lr·0.5·x on entries 2 and 3 only
    expect(x[0]).toBeCloseTo(1 - 0.1, 6);
    expect(x[1]).toBeCloseTo(1 + 0.1, 6);
    expect(x[2]).toBeCloseTo(1 - 0.1 - 0.05, 5);
    expect(x[3]).toBeCloseTo(1 - 0.05, 6); // zero gradient: only the decay
  });

  it('learning rate: linear warmup to the peak, cosine down to the floor, floor after the end', () => {
    const s = { maxLr: 1, minLr: 0.1, warmupSteps: 10, totalSteps: 110 };
    expect(learningRate(0, s)).toBeCloseTo(0.1);
    expect(learningRate(9, s)).toBeCloseTo(1);
    expect(learningRate(10, s)).toBeCloseTo(1);
    expect(learningRate(60, s)).toBeCloseTo(0.55);
    expect(learningRate(109, s)).toBeGreaterThan(0.1);
    expect(learningRate(110, s)).toBe(0.1);
    expect(learningRate(500, s)).toBe(0.1);
  });

  it('gradient clipping scales to the max norm, keeps the direction, and leaves small gradients alone', () => {
    const g = new Float32Array([3, 4]);
    expect(clipGradNorm(g, 1)).toBeCloseTo(5);
    expect(g[0]).toBeCloseTo(0.6);
    expect(g[1]).toBeCloseTo(0.8);
    const small = new Float32Array([0.3, 0.4]);
    expect(clipGradNorm(small, 1)).toBeCloseTo(0.5);
    expect(small).toEqual(new Float32Array([0.3, 0.4]));
  });
});

describe('data', () => {
  const tokens = Int32Array.from({ length: 500 }, (_, i) => i % 97);

  it('targets are the inputs shifted by one, every window inside the stream', () => {
    const dl = new DataLoader(tokens, 4, 16, 1);
    const inputs = new Int32Array(64), targets = new Int32Array(64);
    dl.batch(0, inputs, targets);
    for (let b = 0; b < 4; b++) {
      for (let t = 0; t < 15; t++) expect(targets[b * 16 + t]).toBe(inputs[b * 16 + t + 1]);
      expect(targets[b * 16 + 15]).toBe((inputs[b * 16 + 15] + 1) % 97);
    }
  });

  it('a batch is a function of (seed, step) alone; other steps and seeds differ', () => {
    const get = (seed: number, step: number) => {
      const i = new Int32Array(32), t = new Int32Array(32);
      new DataLoader(tokens, 2, 16, seed).batch(step, i, t);
      return [...i];
    };
    expect(get(1, 5)).toEqual(get(1, 5));
    expect(get(1, 5)).not.toEqual(get(1, 6));
    expect(get(2, 5)).not.toEqual(get(1, 5));
  });

  it('a stream shorter than one window is an error', () => {
    expect(() => new DataLoader(Int32Array.from([1, 2, 3]), 1, 3, 0)).toThrow(EngineError);
  });

  it('tokenStream puts <|endoftext|> before, between and after the paragraphs', () => {
    const s = tokenStream(['ab', 'c'], (t) => [...t].map((ch) => ch.charCodeAt(0)), 0);
    expect([...s]).toEqual([0, 97, 98, 0, 99, 0]);
  });
});

describe('streamLoss (held-out evaluation)', () => {
  const config = makeConfig('micro');

  it('scores every token after the first exactly once, whatever the stride', () => {
    const s = createTrainState(config, 3, 8);
    setParams(s, initParams(config, 1));
    const tokens = Int32Array.from({ length: 45 }, (_, i) => (i * 7) % config.vocab_size);
    for (const stride of [1, 3, 4, 8]) expect(streamLoss(s, tokens, stride).tokens).toBe(44);
  });

  it('with stride = T the windows do not overlap: the sum of the per-window losses', () => {
    const s = createTrainState(config, 2, 8);
    setParams(s, busyParams(config, 2));
    const tokens = Int32Array.from({ length: 17 }, (_, i) => (i * 5) % config.vocab_size);
    const r = streamLoss(s, tokens, 8);
    const one = createTrainState(config, 1, 8);
    setParams(one, busyParams(config, 2));
    const w1 = 8 * trainForward(one, tokens.subarray(0, 8), tokens.subarray(1, 9));
    const w2 = 8 * trainForward(one, tokens.subarray(8, 16), tokens.subarray(9, 17));
    expect(r.nats).toBeCloseTo(w1 + w2, 3);
  });
});

const tinyRecipe: TrainRecipe = { ...quick, name: 'test', nLayer: 1, nEmbd: 16, nHead: 2, nPositions: 16, batchSize: 4, seqLen: 16, steps: 8, warmupSteps: 2 };

describe('training', () => {
  // a small stream with real structure: a repeated sentence in token ids
  const text = 'the cat sat on the mat and the dog sat on the log. ';
  const tokens = Int32Array.from([...text.repeat(40)].map((ch) => ch.charCodeAt(0) % 64));
  const config = makeConfig('micro', { vocab_size: 64, n_positions: 16, n_embd: 16 });

  it('resuming from a checkpoint continues bit for bit', () => {
    const straight = new Trainer(config, tinyRecipe, tokens);
    const lossesA: number[] = [];
    for (let i = 0; i < 8; i++) lossesA.push(straight.next().loss);

    const first = new Trainer(config, tinyRecipe, tokens);
    const lossesB: number[] = [];
    for (let i = 0; i < 4; i++) lossesB.push(first.next().loss);
    const bytes = first.checkpoint({ note: 'x' });
    const resumed = new Trainer(config, tinyRecipe, tokens);
    expect(resumed.restore(bytes).note).toBe('x');
    for (let i = 0; i < 4; i++) lossesB.push(resumed.next().loss);

    expect(lossesB).toEqual(lossesA);
    expect(resumed.state.params).toEqual(straight.state.params);
    expect(resumed.optimizer.m).toEqual(straight.optimizer.m);
    expect(resumed.optimizer.v).toEqual(straight.optimizer.v);
  });

  it('a checkpoint of another recipe is refused', () => {
    const bytes = new Trainer(config, tinyRecipe, tokens).checkpoint();
    expect(() => new Trainer(config, { ...tinyRecipe, maxLr: 0.5 }, tokens).restore(bytes)).toThrow(/different recipe/);
  });

  it('the loss falls on a repetitive text in 40 steps', () => {
    const r = trainSteps(config, tokens, { batchSize: 4, seqLen: 16, steps: 40, warmup: 0, lr: 1e-2 });
    const first = r.losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = r.losses.slice(-5).reduce((a, b) => a + b) / 5;
    console.log(`40 steps: loss ${first.toFixed(3)} -> ${last.toFixed(3)}, ${Math.round(r.tokensPerSec)} tokens/s (reference kernels)`);
    expect(last).toBeLessThan(first - 1);
  });

  it('WASM SIMD and reference kernels train the same model to float32 rounding', async () => {
    const a = new Trainer(config, tinyRecipe, tokens);
    const b = new Trainer(config, tinyRecipe, tokens, await wasmKernels(64 * 2 ** 20));
    for (let i = 0; i < 3; i++) {
      const [la, lb] = [a.next().loss, b.next().loss];
      expect(Math.abs(la - lb)).toBeLessThan(1e-4);
    }
    const pa = getParams(a.state), pb = getParams(b.state);
    for (const name of Object.keys(pa)) for (let i = 0; i < pa[name].length; i++) expect(Math.abs(pa[name][i] - pb[name][i])).toBeLessThan(1e-4);
  });
});

describe('npm run train -- --quick and npm run eval -- --json', () => {
  let quickRun: { out: string; first_loss: number; last_loss: number; val_loss: number; steps: number };
  beforeAll(() => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'engine/cli/train.ts', '--quick'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/step \d+\/\d+ .*loss .*tok\/s.*ETA/); // the progress line
    quickRun = JSON.parse(r.stdout.trim().split('\n').pop()!);
  }, 180_000);

  it('the quick run trains and its loss goes down', () => {
    console.log(`quick run: loss ${quickRun.first_loss.toFixed(3)} -> ${quickRun.last_loss.toFixed(3)}, held-out sample ${quickRun.val_loss.toFixed(3)}`);
    expect(quickRun.steps).toBe(quick.steps);
    expect(quickRun.last_loss).toBeLessThan(quickRun.first_loss);
    expect(quickRun.val_loss).toBeLessThan(Math.log(quick.vocabSize)); // better than uniform on unseen text
  });

  it('eval --json prints exactly model, unigram, bigram and trigram in nats per character, and the precision', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'engine/cli/eval.ts', '--json', '--model', quickRun.out], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['model', 'unigram', 'bigram', 'trigram', 'precision']);
    expect(out.precision).toBe('fp32'); // the weights as trained, unless --quantize says otherwise
    console.log('eval of the quick model:', r.stdout.trim());
    // the baselines order as they must: more context, lower loss
    expect(out.trigram).toBeLessThan(out.bigram);
    expect(out.bigram).toBeLessThan(out.unigram);
    expect(out.model).toBeLessThan(out.unigram);
  }, 180_000);
});
