// The 'wasm-simd-fused' kernels (engine/wasm/kernels.wat) against their plain-loop twins
// (engine/kernels.ts, AdamW.step in engine/train/adamw.ts), forward and backward, on random inputs.
//
// Tolerances. The references compute each value in f64 and round once; the WASM kernels work in
// f32, sum in four lanes and use a polynomial e^x (within 2 ulp). One f32 rounding is 6e-8
// relative, so single-value results (GELU, AdamW) agree to a few 1e-7; sums over a row (LayerNorm
// over C, the softmaxes over T or V) collect about √n such errors, and outputs that are
// differences of such sums (LayerNorm's dx, the softmax backward) lose relative precision where
// they cancel, which the normwise measure below (max |Δ| over max |ref|) accounts for. Bounds
// are set about 10× above what is measured, and far below any real bug (a wrong constant or a
// missed lane moves results by 1e-3 or more).
import { describe, expect, it } from 'vitest';
import * as ref from '../../engine/kernels';
import { Rng } from '../../engine/sampling';
import { AdamW } from '../../engine/train/adamw';
import { fusedKernels, type TrainKernels } from '../../engine/train/gpt-train';

const k: TrainKernels = await fusedKernels(64 * 2 ** 20);

function rel(x: Float32Array, r: Float32Array): number {
  expect(x.length).toBe(r.length);
  let d = 0;
  let m = 0;
  for (let i = 0; i < r.length; i++) {
    d = Math.max(d, Math.abs(x[i] - r[i]));
    m = Math.max(m, Math.abs(r[i]));
  }
  expect(Number.isFinite(d)).toBe(true);
  return m === 0 ? d : d / m;
}

// a view in WASM memory (the zero-copy path training uses) holding normal(0, scale) values
function view(n: number, rng: Rng, scale = 1): Float32Array {
  const v = k.alloc(n);
  for (let i = 0; i < n; i++) v[i] = scale * rng.normal();
  return v;
}
const copy = (x: Float32Array) => Float32Array.from(x);

describe('LayerNorm', () => {
  it.each([[7, 16], [64, 128], [3, 12]])('forward and backward, N = %i, C = %i', (N, C) => {
    const rng = new Rng(N * 31 + C);
    const inp = view(N * C, rng, 3);
    const w = view(C, rng);
    const b = view(C, rng);
    const out = k.alloc(N * C), mean = k.alloc(N), rstd = k.alloc(N);
    const rOut = new Float32Array(N * C), rMean = new Float32Array(N), rRstd = new Float32Array(N);
    k.layernormForward(out, mean, rstd, inp, w, b, N, C, 1e-5);
    ref.layernormForward(rOut, rMean, rRstd, inp, w, b, N, C, 1e-5);
    const dout = view(N * C, rng);
    // start the gradients from nonzero values: the kernels accumulate
    const dinp = view(N * C, rng), dw = view(C, rng), db = view(C, rng);
    const rDinp = copy(dinp), rDw = copy(dw), rDb = copy(db);
    k.layernormBackward(dinp, dw, db, dout, inp, w, rMean, rRstd, N, C);
    ref.layernormBackward(rDinp, rDw, rDb, dout, inp, w, rMean, rRstd, N, C);
    const d = { out: rel(out, rOut), mean: rel(mean, rMean), rstd: rel(rstd, rRstd), dinp: rel(dinp, rDinp), dw: rel(dw, rDw), db: rel(db, rDb) };
    console.log(`LayerNorm (${N}, ${C}) max rel diff: ${Object.entries(d).map(([n, x]) => `${n} ${x.toExponential(1)}`).join(', ')}`);
    for (const x of Object.values(d)) expect(x).toBeLessThan(2e-6);
  });

  it('a row length that is not a multiple of 4 runs the reference, bit for bit', () => {
    const rng = new Rng(5);
    const [N, C] = [3, 10];
    const inp = view(N * C, rng), w = view(C, rng), b = view(C, rng);
    const out = k.alloc(N * C), rOut = new Float32Array(N * C);
    k.layernormForward(out, null, null, inp, w, b, N, C, 1e-5);
    ref.layernormForward(rOut, null, null, inp, w, b, N, C, 1e-5);
    expect(out).toEqual(rOut);
  });
});

describe('GELU', () => {
  it('forward and backward over inputs from -12 to 12 (tails included)', () => {
    const rng = new Rng(2);
    const n = 4096;
    const inp = k.alloc(n);
    for (let i = 0; i < n; i++) inp[i] = i < 64 ? -12 + (24 * i) / 63 : 2.5 * rng.normal();
    const out = k.alloc(n), rOut = new Float32Array(n);
    k.geluForward(out, inp, n);
    ref.geluForward(rOut, inp, n);
    const dout = view(n, rng);
    const dinp = view(n, rng);
    const rDinp = copy(dinp);
    k.geluBackward(dinp, inp, dout, n);
    ref.geluBackward(rDinp, inp, dout, n);
    // GELU(x) → 0 for x → -∞: compare absolutely there, at the scale of the output
    const [fwd, bwd] = [rel(out, rOut), rel(dinp, rDinp)];
    console.log(`GELU max rel diff: forward ${fwd.toExponential(1)}, backward ${bwd.toExponential(1)}`);
    expect(fwd).toBeLessThan(1e-6);
    expect(bwd).toBeLessThan(1e-6);
  });
});

describe('causal softmax of attention', () => {
  it.each([4, 16, 128])('forward and backward, T = %i', (T) => {
    const rng = new Rng(T);
    const scale = 1 / Math.sqrt(32);
    const scores = view(T * T, rng, 8);
    const P = k.alloc(T * T);
    P.set(scores);
    const rP = copy(scores);
    k.causalSoftmaxForward(P, T, scale);
    ref.causalSoftmaxForward(rP, T, scale);
    for (let t = 0; t < T; t++) for (let t2 = t + 1; t2 < T; t2++) expect(P[t * T + t2]).toBe(0); // the future stays unseen
    const dP = view(T * T, rng);
    const rdP = copy(dP);
    k.causalSoftmaxBackward(dP, rP, T, scale);
    ref.causalSoftmaxBackward(rdP, rP, T, scale);
    const [fwd, bwd] = [rel(P, rP), rel(dP, rdP)];
    console.log(`causal softmax T = ${T} max rel diff: forward ${fwd.toExponential(1)}, backward ${bwd.toExponential(1)}`);
    expect(fwd).toBeLessThan(2e-6);
    expect(bwd).toBeLessThan(2e-6);
  });

  it('T not a multiple of 4 runs the reference, bit for bit', () => {
    const rng = new Rng(9);
    const T = 6;
    const P = view(T * T, rng), rP = copy(P);
    k.causalSoftmaxForward(P, T, 0.5);
    ref.causalSoftmaxForward(rP, T, 0.5);
    expect(P).toEqual(rP);
  });
});

describe('softmax + cross-entropy', () => {
  it.each([[5, 64], [32, 4096]])('forward (in place, as training calls it) and backward, N = %i, V = %i', (N, V) => {
    const rng = new Rng(N + V);
    const logits = view(N * V, rng, 4);
    const targets = Int32Array.from({ length: N }, () => Math.floor(rng.next() * V));
    const rProbs = new Float32Array(N * V), rLosses = new Float32Array(N);
    ref.crossEntropyForward(rLosses, rProbs, logits, targets, N, V);
    const losses = k.alloc(N);
    k.crossEntropyForward(losses, logits, logits, targets, N, V); // logits become probabilities
    const dlosses = k.alloc(N).fill(1 / N);
    const dlogits = view(N * V, rng);
    const rDlogits = copy(dlogits);
    k.crossEntropyBackward(dlogits, rProbs, targets, dlosses, N, V);
    ref.crossEntropyBackward(rDlogits, rProbs, targets, dlosses, N, V);
    const d = { probs: rel(logits, rProbs), losses: rel(losses, rLosses), dlogits: rel(dlogits, rDlogits) };
    console.log(`cross-entropy (${N}, ${V}) max rel diff: ${Object.entries(d).map(([n, x]) => `${n} ${x.toExponential(1)}`).join(', ')}`);
    // the softmax sum over V = 4,096 runs in four f32 lanes of 1,024 terms: about √1024 roundings
    // (measured 2.6e-6 there, 1.2e-7 at V = 64)
    expect(d.probs).toBeLessThan(2e-5);
    expect(d.losses).toBeLessThan(1e-6);
    expect(d.dlogits).toBeLessThan(1e-6);
  });

  it('a very unlikely target keeps a finite loss (-log p from the logits, not from p)', () => {
    const V = 8;
    const logits = k.alloc(V);
    logits.set([200, 0, 0, 0, 0, 0, 0, -200]);
    const losses = k.alloc(1);
    k.crossEntropyForward(losses, logits, logits, Int32Array.of(7), 1, V);
    expect(losses[0]).toBeCloseTo(400, 3);
  });

  it('a target outside the vocabulary is refused, not read past the row', () => {
    const logits = k.alloc(8);
    expect(() => k.crossEntropyForward(k.alloc(1), logits, logits, Int32Array.of(8), 1, 8)).toThrow(/outside the vocabulary/);
  });
});

describe('AdamW', () => {
  it('ten updates agree with AdamW.step (f64) to float32 rounding', () => {
    const rng = new Rng(3);
    const n = 1000;
    const decay: [number, number][] = [[0, 600]];
    const opts = { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 };
    const a = new AdamW(n, opts, decay); // the f64 loop
    const b = new AdamW(n, opts, decay, k); // the kernel
    const pa = Float32Array.from({ length: n }, () => rng.normal());
    const pb = k.alloc(n);
    pb.set(pa);
    for (let s = 0; s < 10; s++) {
      const g = Float32Array.from({ length: n }, () => rng.normal() * (s + 1));
      const gb = k.alloc(n);
      gb.set(g);
      a.step(pa, g, 1e-2);
      b.step(pb, gb, 1e-2);
    }
    const d = { params: rel(pb, pa), m: rel(b.m, a.m), v: rel(b.v, a.v) };
    console.log(`AdamW after 10 steps max rel diff: ${Object.entries(d).map(([x, y]) => `${x} ${y.toExponential(1)}`).join(', ')}`);
    for (const x of Object.values(d)) expect(x).toBeLessThan(1e-6);
  });
});
