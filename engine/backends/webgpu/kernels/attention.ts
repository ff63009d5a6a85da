// Causal self-attention for T new tokens after Tc cached ones, Tk = Tc + T, in three kernels so
// that the widgets' tensors exist as buffers: scores (nh, T, Tk) = q·k/√hs before the mask, masked
// (the same, with -Infinity where a token would see its future), weights = softmax of masked, and
// then out (T, C) = weights @ v with the heads side by side.
import { flatIndex, type KernelSource } from './kernel';

// One thread a score. masked is written as the bits of an f32: -Infinity cannot be spelled in WGSL,
// and its bit pattern survives any arithmetic shortcut a shader compiler might take.
const scoresCode = /* wgsl */ `${flatIndex}
struct Params {
  T: u32,
  Tc: u32,
  nh: u32,
  hs: u32,
  S: u32,
  scale: f32, // 1/sqrt(hs)
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;            // (nh, T, hs)
@group(0) @binding(2) var<storage, read> kCache: array<f32>;       // (nh, S, hs)
@group(0) @binding(3) var<storage, read_write> scores: array<f32>; // (nh, T, Tk)
@group(0) @binding(4) var<storage, read_write> masked: array<u32>; // (nh, T, Tk), f32 bits

const negativeInfinity = 0xff800000u;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let Tk = p.Tc + p.T;
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.nh * p.T * Tk) {
    return;
  }
  let j = i % Tk;        // the key's position
  let t = (i / Tk) % p.T; // the query's row among the new tokens
  let h = i / (Tk * p.T);
  let qo = (h * p.T + t) * p.hs;
  let ko = (h * p.S + j) * p.hs;
  var s = 0.0;
  for (var d = 0u; d < p.hs; d++) {
    s += q[qo + d] * kCache[ko + d];
  }
  s *= p.scale;
  scores[i] = s;
  masked[i] = select(negativeInfinity, bitcast<u32>(s), j <= p.Tc + t);
}
`;

// One workgroup a row of scores: the row max and the sum of exponentials are each reduced by 64
// threads. Only keys 0..Tc+t take part; the future gets weight exactly 0.
const softmaxCode = /* wgsl */ `
struct Params {
  T: u32,
  Tc: u32,
  nh: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> scores: array<f32>;        // (nh, T, Tk)
@group(0) @binding(2) var<storage, read_write> weights: array<f32>; // (nh, T, Tk)

var<workgroup> part: array<f32, 64>;

fn reduce(lid: u32, v: f32, isMax: bool) -> f32 {
  part[lid] = v;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s / 2u) {
    if (lid < s) {
      if (isMax) {
        part[lid] = max(part[lid], part[lid + s]);
      } else {
        part[lid] += part[lid + s];
      }
    }
    workgroupBarrier();
  }
  let r = part[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x; // h * T + t
  if (row >= p.nh * p.T) {
    return;
  }
  let Tk = p.Tc + p.T;
  let last = p.Tc + row % p.T; // the last key this query may see: itself
  let o = row * Tk;
  var m = -3.4028234e38;
  for (var j = lid; j <= last; j += 64u) {
    m = max(m, scores[o + j]);
  }
  m = reduce(lid, m, true);
  var sum = 0.0;
  for (var j = lid; j <= last; j += 64u) {
    sum += exp(scores[o + j] - m);
  }
  sum = reduce(lid, sum, false);
  for (var j = lid; j < Tk; j += 64u) {
    var w = 0.0;
    if (j <= last) {
      w = exp(scores[o + j] - m) / sum;
    }
    weights[o + j] = w;
  }
}
`;

// out[t, h*hs + d] = sum over visible keys j of weights[h, t, j] * v[h, j, d]: one thread a value.
const valuesCode = /* wgsl */ `${flatIndex}
struct Params {
  T: u32,
  Tc: u32,
  C: u32,
  hs: u32,
  S: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> weights: array<f32>;   // (nh, T, Tk)
@group(0) @binding(2) var<storage, read> vCache: array<f32>;    // (nh, S, hs)
@group(0) @binding(3) var<storage, read_write> out: array<f32>; // (T, C)

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.T * p.C) {
    return;
  }
  let t = i / p.C;
  let h = (i % p.C) / p.hs;
  let d = i % p.hs;
  let Tk = p.Tc + p.T;
  let wo = (h * p.T + t) * Tk;
  let vo = h * p.S * p.hs + d;
  var acc = 0.0;
  for (var j = 0u; j <= p.Tc + t; j++) {
    acc += weights[wo + j] * vCache[vo + j * p.hs];
  }
  out[i] = acc;
}
`;

export const attentionScores: KernelSource = { name: 'attentionScores', code: scoresCode, params: 'uuuuuf', storage: 'rrww' };
export const attentionSoftmax: KernelSource = { name: 'attentionSoftmax', code: softmaxCode, params: 'uuu', storage: 'rw' };
export const attentionValues: KernelSource = { name: 'attentionValues', code: valuesCode, params: 'uuuuu', storage: 'rrw' };
