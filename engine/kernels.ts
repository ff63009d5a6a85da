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

// out = a + b, elementwise over n values: the residual connection.
export function residualForward(out: Float32Array, a: Float32Array, b: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
}
