// The WASM SIMD matmul kernels against their plain-loop references in engine/kernels.ts, the way
// llm.c checks its dev/cuda kernels against the _cpu twins: same inputs, max difference printed.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { EngineError } from '../../engine/errors';
import { expectEngineError } from './helpers';
import * as ref from '../../engine/kernels';
import { Rng } from '../../engine/sampling';
import { loadWasmKernels, type WasmKernels } from '../../engine/wasm/index';
import { compileKernels, modulePath, renderModule } from '../../scripts/build-wasm';

const tolerance = 1e-5;

// Normwise relative difference: the largest |x - r| over the largest |r|. A per-element ratio is
// meaningless for outputs that are sums cancelling to near zero, where any change of summation
// order (SIMD lanes, blocks of k) moves the last bits.
function relDiff(x: Float32Array, r: Float32Array): number {
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

function random(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.next() * 2 - 1;
  return a;
}


// [N, IC, OC]. Odd sizes hit every tail: fewer than 8 rows (row kernels), rows and columns that do
// not fill a 4 × 8 tile, k not a multiple of 4, and sizes past one block of k (512), of columns
// (512) and of rows (32), so blocks are stitched together.
const oddShapes: [number, number, number][] = [
  [1, 1, 1], [1, 3, 5], [3, 5, 17], [5, 17, 3], [7, 129, 5], [8, 3, 129], [9, 17, 1], [17, 129, 5],
  [129, 3, 129], [1, 129, 17], [12, 1, 8], [33, 1029, 7], [37, 5, 1031], [1031, 9, 13], [1, 1029, 1031]
];
// B*T rows by the channel widths of training (C = 128: c_attn, mlp.c_proj, the head; and wider)
const trainingShapes: [number, number, number][] = [
  [4096, 128, 384], [1024, 512, 128], [1024, 128, 1024], [1024, 1024, 128]
];

// Every kernel, run by the reference and by WASM on the same inputs; the backward kernels start
// from random gradients so that the comparison covers += too. `place` puts an array where the
// WASM kernels will read it: as is (the copying path) or in WASM memory (the in-place path).
function compareAll(k: WasmKernels, [N, IC, OC]: [number, number, number], seed: number, place: (a: Float32Array) => Float32Array) {
  const rng = new Rng(seed);
  const inp = random(N * IC, rng);
  const w = random(IC * OC, rng); // (IC, OC), or (OC, IC) for the transposed kernels
  const bias = random(OC, rng);
  const dout = random(N * OC, rng);
  const diffs: Record<string, number> = {};

  const out = new Float32Array(N * OC);
  ref.matmulForward(out, inp, w, bias, N, IC, OC);
  const outW = place(random(N * OC, rng)); // stale values must be overwritten
  k.matmulForward(outW, place(inp), place(w), place(bias), N, IC, OC);
  diffs.forward = relDiff(outW, out);

  ref.matmulForward(out, inp, w, null, N, IC, OC);
  k.matmulForward(outW, place(inp), place(w), null, N, IC, OC);
  diffs.forwardNoBias = relDiff(outW, out);

  ref.matmulTransposedForward(out, inp, w, N, IC, OC);
  k.matmulTransposedForward(outW, place(inp), place(w), N, IC, OC);
  diffs.transposedForward = relDiff(outW, out);

  const dinp = random(N * IC, rng);
  const dw = random(IC * OC, rng);
  const dbias = random(OC, rng);
  const dinpW = place(dinp.slice());
  const dwW = place(dw.slice());
  const dbiasW = place(dbias.slice());
  ref.matmulBackward(dinp, dw, dbias, dout, inp, w, N, IC, OC);
  k.matmulBackward(dinpW, dwW, dbiasW, place(dout), place(inp), place(w), N, IC, OC);
  diffs.backwardDinp = relDiff(dinpW, dinp);
  diffs.backwardDw = relDiff(dwW, dw);
  diffs.backwardDbias = relDiff(dbiasW, dbias);

  const tdinp = random(N * IC, rng);
  const tdw = random(OC * IC, rng);
  const tdinpW = place(tdinp.slice());
  const tdwW = place(tdw.slice());
  ref.matmulTransposedBackward(tdinp, tdw, dout, inp, w, N, IC, OC);
  k.matmulTransposedBackward(tdinpW, tdwW, place(dout), place(inp), place(w), N, IC, OC);
  diffs.transposedBackwardDinp = relDiff(tdinpW, tdinp);
  diffs.transposedBackwardDw = relDiff(tdwW, tdw);

  console.log(`(N, IC, OC) = (${N}, ${IC}, ${OC}) max rel diff:`, Object.entries(diffs).map(([n, d]) => `${n} ${d.toExponential(1)}`).join(', '));
  for (const d of Object.values(diffs)) expect(d).toBeLessThan(tolerance);
}

let k: WasmKernels;
beforeAll(async () => {
  k = await loadWasmKernels({ maxBytes: 256 * 2 ** 20 });
  // the WASM kernels drop in for the references: same signatures (the type checker sees to it)
  const dropIn: Pick<typeof ref, 'matmulForward' | 'matmulTransposedForward' | 'matmulBackward' | 'matmulTransposedBackward'> = k;
  void dropIn;
});

describe('the committed wasm bytes', () => {
  it('equal a fresh compile of kernels.wat (run npm run build:wasm if not)', async () => {
    expect(readFileSync(modulePath, 'utf8')).toBe(renderModule(await compileKernels()));
  });
});

describe('WASM kernels equal the references', () => {
  it.each(oddShapes)('odd shape (%i, %i, %i), plain arrays (copying path)', (N, IC, OC) => {
    compareAll(k, [N, IC, OC], N * 7919 + IC * 31 + OC, (a) => a);
  });

  it.each(oddShapes)('odd shape (%i, %i, %i), views from alloc (in place)', (N, IC, OC) => {
    k.reset();
    compareAll(k, [N, IC, OC], N * 7919 + IC * 31 + OC + 1, (a) => {
      const v = k.alloc(a.length);
      v.set(a);
      return v;
    });
  });

  it.each(trainingShapes)('training shape (%i, %i, %i), views from alloc', (N, IC, OC) => {
    k.reset();
    compareAll(k, [N, IC, OC], N + IC + OC, (a) => {
      const v = k.alloc(a.length);
      v.set(a);
      return v;
    });
  }, 60_000);

  it('views that start at any float offset (unaligned for f32x4) and a mix of views and plain arrays', () => {
    k.reset();
    let flip = false;
    compareAll(k, [37, 45, 70], 11, (a) => {
      flip = !flip;
      if (!flip) return a;
      const v = k.alloc(a.length + 3).subarray(1 + (a.length % 3), 1 + (a.length % 3) + a.length);
      v.set(a);
      return v;
    });
  });
});

describe('backward kernels accumulate', () => {
  it('two calls add the gradient twice to nonzero starting values', () => {
    const [N, IC, OC] = [19, 23, 29];
    const rng = new Rng(5);
    const inp = random(N * IC, rng);
    const w = random(IC * OC, rng);
    const dout = random(N * OC, rng);
    const start = [random(N * IC, rng), random(IC * OC, rng), random(OC, rng)];
    const once = start.map((a) => a.slice());
    const twice = start.map((a) => a.slice());
    k.matmulBackward(once[0], once[1], once[2], dout, inp, w, N, IC, OC);
    k.matmulBackward(twice[0], twice[1], twice[2], dout, inp, w, N, IC, OC);
    k.matmulBackward(twice[0], twice[1], twice[2], dout, inp, w, N, IC, OC);
    for (let t = 0; t < 3; t++) {
      const step = once[t].map((v, i) => v - start[t][i]);
      const expected = start[t].map((v, i) => v + 2 * step[i]);
      expect(step.some((v) => Math.abs(v) > 0.1)).toBe(true);
      expect(relDiff(twice[t], expected)).toBeLessThan(tolerance);
    }
    const tOnce = [start[0].slice(), start[1].slice()];
    const tTwice = [start[0].slice(), start[1].slice()];
    k.matmulTransposedBackward(tOnce[0], tOnce[1], dout, inp, w, N, IC, OC);
    for (let r = 0; r < 2; r++) k.matmulTransposedBackward(tTwice[0], tTwice[1], dout, inp, w, N, IC, OC);
    for (let t = 0; t < 2; t++) {
      const expected = start[t].map((v, i) => v + 2 * (tOnce[t][i] - v));
      expect(relDiff(tTwice[t], expected)).toBeLessThan(tolerance);
    }
  });

  it('a null dbias is skipped and a zero-row batch (N = 0) changes nothing', () => {
    const rng = new Rng(9);
    const [N, IC, OC] = [6, 10, 12];
    const inp = random(N * IC, rng), w = random(IC * OC, rng), dout = random(N * OC, rng);
    const dinp = new Float32Array(N * IC), dw = new Float32Array(IC * OC);
    const rdinp = new Float32Array(N * IC), rdw = new Float32Array(IC * OC);
    ref.matmulBackward(rdinp, rdw, null, dout, inp, w, N, IC, OC);
    k.matmulBackward(dinp, dw, null, dout, inp, w, N, IC, OC);
    expect(relDiff(dinp, rdinp)).toBeLessThan(tolerance);
    expect(relDiff(dw, rdw)).toBeLessThan(tolerance);
    const before = dw.slice();
    k.matmulBackward(dinp, dw, null, dout, inp, w, 0, IC, OC);
    expect(dw).toEqual(before);
  });
});

describe('outputs and arrays longer than the shapes', () => {
  it('floats past N*OC are left untouched, on both paths', () => {
    const [N, IC, OC] = [9, 7, 13];
    const rng = new Rng(3);
    const inp = random(N * IC + 5, rng), w = random(IC * OC + 5, rng);
    for (const place of [(a: Float32Array) => a, (a: Float32Array) => { const v = k.alloc(a.length); v.set(a); return v; }]) {
      k.reset();
      const out = place(new Float32Array(N * OC + 4).fill(42));
      k.matmulForward(out, place(inp), place(w), null, N, IC, OC);
      expect([...out.subarray(N * OC)]).toEqual([42, 42, 42, 42]);
      const r = new Float32Array(N * OC);
      ref.matmulForward(r, inp, w, null, N, IC, OC);
      expect(relDiff(out.subarray(0, N * OC), r)).toBeLessThan(tolerance);
    }
  });
});

describe('the arena', () => {
  it('alloc hands out zeroed views even where reset() left old values', async () => {
    const a = await loadWasmKernels({ maxBytes: 4 * 2 ** 20 });
    a.alloc(1000).fill(7);
    a.reset();
    const v = a.alloc(1000);
    expect(v.every((x) => x === 0)).toBe(true);
    expect(a.usedBytes()).toBe(4000);
  });

  it('in place needs no scratch: a full arena still runs kernels on its views, but not on plain arrays', async () => {
    const a = await loadWasmKernels({ maxBytes: 2 * 2 ** 20 });
    const [N, IC, OC] = [64, 64, 64];
    const free = Math.floor(a.capacityBytes / 4) - 3 * N * IC - 64;
    const inp = a.alloc(N * IC).fill(1), w = a.alloc(IC * OC).fill(0.5), out = a.alloc(N * OC);
    a.alloc(free); // leaves less than one tensor's worth of scratch
    a.matmulForward(out, inp, w, null, N, IC, OC);
    expect(out[0]).toBe(32);
    expect(out[N * OC - 1]).toBe(32);
    expectEngineError(() => a.matmulForward(new Float32Array(N * OC), inp.slice(), w.slice(), null, N, IC, OC), 'wasm_out_of_memory');
  });

  it('alloc past the reserved size throws instead of growing (which would detach every view)', async () => {
    const a = await loadWasmKernels({ maxBytes: 2 * 2 ** 20 });
    const v = a.alloc(1000);
    expectEngineError(() => a.alloc(a.capacityBytes), 'wasm_out_of_memory');
    v[999] = 3; // the earlier view is still attached
    expect(v.length).toBe(1000);
    expect(v[999]).toBe(3);
  });

  it('a view from before reset() that now lies past the arena is refused', async () => {
    const a = await loadWasmKernels({ maxBytes: 2 * 2 ** 20 });
    const x = a.alloc(16);
    const y = a.alloc(16);
    a.reset();
    a.alloc(16);
    expectEngineError(() => a.matmulForward(x, x, y, null, 4, 4, 4), 'wasm_stale_view');
  });
});

describe('bad input', () => {
  it('a too-short array is a shape_mismatch, named', () => {
    try {
      k.matmulForward(new Float32Array(5), new Float32Array(6), new Float32Array(9), null, 2, 3, 3);
    } catch (e) {
      expect(e).toBeInstanceOf(EngineError);
      expect((e as EngineError).code).toBe('shape_mismatch');
      expect((e as Error).message).toMatch(/out has 5 floats/);
      return;
    }
    throw new Error('expected shape_mismatch');
  });

  it('negative or fractional sizes and non-Float32Array arguments are bad_argument', () => {
    const a = new Float32Array(16);
    expectEngineError(() => k.matmulTransposedForward(a, a, a, -1, 2, 2), 'bad_argument');
    expectEngineError(() => k.matmulBackward(a, a, null, a, a, a, 2, 1.5, 2), 'bad_argument');
    expectEngineError(() => k.matmulForward(a, [1, 2, 3, 4] as unknown as Float32Array, a, null, 2, 2, 2), 'bad_argument');
    expectEngineError(() => k.alloc(-1), 'bad_argument');
  });

  it('maxBytes below one page, below the packing buffers (~1 MiB) or past 4 GiB is refused', async () => {
    for (const maxBytes of [100, 512 * 1024, 2 ** 32]) {
      await expect(loadWasmKernels({ maxBytes })).rejects.toMatchObject({ name: 'EngineError', code: 'bad_argument' });
    }
  });
});
