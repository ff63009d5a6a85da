// LayerNorm over each row of inp (N, C): one workgroup a row. The mean and then the variance about
// it are each summed by 64 threads and added in workgroup memory: two passes over the row, like the
// CPU reference, because the one-pass E[x²] - E[x]² loses digits when the mean is large.
import { type KernelSource } from './kernel';

const code = /* wgsl */ `
struct Params {
  N: u32,
  C: u32,
  eps: f32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> inp: array<f32>;       // (N, C)
@group(0) @binding(2) var<storage, read> weight: array<f32>;    // (C)
@group(0) @binding(3) var<storage, read> bias: array<f32>;      // (C)
@group(0) @binding(4) var<storage, read_write> out: array<f32>; // (N, C)

var<workgroup> sums: array<f32, 64>;

// the sum of every thread's v, returned to all 64 threads
fn workgroupSum(lid: u32, v: f32) -> f32 {
  sums[lid] = v;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s / 2u) {
    if (lid < s) {
      sums[lid] += sums[lid + s];
    }
    workgroupBarrier();
  }
  let total = sums[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= p.N) {
    return;
  }
  let x = row * p.C;
  var s = 0.0;
  for (var i = lid; i < p.C; i += 64u) {
    s += inp[x + i];
  }
  let mean = workgroupSum(lid, s) / f32(p.C);
  var v = 0.0;
  for (var i = lid; i < p.C; i += 64u) {
    let d = inp[x + i] - mean;
    v += d * d;
  }
  let rstd = 1.0 / sqrt(workgroupSum(lid, v) / f32(p.C) + p.eps);
  for (var i = lid; i < p.C; i += 64u) {
    out[x + i] = (inp[x + i] - mean) * rstd * weight[i] + bias[i];
  }
}
`;

export const layernorm: KernelSource = { name: 'layernorm', code, params: 'uuf', storage: 'rrrw' };
