// The CPU reference kernels: plain loops, written to be obviously correct. They are the
// specification every faster kernel (WASM SIMD, WGSL) is tested against.
// N = rows (B*T flattened), C = channels, IC/OC = in/out channels, nh = heads, hs = head size.

// out (N, OC) = inp (N, IC) @ w (IC, OC) + bias (OC). w is in GPT-2's Conv1D layout (in, out);
// the loop order walks w row by row so every inner loop reads memory in order.
export function matmulForward(
  out: Float32Array, inp: Float32Array, w: Float32Array, bias: Float32Array | null,
  N: number, IC: number, OC: number
): void {
  for (let n = 0; n < N; n++) {
    const o = n * OC;
    for (let j = 0; j < OC; j++) out[o + j] = bias ? bias[j] : 0;
    for (let i = 0; i < IC; i++) {
      const a = inp[n * IC + i];
      const wi = i * OC;
      for (let j = 0; j < OC; j++) out[o + j] += a * w[wi + j];
    }
  }
}

// out (N, OC) = inp (N, IC) @ wᵀ, with w (OC, IC): the tied output head, logits = h @ wteᵀ.
export function matmulTransposedForward(
  out: Float32Array, inp: Float32Array, w: Float32Array, N: number, IC: number, OC: number
): void {
  for (let n = 0; n < N; n++) {
    const x = n * IC;
    for (let j = 0; j < OC; j++) {
      const wj = j * IC;
      let s = 0;
      for (let i = 0; i < IC; i++) s += inp[x + i] * w[wj + i];
      out[n * OC + j] = s;
    }
  }
}

// Normalise each row to zero mean and unit variance, then scale and shift. mean and rstd (N) are
// kept when given because the backward pass needs them.
export function layernormForward(
  out: Float32Array, mean: Float32Array | null, rstd: Float32Array | null,
  inp: Float32Array, w: Float32Array, b: Float32Array, N: number, C: number, eps: number
): void {
  for (let n = 0; n < N; n++) {
    const x = n * C;
    let m = 0;
    for (let i = 0; i < C; i++) m += inp[x + i];
    m /= C;
    let v = 0;
    for (let i = 0; i < C; i++) v += (inp[x + i] - m) ** 2;
    v /= C;
    const s = 1 / Math.sqrt(v + eps);
    for (let i = 0; i < C; i++) out[x + i] = (inp[x + i] - m) * s * w[i] + b[i];
    if (mean) mean[n] = m;
    if (rstd) rstd[n] = s;
  }
}

const GELU_SCALE = Math.sqrt(2 / Math.PI);

// GELU in the tanh form GPT-2 was trained with ("gelu_new" in Hugging Face's naming).
export function geluForward(out: Float32Array, inp: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i];
    out[i] = 0.5 * x * (1 + Math.tanh(GELU_SCALE * (x + 0.044715 * x * x * x)));
  }
}

// Softmax of each row of length C, in place, over its first `valid` entries (the rest are set to 0).
// Subtracting the row max first keeps exp() from overflowing; -Infinity entries become exactly 0.
export function softmaxRows(x: Float32Array, N: number, C: number, valid: number = C): void {
  for (let n = 0; n < N; n++) {
    const o = n * C;
    let max = -Infinity;
    for (let i = 0; i < valid; i++) if (x[o + i] > max) max = x[o + i];
    let sum = 0;
    for (let i = 0; i < valid; i++) {
      const e = Math.exp(x[o + i] - max);
      x[o + i] = e;
      sum += e;
    }
    for (let i = 0; i < valid; i++) x[o + i] /= sum;
    for (let i = valid; i < C; i++) x[o + i] = 0;
  }
}

// Causal self-attention for T new tokens that follow Tc tokens already in the cache.
// q (T, C) holds the queries of the new tokens with head h in columns h*hs..(h+1)*hs; kCache and
// vCache (nh, S, hs) hold keys and values of all Tc + T tokens (S is the cache capacity).
// Outputs: out (T, C), and per head scores (nh, T, Tk) = q·k/√hs before the mask, masked (nh, T, Tk)
// with -Infinity where a token would see its future, weights (nh, T, Tk) = softmax of masked;
// Tk = Tc + T. Attention is the only layer that mixes information across positions.
export function attentionForward(
  out: Float32Array, scores: Float32Array, masked: Float32Array, weights: Float32Array,
  q: Float32Array, kCache: Float32Array, vCache: Float32Array,
  T: number, Tc: number, nh: number, hs: number, S: number
): void {
  const C = nh * hs;
  const Tk = Tc + T;
  const scale = 1 / Math.sqrt(hs);
  out.fill(0, 0, T * C);
  for (let h = 0; h < nh; h++) {
    const kh = h * S * hs;
    for (let t = 0; t < T; t++) {
      const row = (h * T + t) * Tk;
      const qo = t * C + h * hs;
      const pos = Tc + t; // this token's absolute position: it may see keys 0..pos
      for (let j = 0; j < Tk; j++) {
        let s = 0;
        for (let d = 0; d < hs; d++) s += q[qo + d] * kCache[kh + j * hs + d];
        scores[row + j] = s * scale;
        masked[row + j] = j <= pos ? s * scale : -Infinity;
        weights[row + j] = masked[row + j];
      }
      softmaxRows(weights.subarray(row, row + Tk), 1, Tk, pos + 1);
      for (let j = 0; j <= pos; j++) {
        const wj = weights[row + j];
        const vo = kh + j * hs;
        for (let d = 0; d < hs; d++) out[qo + d] += wj * vCache[vo + d];
      }
    }
  }
}

// One head's attention scores P (T, T) of a training sequence, in place: row t becomes
// softmax(scale·P[t, 0..t]) and 0 past t, so a token never sees its future. The training
// attention (engine/train/attention.ts) computes the full T×T product and masks here.
export function causalSoftmaxForward(P: Float32Array, T: number, scale: number): void {
  for (let t = 0; t < T; t++) {
    const row = t * T;
    let max = -Infinity;
    for (let t2 = 0; t2 <= t; t2++) {
      const x = P[row + t2] * scale;
      P[row + t2] = x;
      if (x > max) max = x;
    }
    let sum = 0;
    for (let t2 = 0; t2 <= t; t2++) {
      const e = Math.exp(P[row + t2] - max);
      P[row + t2] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let t2 = 0; t2 <= t; t2++) P[row + t2] *= inv;
    for (let t2 = t + 1; t2 < T; t2++) P[row + t2] = 0;
  }
}

// Its backward, in place: dp (T, T) holds dL/dP and becomes dL/d(raw scores):
// P·(dP - Σ P·dP) per row through the softmax, then the scale.
export function causalSoftmaxBackward(dp: Float32Array, P: Float32Array, T: number, scale: number): void {
  for (let t = 0; t < T; t++) {
    const row = t * T;
    let dot = 0;
    for (let t2 = 0; t2 <= t; t2++) dot += P[row + t2] * dp[row + t2];
    for (let t2 = 0; t2 <= t; t2++) dp[row + t2] = P[row + t2] * (dp[row + t2] - dot) * scale;
    for (let t2 = t + 1; t2 < T; t2++) dp[row + t2] = 0;
  }
}

// out = a + b, elementwise over n values: the residual connection.
export function residualForward(out: Float32Array, a: Float32Array, b: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
}

// ---------------------------------------------------------------------------------------------
// Training: the batched forward kernels that keep what the backward pass needs, and the backward
// kernels. B = batch, T = time. Every backward kernel ACCUMULATES (+=) into its gradient outputs,
// as llm.c does, because a tensor used twice (the residual stream, the tied wte) gets the sum of
// both gradients; the caller zeroes the gradients once per step.

// out (B, T, C) = wte[ids] + wpe[t]: token embedding plus position embedding.
export function encoderForward(
  out: Float32Array, ids: Int32Array, wte: Float32Array, wpe: Float32Array, B: number, T: number, C: number
): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const o = (b * T + t) * C;
      const we = ids[b * T + t] * C;
      const pe = t * C;
      for (let i = 0; i < C; i++) out[o + i] = wte[we + i] + wpe[pe + i];
    }
  }
}

// dwte (V, C) and dwpe (n_positions, C) += the rows of dout (B, T, C) they produced.
export function encoderBackward(
  dwte: Float32Array, dwpe: Float32Array, dout: Float32Array, ids: Int32Array, B: number, T: number, C: number
): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const o = (b * T + t) * C;
      const we = ids[b * T + t] * C;
      const pe = t * C;
      for (let i = 0; i < C; i++) {
        dwte[we + i] += dout[o + i];
        dwpe[pe + i] += dout[o + i];
      }
    }
  }
}

// LayerNorm backward, with mean and rstd (N) saved by layernormForward. With x̂ = (x - mean)·rstd
// and y = x̂·w + b: dx = rstd·(dx̂ - mean(dx̂) - x̂·mean(dx̂·x̂)), where dx̂ = dy·w.
export function layernormBackward(
  dinp: Float32Array, dw: Float32Array, db: Float32Array, dout: Float32Array,
  inp: Float32Array, w: Float32Array, mean: Float32Array, rstd: Float32Array, N: number, C: number
): void {
  for (let n = 0; n < N; n++) {
    const x = n * C;
    const m = mean[n];
    const s = rstd[n];
    let dnormMean = 0;
    let dnormNormMean = 0;
    for (let i = 0; i < C; i++) {
      const norm = (inp[x + i] - m) * s;
      const dnorm = w[i] * dout[x + i];
      dnormMean += dnorm;
      dnormNormMean += dnorm * norm;
    }
    dnormMean /= C;
    dnormNormMean /= C;
    for (let i = 0; i < C; i++) {
      const norm = (inp[x + i] - m) * s;
      const dnorm = w[i] * dout[x + i];
      db[i] += dout[x + i];
      dw[i] += norm * dout[x + i];
      dinp[x + i] += s * (dnorm - dnormMean - norm * dnormNormMean);
    }
  }
}

// GELU (tanh form) backward: d/dx of 0.5·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³).
export function geluBackward(dinp: Float32Array, inp: Float32Array, dout: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i];
    const u = GELU_SCALE * (x + 0.044715 * x * x * x);
    const th = Math.tanh(u);
    const sech2 = 1 - th * th;
    const local = 0.5 * (1 + th) + 0.5 * x * sech2 * GELU_SCALE * (1 + 3 * 0.044715 * x * x);
    dinp[i] += local * dout[i];
  }
}

// The residual connection out = a + b passes its gradient unchanged to both branches.
export function residualBackward(da: Float32Array, db: Float32Array, dout: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    da[i] += dout[i];
    db[i] += dout[i];
  }
}

// Causal self-attention over a batch of whole sequences (no cache), for training.
// qkv (B, T, 3C) holds [q | k | v] per token, heads side by side in each; out (B, T, C);
// att (B, nh, T, T) keeps the softmax weights for the backward pass, 0 above the diagonal.
export function causalAttentionForward(
  out: Float32Array, att: Float32Array, qkv: Float32Array, B: number, T: number, C: number, nh: number
): void {
  const hs = C / nh;
  const C3 = 3 * C;
  const scale = 1 / Math.sqrt(hs);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < nh; h++) {
      for (let t = 0; t < T; t++) {
        const qo = (b * T + t) * C3 + h * hs;
        const row = ((b * nh + h) * T + t) * T;
        // scores q·k/√hs for the keys this token may see (0..t), with their max for a stable exp
        let max = -Infinity;
        for (let t2 = 0; t2 <= t; t2++) {
          const ko = (b * T + t2) * C3 + C + h * hs;
          let s = 0;
          for (let d = 0; d < hs; d++) s += qkv[qo + d] * qkv[ko + d];
          s *= scale;
          att[row + t2] = s;
          if (s > max) max = s;
        }
        let sum = 0;
        for (let t2 = 0; t2 <= t; t2++) {
          const e = Math.exp(att[row + t2] - max);
          att[row + t2] = e;
          sum += e;
        }
        const inv = 1 / sum;
        for (let t2 = 0; t2 <= t; t2++) att[row + t2] *= inv;
        for (let t2 = t + 1; t2 < T; t2++) att[row + t2] = 0;
        // the output is the attention-weighted sum of the values
        const oo = (b * T + t) * C + h * hs;
        for (let d = 0; d < hs; d++) out[oo + d] = 0;
        for (let t2 = 0; t2 <= t; t2++) {
          const vo = (b * T + t2) * C3 + 2 * C + h * hs;
          const a = att[row + t2];
          for (let d = 0; d < hs; d++) out[oo + d] += a * qkv[vo + d];
        }
      }
    }
  }
}

// Backward of causalAttentionForward: dqkv (B, T, 3C) += the gradient from dout (B, T, C).
// Per query row: through the weighted sum (to the weights and the values), through the softmax
// (dpre = a·(da - Σ a·da)), then through the scaled dot product (to q and k).
export function causalAttentionBackward(
  dqkv: Float32Array, dout: Float32Array, qkv: Float32Array, att: Float32Array,
  B: number, T: number, C: number, nh: number
): void {
  const hs = C / nh;
  const C3 = 3 * C;
  const scale = 1 / Math.sqrt(hs);
  const datt = new Float64Array(T); // (T) one row of d(weights), then d(scores)
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < nh; h++) {
      for (let t = 0; t < T; t++) {
        const row = ((b * nh + h) * T + t) * T;
        const qo = (b * T + t) * C3 + h * hs;
        const oo = (b * T + t) * C + h * hs;
        let dot = 0; // Σ a·da
        for (let t2 = 0; t2 <= t; t2++) {
          const vo = (b * T + t2) * C3 + 2 * C + h * hs;
          const a = att[row + t2];
          let da = 0;
          for (let d = 0; d < hs; d++) {
            da += dout[oo + d] * qkv[vo + d];
            dqkv[vo + d] += a * dout[oo + d];
          }
          datt[t2] = da;
          dot += a * da;
        }
        for (let t2 = 0; t2 <= t; t2++) {
          const dpre = att[row + t2] * (datt[t2] - dot) * scale;
          const ko = (b * T + t2) * C3 + C + h * hs;
          for (let d = 0; d < hs; d++) {
            dqkv[qo + d] += dpre * qkv[ko + d];
            dqkv[ko + d] += dpre * qkv[qo + d];
          }
        }
      }
    }
  }
}

// Softmax and cross-entropy fused: probs (N, V) = softmax(logits) (probs may be logits itself, to
// work in place), losses (N) = -log probs[target]. Computing the two together is both cheaper
// and stabler than a softmax followed by a log.
export function crossEntropyForward(
  losses: Float32Array, probs: Float32Array, logits: Float32Array, targets: Int32Array, N: number, V: number
): void {
  for (let n = 0; n < N; n++) {
    const o = n * V;
    const target = logits[o + targets[n]]; // read before an in-place softmax overwrites it
    let max = -Infinity;
    for (let i = 0; i < V; i++) if (logits[o + i] > max) max = logits[o + i];
    let sum = 0;
    for (let i = 0; i < V; i++) {
      const e = Math.exp(logits[o + i] - max);
      probs[o + i] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let i = 0; i < V; i++) probs[o + i] *= inv;
    // -log p from the logits directly, so a tiny probability does not round to log(0)
    losses[n] = -(target - max - Math.log(sum));
  }
}

// dlogits (N, V) += dlosses[n]·(probs - onehot(target)): the famously simple gradient of softmax
// followed by cross-entropy. For the mean loss over N rows, dlosses is 1/N everywhere.
export function crossEntropyBackward(
  dlogits: Float32Array, probs: Float32Array, targets: Int32Array, dlosses: Float32Array, N: number, V: number
): void {
  for (let n = 0; n < N; n++) {
    const o = n * V;
    const dl = dlosses[n];
    for (let i = 0; i < V; i++) dlogits[o + i] += dl * probs[o + i];
    dlogits[o + targets[n]] -= dl;
  }
}

// Backward of matmulForward (w in Conv1D layout (IC, OC)): dinp (N, IC) += dout @ wᵀ,
// dw (IC, OC) += inpᵀ @ dout, dbias (OC) += the column sums of dout. Loops keep rows contiguous.
export function matmulBackward(
  dinp: Float32Array, dw: Float32Array, dbias: Float32Array | null, dout: Float32Array,
  inp: Float32Array, w: Float32Array, N: number, IC: number, OC: number
): void {
  for (let n = 0; n < N; n++) {
    const go = n * OC;
    for (let i = 0; i < IC; i++) {
      const wi = i * OC;
      let s = 0;
      for (let j = 0; j < OC; j++) s += dout[go + j] * w[wi + j];
      dinp[n * IC + i] += s;
    }
    for (let i = 0; i < IC; i++) {
      const a = inp[n * IC + i];
      const wi = i * OC;
      for (let j = 0; j < OC; j++) dw[wi + j] += a * dout[go + j];
    }
    if (dbias) for (let j = 0; j < OC; j++) dbias[j] += dout[go + j];
  }
}

// Backward of matmulTransposedForward (w (OC, IC)): dinp (N, IC) += dout @ w,
// dw (OC, IC) += doutᵀ @ inp.
export function matmulTransposedBackward(
  dinp: Float32Array, dw: Float32Array, dout: Float32Array, inp: Float32Array, w: Float32Array,
  N: number, IC: number, OC: number
): void {
  for (let n = 0; n < N; n++) {
    const x = n * IC;
    for (let j = 0; j < OC; j++) {
      const g = dout[n * OC + j];
      const wj = j * IC;
      for (let i = 0; i < IC; i++) {
        dinp[x + i] += g * w[wj + i];
        dw[wj + i] += g * inp[x + i];
      }
    }
  }
}
