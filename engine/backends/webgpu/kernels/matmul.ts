// out (N, OC) = inp (N, IC) @ w (IC, OC) + bias (OC), w in GPT-2's Conv1D layout (in, out).
// Two kernels over one binding layout: a tiled one for many rows (a prompt), and a matrix-vector
// one for a single row (a decoded token), where tiles of rows would be all padding.
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

// Each workgroup computes a 32x32 tile of out; each of its 8x8 threads a 4-row by 4-column piece,
// kept in registers as four vec4s. A 32-wide slice of the reduction is staged in workgroup memory
// for both operands, so every value read from global memory is used 32 times. The inner step loads
// four rows of w once and applies them to four rows of inp.
const tiled = /* wgsl */ `${header}
@group(0) @binding(1) var<storage, read> inp: array<vec4<f32>>;  // (N, IC/4)
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;    // (IC, OC/4)
@group(0) @binding(3) var<storage, read> bias: array<vec4<f32>>; // (OC/4)
@group(0) @binding(4) var<storage, read_write> out: array<f32>;  // (N, outStride)

var<workgroup> tileA: array<vec4<f32>, 256>; // (32 rows, 8 vec4 of the reduction)
var<workgroup> tileB: array<vec4<f32>, 256>; // (32 of the reduction, 8 vec4 columns)

@compute @workgroup_size(8, 8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let ic4 = p.IC / 4u;
  let oc4 = p.OC / 4u;
  let row0 = wid.y * 32u;
  let colTile = wid.x * 8u;
  let me = lid.y * 8u + lid.x;
  var acc = array<vec4<f32>, 4>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  for (var k0 = 0u; k0 < p.IC; k0 += 32u) {
    for (var e = 0u; e < 4u; e++) {
      let i = me + e * 64u;
      let r = row0 + i / 8u;
      let ka = k0 / 4u + i % 8u;
      var a = vec4<f32>(0.0);
      if (r < p.N && ka < ic4) {
        a = inp[(p.inRow0 + r) * ic4 + ka];
      }
      tileA[i] = a;
      let kb = k0 + i / 8u;
      let c = colTile + i % 8u;
      var b = vec4<f32>(0.0);
      if (kb < p.IC && c < oc4) {
        b = w[kb * oc4 + c];
      }
      tileB[i] = b;
    }
    workgroupBarrier();
    for (var k = 0u; k < 8u; k++) {
      let b0 = tileB[(k * 4u) * 8u + lid.x];
      let b1 = tileB[(k * 4u + 1u) * 8u + lid.x];
      let b2 = tileB[(k * 4u + 2u) * 8u + lid.x];
      let b3 = tileB[(k * 4u + 3u) * 8u + lid.x];
      for (var i = 0u; i < 4u; i++) {
        let a = tileA[(lid.y * 4u + i) * 8u + k];
        acc[i] += a.x * b0 + a.y * b1 + a.z * b2 + a.w * b3;
      }
    }
    workgroupBarrier();
  }
  let c = colTile + lid.x;
  if (c >= oc4) {
    return;
  }
  let bv = bias[c];
  for (var i = 0u; i < 4u; i++) {
    let r = row0 + lid.y * 4u + i;
    if (r < p.N) {
      let o = r * p.outStride + p.outCol0 + c * 4u;
      let v = acc[i] + bv;
      out[o] = v.x;
      out[o + 1u] = v.y;
      out[o + 2u] = v.z;
      out[o + 3u] = v.w;
    }
  }
}
`;

// One row: each workgroup owns 64 columns (16 vec4); its 16x16 threads split the reduction into 16
// interleaved slices, so neighbouring threads read neighbouring vec4s of a row of w, and the 16
// partial sums are added in workgroup memory.
const matvec = /* wgsl */ `${header}
@group(0) @binding(1) var<storage, read> inp: array<f32>;        // (N, IC), row inRow0 is used
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;    // (IC, OC/4)
@group(0) @binding(3) var<storage, read> bias: array<vec4<f32>>; // (OC/4)
@group(0) @binding(4) var<storage, read_write> out: array<f32>;  // (1, outStride)

var<workgroup> partial: array<vec4<f32>, 256>; // (16 slices, 16 vec4 columns)

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let oc4 = p.OC / 4u;
  let c = wid.x * 16u + lid.x;
  let x0 = p.inRow0 * p.IC;
  var acc = vec4<f32>(0.0);
  if (c < oc4) {
    for (var k = lid.y; k < p.IC; k += 16u) {
      acc += inp[x0 + k] * w[k * oc4 + c];
    }
  }
  partial[lid.y * 16u + lid.x] = acc;
  workgroupBarrier();
  for (var s = 8u; s > 0u; s = s / 2u) {
    if (lid.y < s) {
      partial[lid.y * 16u + lid.x] += partial[(lid.y + s) * 16u + lid.x];
    }
    workgroupBarrier();
  }
  if (lid.y == 0u && c < oc4) {
    let o = p.outCol0 + c * 4u;
    let v = partial[lid.x] + bias[c];
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
export const tiledGrid = (N: number, OC: number): [number, number] => [Math.ceil(OC / 4 / 8), Math.ceil(N / 32)];
export const vectorGrid = (OC: number): [number, number] => [Math.ceil(OC / 4 / 16), 1];
