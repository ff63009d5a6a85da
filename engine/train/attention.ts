// Causal self-attention for training, written as matmuls per (batch row, head) so the kernel
// table's fast matmuls do the work: scores = Q·Kᵀ/√hs, P = softmax under the causal mask,
// y = P·V, and the same three products in reverse for the gradients. It computes exactly what
// causalAttentionForward / causalAttentionBackward in kernels.ts compute (the plain-loop
// specification it is tested against). The full T×T product is computed and the future masked
// afterwards: twice the multiply-adds of a loop that skips the masked half, but in SIMD they cost
// far less than the loop.
//
// B batch, T time, C channels, nh heads, hs head size.
import type { TrainKernels } from './gpt-train';

// Per-head working copies, allocated once through the kernel table and shared by all layers
// (both directions recompute them from qkv, which is cheap next to the products).
export interface AttentionScratch {
  q: Float32Array; // (B, nh, T, hs)
  k: Float32Array; // (B, nh, T, hs)
  v: Float32Array; // (B, nh, T, hs)
  y: Float32Array; // (B, nh, T, hs) output, or its gradient in the backward pass
  dq: Float32Array; // (B, nh, T, hs)
  dk: Float32Array; // (B, nh, T, hs)
  dv: Float32Array; // (B, nh, T, hs)
  dp: Float32Array; // (T, T) gradient of one head's weights, then of its scores
}

export function createAttentionScratch(k: TrainKernels, B: number, T: number, C: number): AttentionScratch {
  const n = B * T * C;
  return { q: k.alloc(n), k: k.alloc(n), v: k.alloc(n), y: k.alloc(n), dq: k.alloc(n), dk: k.alloc(n), dv: k.alloc(n), dp: k.alloc(T * T) };
}

// qkv (B, T, 3C) -> q, k, v (B, nh, T, hs): each head's rows made contiguous for the matmuls.
function splitHeads(s: AttentionScratch, qkv: Float32Array, B: number, T: number, C: number, nh: number): void {
  const hs = C / nh;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const src = (b * T + t) * 3 * C;
      for (let h = 0; h < nh; h++) {
        const dst = ((b * nh + h) * T + t) * hs;
        const o = src + h * hs;
        for (let d = 0; d < hs; d++) {
          s.q[dst + d] = qkv[o + d];
          s.k[dst + d] = qkv[o + C + d];
          s.v[dst + d] = qkv[o + 2 * C + d];
        }
      }
    }
  }
}

export function attentionForward(
  kern: TrainKernels, s: AttentionScratch, out: Float32Array, att: Float32Array, qkv: Float32Array,
  B: number, T: number, C: number, nh: number
): void {
  const hs = C / nh;
  const scale = 1 / Math.sqrt(hs);
  const TT = T * T;
  const Ths = T * hs;
  splitHeads(s, qkv, B, T, C, nh);
  for (let bh = 0; bh < B * nh; bh++) {
    const P = att.subarray(bh * TT, (bh + 1) * TT); // (T, T)
    const q = s.q.subarray(bh * Ths, (bh + 1) * Ths); // (T, hs)
    const k = s.k.subarray(bh * Ths, (bh + 1) * Ths); // (T, hs)
    const v = s.v.subarray(bh * Ths, (bh + 1) * Ths); // (T, hs)
    kern.matmulTransposedForward(P, q, k, T, hs, T); // scores before scaling
    kern.causalSoftmaxForward(P, T, scale);
    kern.matmulForward(s.y.subarray(bh * Ths, (bh + 1) * Ths), P, v, null, T, T, hs);
  }
  // (B, nh, T, hs) -> (B, T, C), heads side by side again
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < nh; h++) {
      for (let t = 0; t < T; t++) {
        const src = ((b * nh + h) * T + t) * hs;
        const dst = (b * T + t) * C + h * hs;
        for (let d = 0; d < hs; d++) out[dst + d] = s.y[src + d];
      }
    }
  }
}

// dqkv (B, T, 3C) += the gradient of the attention output dout (B, T, C).
export function attentionBackward(
  kern: TrainKernels, s: AttentionScratch, dqkv: Float32Array, dout: Float32Array, qkv: Float32Array,
  att: Float32Array, B: number, T: number, C: number, nh: number
): void {
  const hs = C / nh;
  const scale = 1 / Math.sqrt(hs);
  const TT = T * T;
  const Ths = T * hs;
  splitHeads(s, qkv, B, T, C, nh);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < nh; h++) {
      for (let t = 0; t < T; t++) {
        const dst = ((b * nh + h) * T + t) * hs;
        const src = (b * T + t) * C + h * hs;
        for (let d = 0; d < hs; d++) s.y[dst + d] = dout[src + d];
      }
    }
  }
  s.dq.fill(0);
  s.dk.fill(0);
  s.dv.fill(0);
  const dp = s.dp;
  for (let bh = 0; bh < B * nh; bh++) {
    const P = att.subarray(bh * TT, (bh + 1) * TT); // (T, T)
    const sl = (x: Float32Array) => x.subarray(bh * Ths, (bh + 1) * Ths); // (T, hs)
    // y = P·V: dP = dy·Vᵀ, dV += Pᵀ·dy
    dp.fill(0);
    kern.matmulBackward(dp, sl(s.dv), null, sl(s.y), P, sl(s.v), T, T, hs);
    // through the softmax and the 1/√hs scale
    kern.causalSoftmaxBackward(dp, P, T, scale);
    // scores = Q·Kᵀ: dQ += dscore·K, dK += dscoreᵀ·Q
    kern.matmulTransposedBackward(sl(s.dq), sl(s.dk), dp, sl(s.q), sl(s.k), T, hs, T);
  }
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const dst = (b * T + t) * 3 * C;
      for (let h = 0; h < nh; h++) {
        const src = ((b * nh + h) * T + t) * hs;
        const o = dst + h * hs;
        for (let d = 0; d < hs; d++) {
          dqkv[o + d] += s.dq[src + d];
          dqkv[o + C + d] += s.dk[src + d];
          dqkv[o + 2 * C + d] += s.dv[src + d];
        }
      }
    }
  }
}
