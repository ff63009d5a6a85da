// The kernels that touch each value once: the token embedding lookup, the residual add, GELU, and
// the split of the fused q|k|v projection into per-head queries and the KV cache.
import { flatIndex, type KernelSource } from './kernel';

// tok_emb[t] = wte[ids[t]], read from one column block of wteᵀ (C, cols) that holds the ids
// col0..col0+cols; the runner dispatches once per block, and each token is written by its block.
const embeddingCode = /* wgsl */ `${flatIndex}
struct Params {
  T: u32,
  C: u32,
  col0: u32,
  cols: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;          // (T)
@group(0) @binding(2) var<storage, read> wteT: array<f32>;         // (C, cols)
@group(0) @binding(3) var<storage, read_write> tokEmb: array<f32>; // (T, C)

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.T * p.C) {
    return;
  }
  let id = ids[i / p.C];
  if (id < p.col0 || id >= p.col0 + p.cols) {
    return;
  }
  tokEmb[i] = wteT[(i % p.C) * p.cols + id - p.col0];
}
`;

// x += y, in place: the residual stream keeps one buffer.
const residualCode = /* wgsl */ `${flatIndex}
struct Params {
  n: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>; // (n)
@group(0) @binding(2) var<storage, read> y: array<f32>;       // (n)

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i < p.n) {
    x[i] = x[i] + y[i];
  }
}
`;

// GELU, tanh form. tanh's argument is clamped to ±10, where tanh is ±1 to within f32 rounding:
// some GPUs compute tanh from exp(2u), which overflows to inf/inf = NaN for large u.
const geluCode = /* wgsl */ `${flatIndex}
struct Params {
  n: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> inp: array<f32>;       // (n)
@group(0) @binding(2) var<storage, read_write> out: array<f32>; // (n)

const geluScale = 0.7978845608028654; // sqrt(2 / pi)

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) {
    return;
  }
  let x = inp[i];
  let u = clamp(geluScale * (x + 0.044715 * x * x * x), -10.0, 10.0);
  out[i] = 0.5 * x * (1.0 + tanh(u));
}
`;

// qkv (T, 3C) with columns [q | k | v] -> q (nh, T, hs), and k, v appended to the cache
// (nh, S, hs) at rows Tc..Tc+T: attention then reads each head's rows contiguously.
const splitHeadsCode = /* wgsl */ `${flatIndex}
struct Params {
  T: u32,
  Tc: u32,
  C: u32,
  hs: u32,
  S: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;          // (T, 3C)
@group(0) @binding(2) var<storage, read_write> q: array<f32>;      // (nh, T, hs)
@group(0) @binding(3) var<storage, read_write> kCache: array<f32>; // (nh, S, hs)
@group(0) @binding(4) var<storage, read_write> vCache: array<f32>; // (nh, S, hs)

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.T * p.C) {
    return;
  }
  let t = i / p.C;
  let c = i % p.C;
  let h = c / p.hs;
  let d = c % p.hs;
  let src = t * 3u * p.C + c;
  q[(h * p.T + t) * p.hs + d] = qkv[src];
  let dst = (h * p.S + p.Tc + t) * p.hs + d;
  kCache[dst] = qkv[src + p.C];
  vCache[dst] = qkv[src + 2u * p.C];
}
`;

export const embedding: KernelSource = { name: 'embedding', code: embeddingCode, params: 'uuuu', storage: 'rrw' };
export const residual: KernelSource = { name: 'residual', code: residualCode, params: 'u', storage: 'wr' };
export const gelu: KernelSource = { name: 'gelu', code: geluCode, params: 'u', storage: 'rw' };
export const splitHeads: KernelSource = { name: 'splitHeads', code: splitHeadsCode, params: 'uuuuu', storage: 'rwww' };
