// Matmul speed: the plain-loop reference kernels (engine/kernels.ts) against the WASM SIMD kernels
// (engine/wasm/), in GFLOPS and as a ratio measured in the same run. Run: npx tsx bench/kernels.ts
//
// Training shapes are those of the shipped model's size class (C = 128, V = 1024) at B*T = 4096
// rows, plus the MLP of a wider model (C = 384); decode shapes are the same weights against one token (N = 1), where
// a matmul is a matrix-vector product. WASM runs on views from alloc (in place, as training will)
// and, to show what copying costs, on plain Float32Arrays.
//
// Times are CPU time of this process (best of several samples), so other jobs sharing the machine
// slow nothing down but the caches.
import * as ref from '../engine/kernels';
import { Rng } from '../engine/sampling';
import { loadWasmKernels } from '../engine/wasm/index';

type Shape = { name: string; N: number; IC: number; OC: number; transposed?: boolean };

const training: Shape[] = [
  { name: 'attn.c_attn', N: 4096, IC: 128, OC: 384 },
  { name: 'attn.c_proj', N: 4096, IC: 128, OC: 128 },
  { name: 'mlp.c_fc', N: 4096, IC: 128, OC: 512 },
  { name: 'mlp.c_proj', N: 4096, IC: 512, OC: 128 },
  { name: 'head (wteᵀ)', N: 4096, IC: 128, OC: 1024, transposed: true },
  { name: 'C = 384 mlp.c_fc', N: 1024, IC: 384, OC: 1536 }
];
const decode: Shape[] = [
  { name: 'attn.c_attn', N: 1, IC: 128, OC: 384 },
  { name: 'mlp.c_fc', N: 1, IC: 128, OC: 512 },
  { name: 'mlp.c_proj', N: 1, IC: 512, OC: 128 },
  { name: 'head (wteᵀ)', N: 1, IC: 128, OC: 1024, transposed: true },
  { name: 'wide', N: 1, IC: 1024, OC: 1024 },
  { name: 'wide head (wteᵀ)', N: 1, IC: 1024, OC: 4096, transposed: true }
];

function now(): number {
  if (typeof process !== 'undefined' && process.cpuUsage) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
  return performance.now();
}

// Best time of one call in ms: calls are batched so a sample lasts at least minMs, which keeps the
// clock's resolution out of the microsecond-scale decode calls.
function time(fn: () => void, samples: number, minMs: number): number {
  fn(); // warm up: lets the engine compile its optimised tier
  let reps = 1;
  let best = Infinity;
  for (;;) {
    const t = now();
    for (let r = 0; r < reps; r++) fn();
    const dt = now() - t;
    if (dt >= minMs || reps >= 1 << 20) {
      best = dt / reps; // a long enough calibration run is the first sample
      break;
    }
    reps *= dt > 0 ? Math.max(2, Math.ceil(minMs / dt)) : 8;
  }
  for (let s = 1; s < samples; s++) {
    const t = now();
    for (let r = 0; r < reps; r++) fn();
    best = Math.min(best, (now() - t) / reps);
  }
  return best;
}

function random(a: Float32Array, rng: Rng): Float32Array {
  for (let i = 0; i < a.length; i++) a[i] = rng.next() * 2 - 1;
  return a;
}

const k = await loadWasmKernels({ maxBytes: 1024 * 2 ** 20 });
const rng = new Rng(1);
const gflops = (flops: number, ms: number) => flops / ms / 1e6;
const rows: string[][] = [];

function run(s: Shape, kernels: ('forward' | 'backward')[]): void {
  const { N, IC, OC } = s;
  k.reset();
  const v = (n: number) => random(k.alloc(n), rng); // in WASM memory
  const p = (n: number) => random(new Float32Array(n), rng); // plain
  const [inp, w, bias, out, dout, dinp, dw, dbias] = [N * IC, IC * OC, OC, N * OC, N * OC, N * IC, IC * OC, OC].map(v);
  const [pInp, pW, pBias, pOut, pDout, pDinp, pDw, pDbias] = [N * IC, IC * OC, OC, N * OC, N * OC, N * IC, IC * OC, OC].map(p);
  const flops = 2 * N * IC * OC;
  // the JS reference is slow: one sample after the warm-up on the big shapes
  const jsSamples = N > 1 ? 1 : 5;
  for (const kind of kernels) {
    let label: string;
    let js: () => void, inPlace: () => void, copying: () => void;
    let f = flops;
    if (kind === 'forward' && !s.transposed) {
      label = 'matmulForward';
      js = () => ref.matmulForward(pOut, pInp, pW, pBias, N, IC, OC);
      inPlace = () => k.matmulForward(out, inp, w, bias, N, IC, OC);
      copying = () => k.matmulForward(pOut, pInp, pW, pBias, N, IC, OC);
    } else if (kind === 'forward') {
      label = 'matmulTransposedForward';
      js = () => ref.matmulTransposedForward(pOut, pInp, pW, N, IC, OC);
      inPlace = () => k.matmulTransposedForward(out, inp, w, N, IC, OC);
      copying = () => k.matmulTransposedForward(pOut, pInp, pW, N, IC, OC);
    } else if (!s.transposed) {
      label = 'matmulBackward';
      f = 2 * flops; // dinp and dw
      js = () => ref.matmulBackward(pDinp, pDw, pDbias, pDout, pInp, pW, N, IC, OC);
      inPlace = () => k.matmulBackward(dinp, dw, dbias, dout, inp, w, N, IC, OC);
      copying = () => k.matmulBackward(pDinp, pDw, pDbias, pDout, pInp, pW, N, IC, OC);
    } else {
      label = 'matmulTransposedBackward';
      f = 2 * flops;
      js = () => ref.matmulTransposedBackward(pDinp, pDw, pDout, pInp, pW, N, IC, OC);
      inPlace = () => k.matmulTransposedBackward(dinp, dw, dout, inp, w, N, IC, OC);
      copying = () => k.matmulTransposedBackward(pDinp, pDw, pDout, pInp, pW, N, IC, OC);
    }
    const tJs = time(js, jsSamples, 30);
    const tIn = time(inPlace, 7, 30);
    const tCopy = time(copying, 7, 30);
    rows.push([
      `${s.name} (${N}, ${IC}, ${OC})`, label,
      gflops(f, tJs).toFixed(2), gflops(f, tIn).toFixed(1), gflops(f, tCopy).toFixed(1),
      (tJs / tIn).toFixed(1) + '×', (tIn * 1000).toFixed(tIn < 1 ? 1 : 0)
    ]);
  }
}

console.log('Training shapes (B*T rows)');
for (const s of training) run(s, ['forward', 'backward']);
print();
console.log('\nDecode (one token, N = 1)');
for (const s of decode) run(s, ['forward']);
print();

function print(): void {
  const head = ['shape (N, IC, OC)', 'kernel', 'JS GFLOPS', 'WASM GFLOPS', 'WASM copying', 'WASM / JS', 'WASM µs'];
  const all = [head, ...rows];
  const widths = head.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  for (const r of all) console.log(r.map((x, c) => (c < 2 ? x.padEnd(widths[c]) : x.padStart(widths[c]))).join('  '));
  rows.length = 0;
}
