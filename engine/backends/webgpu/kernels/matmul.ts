// out (N, OC) = inp (N, IC) @ w (IC, OC) + bias (OC), w in GPT-2's Conv1D layout (in, out).
// Two kernels over one binding layout: a register-blocked one for many rows (a prompt), and a
// matrix-vector one for a single row (a decoded token), where blocks of 4 rows would be 3/4 padding.
// A weight too large for one binding is split into column blocks (see split.ts); each block is its
// own dispatch, writing columns outCol0.. of a row of outStride values. IC and OC are multiples of 4.
import type { KernelSource } from './kernel';

const header = /* wgsl */ `
struct Params {
  N: u32,         // rows
  IC: u32,        // in channels
  OC: u32,        // out channels of this block
  outStride: u32, // values per row of out
  outCol0: u32,   // first column of out this block writes
  inRow0: u32,    // first row of inp to read (the logits of the last position only skip the rest)
}
@group(0) @binding(0) var<uniform> p: Params;
`;

// Each thread computes a 4-row by 4-column piece of out, kept in registers as four vec4s; a
// workgroup of 8x8 threads covers a 32x32 tile. Each step of the reduction loads 4 values of each
// of 4 rows of inp and 4 rows of 4 columns of w, as 8 vec4 loads, for 64 multiply-adds.
// Neighbouring threads read the same rows of inp and of w, which the GPU's caches serve; staging
// them in workgroup memory instead made SwiftShader (the CPU implementation CI runs) spend seconds
// compiling the zero-initialisation that WebGPU requires of workgroup memory.
const tiled = /* wgsl */ `${header}
@group(0) @binding(1) var<storage, read> inp: array<vec4<f32>>;  // (N, IC/4)
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;    // (IC, OC/4)
@group(0) @binding(3) var<storage, read> bias: array<vec4<f32>>; // (OC/4)
@group(0) @binding(4) var<storage, read_write> out: array<f32>;  // (N, outStride)

fn store(r: u32, c: u32, v: vec4<f32>) {
  if (r < p.N) {
    let o = r * p.outStride + p.outCol0 + c * 4u;
    out[o] = v.x;
    out[o + 1u] = v.y;
    out[o + 2u] = v.z;
    out[o + 3u] = v.w;
  }
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let ic4 = p.IC / 4u;
  let oc4 = p.OC / 4u;
  let c = gid.x;       // this thread's vec4 of columns
  let r = gid.y * 4u;  // and its first of 4 rows
  if (c >= oc4 || r >= p.N) {
    return;
  }
  // rows past N read row N-1 again, so no load leaves the buffer; their results are not stored
  let last = p.N - 1u;
  let a0 = (p.inRow0 + r) * ic4;
  let a1 = (p.inRow0 + min(r + 1u, last)) * ic4;
  let a2 = (p.inRow0 + min(r + 2u, last)) * ic4;
  let a3 = (p.inRow0 + min(r + 3u, last)) * ic4;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k = 0u; k < ic4; k++) {
    let wk = 4u * k * oc4 + c;
    let b0 = w[wk];
    let b1 = w[wk + oc4];
    let b2 = w[wk + 2u * oc4];
    let b3 = w[wk + 3u * oc4];
    let x0 = inp[a0 + k];
    let x1 = inp[a1 + k];
    let x2 = inp[a2 + k];
    let x3 = inp[a3 + k];
    acc0 += x0.x * b0 + x0.y * b1 + x0.z * b2 + x0.w * b3;
    acc1 += x1.x * b0 + x1.y * b1 + x1.z * b2 + x1.w * b3;
    acc2 += x2.x * b0 + x2.y * b1 + x2.z * b2 + x2.w * b3;
    acc3 += x3.x * b0 + x3.y * b1 + x3.z * b2 + x3.w * b3;
  }
  let bv = bias[c];
  store(r, c, acc0 + bv);
  store(r + 1u, c, acc1 + bv);
  store(r + 2u, c, acc2 + bv);
  store(r + 3u, c, acc3 + bv);
}
`;

// One row: each workgroup owns 64 columns (16 vec4); its 16x4 threads split the reduction into 4
// interleaved slices, so neighbouring threads read neighbouring vec4s of a row of w, and the 4
// partial sums meet in workgroup memory (kept small: see the zero-initialisation note above).
const matvec = /* wgsl */ `${header}
@group(0) @binding(1) var<storage, read> inp: array<f32>;        // (N, IC), row inRow0 is used
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;    // (IC, OC/4)
@group(0) @binding(3) var<storage, read> bias: array<vec4<f32>>; // (OC/4)
@group(0) @binding(4) var<storage, read_write> out: array<f32>;  // (1, outStride)

var<workgroup> partial: array<vec4<f32>, 64>; // (4 slices, 16 vec4 columns)

@compute @workgroup_size(16, 4)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let oc4 = p.OC / 4u;
  let c = wid.x * 16u + lid.x;
  let x0 = p.inRow0 * p.IC;
  var acc = vec4<f32>(0.0);
  if (c < oc4) {
    for (var k = lid.y; k < p.IC; k += 4u) {
      acc += inp[x0 + k] * w[k * oc4 + c];
    }
  }
  partial[lid.y * 16u + lid.x] = acc;
  workgroupBarrier();
  if (lid.y == 0u && c < oc4) {
    let v = partial[lid.x] + partial[16u + lid.x] + partial[32u + lid.x] + partial[48u + lid.x] + bias[c];
    let o = p.outCol0 + c * 4u;
    out[o] = v.x;
    out[o + 1u] = v.y;
    out[o + 2u] = v.z;
    out[o + 3u] = v.w;
  }
}
`;

export const matmulTiled: KernelSource = { name: 'matmulTiled', code: tiled, params: 'uuuuuu', storage: 'rrrw' };
export const matmulVector: KernelSource = { name: 'matmulVector', code: matvec, params: 'uuuuuu', storage: 'rrrw' };

// workgroups for N rows and OC columns
export const tiledGrid = (N: number, OC: number): [number, number] => [Math.ceil(OC / 4 / 8), Math.ceil(N / 4 / 8)];
export const vectorGrid = (OC: number): [number, number] => [Math.ceil(OC / 4 / 16), 1];
