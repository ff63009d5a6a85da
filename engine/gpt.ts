// The GPT-2 forward pass, on the CPU, over a KV cache. With an empty cache it is the ordinary
// forward pass over a whole prompt; with a filled one it computes only the new tokens, reusing the
// keys and values of earlier tokens, which never change. Any intermediate tensor can be traced.
import type { GPTConfig } from './config';
import { EngineError } from './errors';
import * as reference from './kernels';
import { attentionForward, geluForward, layernormForward, residualForward } from './kernels';

export type Params = Record<string, Float32Array>;

export interface Weights {
  config: GPTConfig;
  params: Params;
}

// Keys and values of every token seen so far, per layer: k[l], v[l] (nh, n_positions, hs).
export interface KVCache {
  k: Float32Array[];
  v: Float32Array[];
  length: number; // Tc: tokens already in the cache
}

export const layerTraceKeys = [
  'ln1', 'q', 'k', 'v', 'attn.scores', 'attn.masked', 'attn.weights', 'attn.heads', 'attn.out', 'res1',
  'ln2', 'mlp.pre', 'mlp.act', 'mlp.out', 'res2'
] as const;
export const modelTraceKeys = ['tok_emb', 'pos_emb', 'x0', 'ln_f', 'logits'] as const;
export type TraceKey = (typeof layerTraceKeys)[number] | (typeof modelTraceKeys)[number];

export interface TracedTensor {
  shape: number[];
  data: Float32Array;
}
export type LayerTrace = Partial<Record<(typeof layerTraceKeys)[number], TracedTensor>>;
export interface Trace extends Partial<Record<(typeof modelTraceKeys)[number], TracedTensor>> {
  layers: LayerTrace[];
}

// The two matmuls hold nearly all of the forward pass's arithmetic, so they are the kernels a
// faster implementation (WASM SIMD, see engine/wasm) may replace; the default is the reference.
export interface MatmulKernels {
  matmulForward: typeof reference.matmulForward;
  matmulTransposedForward: typeof reference.matmulTransposedForward;
}

export interface ForwardOptions {
  kernels?: MatmulKernels; // default: the plain-loop references of kernels.ts
  cache?: KVCache; // continue from this cache (it is extended in place); default: a fresh one
  trace?: readonly TraceKey[] | true; // which intermediates to keep; default none
  lastOnly?: boolean; // compute logits for the last position only (generation needs no more)
  ablate?: readonly Ablation[]; // heads (or whole attention sublayers) switched off; default none
}

// Switching a head off, to see what it contributes: its slice of the attention output (columns
// h*hs..(h+1)*hs of the heads side by side, before c_proj) is zeroed, so c_proj never sees it.
// head 'all' removes the layer's whole attention branch, c_proj's bias included: x = x + 0.
// A cache filled by an ablated pass holds the ablated keys and values of later layers, so a caller
// continuing it passes the same ablation again.
export interface Ablation {
  layer: number;
  head: number | 'all';
}

export function checkAblations(config: GPTConfig, ablate: readonly Ablation[]): void {
  for (const a of ablate) {
    const { layer, head } = a ?? ({} as Ablation);
    if (!Number.isInteger(layer) || layer < 0 || layer >= config.n_layer) {
      throw new EngineError('bad_ablation', `Layer ${String(layer)} does not exist: this model has layers 0 to ${config.n_layer - 1}.`);
    }
    if (head !== 'all' && (!Number.isInteger(head) || head < 0 || head >= config.n_head)) {
      throw new EngineError('bad_ablation', `Head ${String(head)} does not exist: each layer has heads 0 to ${config.n_head - 1} (or 'all').`);
    }
  }
}

export interface ForwardResult {
  logits: Float32Array; // (T, V), or (1, V) with lastOnly
  trace: Trace;
  cache: KVCache;
}

export function createCache(config: GPTConfig): KVCache {
  const size = config.n_positions * config.n_embd; // nh * n_positions * hs
  return {
    k: Array.from({ length: config.n_layer }, () => new Float32Array(size)),
    v: Array.from({ length: config.n_layer }, () => new Float32Array(size)),
    length: 0
  };
}

export function checkTokens(config: GPTConfig, ids: readonly number[], cached = 0): void {
  if (ids.length === 0) {
    throw new EngineError('empty_prompt', 'The prompt is empty: type at least one character for the model to continue.');
  }
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= config.vocab_size) {
      throw new EngineError('bad_token', `Token id ${id} is outside the vocabulary (0 to ${config.vocab_size - 1}).`);
    }
  }
  if (cached + ids.length > config.n_positions) {
    throw new EngineError(
      'context_overflow',
      `The text is ${(cached + ids.length).toLocaleString('en-US')} tokens long, but this model sees at most ${config.n_positions.toLocaleString('en-US')} tokens at once.`
    );
  }
}

export function forward(model: Weights, ids: readonly number[], opts: ForwardOptions = {}): ForwardResult {
  const { config, params: p } = model;
  const { matmulForward, matmulTransposedForward } = opts.kernels ?? reference;
  const cache = opts.cache ?? createCache(config);
  const Tc = cache.length;
  checkTokens(config, ids, Tc);
  const ablate = opts.ablate ?? [];
  checkAblations(config, ablate);
  const want = (key: TraceKey) => opts.trace === true || (opts.trace?.includes(key) ?? false);

  const T = ids.length;
  const C = config.n_embd;
  const nh = config.n_head;
  const hs = C / nh;
  const S = config.n_positions;
  const V = config.vocab_size;
  const Tk = Tc + T;
  const eps = config.layer_norm_epsilon;
  const trace: Trace = { layers: [] };
  const keep = (key: TraceKey, shape: number[], data: Float32Array, layer?: number) => {
    if (!want(key)) return;
    const t = { shape, data: data.slice(0, shape.reduce((a, b) => a * b, 1)) };
    if (layer === undefined) trace[key as (typeof modelTraceKeys)[number]] = t;
    else trace.layers[layer][key as (typeof layerTraceKeys)[number]] = t;
  };

  // token embedding + position embedding
  const wte = p['wte.weight']; // (V, C)
  const wpe = p['wpe.weight']; // (n_positions, C)
  const tokEmb = new Float32Array(T * C); // (T, C)
  const posEmb = new Float32Array(T * C); // (T, C)
  let x = new Float32Array(T * C); // (T, C) the residual stream
  for (let t = 0; t < T; t++) {
    tokEmb.set(wte.subarray(ids[t] * C, (ids[t] + 1) * C), t * C);
    posEmb.set(wpe.subarray((Tc + t) * C, (Tc + t + 1) * C), t * C);
  }
  residualForward(x, tokEmb, posEmb, T * C);
  keep('tok_emb', [T, C], tokEmb);
  keep('pos_emb', [T, C], posEmb);
  keep('x0', [T, C], x);

  const ln = new Float32Array(T * C); // (T, C)
  const qkv = new Float32Array(T * 3 * C); // (T, 3C)
  const q = new Float32Array(T * C); // (T, C), head h in columns h*hs..
  const attY = new Float32Array(T * C); // (T, C) heads side by side, before c_proj
  const proj = new Float32Array(T * C); // (T, C)
  const scores = new Float32Array(nh * T * Tk); // (nh, T, Tk)
  const masked = new Float32Array(nh * T * Tk); // (nh, T, Tk)
  const weights = new Float32Array(nh * T * Tk); // (nh, T, Tk)
  const pre = new Float32Array(T * 4 * C); // (T, 4C)
  const act = new Float32Array(T * 4 * C); // (T, 4C)

  for (let l = 0; l < config.n_layer; l++) {
    const w = (name: string) => p[`h.${l}.${name}`];
    trace.layers.push({});

    // attention sublayer: x = x + c_proj(attention(ln_1(x)))
    layernormForward(ln, null, null, x, w('ln_1.weight'), w('ln_1.bias'), T, C, eps);
    keep('ln1', [T, C], ln, l);
    matmulForward(qkv, ln, w('attn.c_attn.weight'), w('attn.c_attn.bias'), T, C, 3 * C);
    const kc = cache.k[l]; // (nh, S, hs)
    const vc = cache.v[l]; // (nh, S, hs)
    for (let t = 0; t < T; t++) {
      const r = t * 3 * C;
      q.set(qkv.subarray(r, r + C), t * C);
      for (let h = 0; h < nh; h++) {
        const dst = (h * S + Tc + t) * hs;
        kc.set(qkv.subarray(r + C + h * hs, r + C + (h + 1) * hs), dst);
        vc.set(qkv.subarray(r + 2 * C + h * hs, r + 2 * C + (h + 1) * hs), dst);
      }
    }
    if (want('q')) keep('q', [nh, T, hs], splitHeads(q, T, nh, hs), l);
    if (want('k')) keep('k', [nh, Tk, hs], cachedHeads(kc, Tk, nh, hs, S), l);
    if (want('v')) keep('v', [nh, Tk, hs], cachedHeads(vc, Tk, nh, hs, S), l);
    attentionForward(attY, scores, masked, weights, q, kc, vc, T, Tc, nh, hs, S);
    keep('attn.scores', [nh, T, Tk], scores, l);
    keep('attn.masked', [nh, T, Tk], masked, l);
    keep('attn.weights', [nh, T, Tk], weights, l);
    // each head's blend of values, side by side: what c_proj then mixes into attn.out
    keep('attn.heads', [T, C], attY, l);
    const off = ablate.filter((a) => a.layer === l);
    for (const { head } of off) {
      if (head === 'all') continue;
      for (let t = 0; t < T; t++) attY.fill(0, t * C + head * hs, t * C + (head + 1) * hs);
    }
    matmulForward(proj, attY, w('attn.c_proj.weight'), w('attn.c_proj.bias'), T, C, C);
    if (off.some((a) => a.head === 'all')) proj.fill(0);
    keep('attn.out', [T, C], proj, l);
    const res1 = new Float32Array(T * C);
    residualForward(res1, x, proj, T * C);
    x = res1;
    keep('res1', [T, C], x, l);

    // MLP sublayer: x = x + c_proj(gelu(c_fc(ln_2(x)))), widening to 4C and back
    layernormForward(ln, null, null, x, w('ln_2.weight'), w('ln_2.bias'), T, C, eps);
    keep('ln2', [T, C], ln, l);
    matmulForward(pre, ln, w('mlp.c_fc.weight'), w('mlp.c_fc.bias'), T, C, 4 * C);
    keep('mlp.pre', [T, 4 * C], pre, l);
    geluForward(act, pre, T * 4 * C);
    keep('mlp.act', [T, 4 * C], act, l);
    matmulForward(proj, act, w('mlp.c_proj.weight'), w('mlp.c_proj.bias'), T, 4 * C, C);
    keep('mlp.out', [T, C], proj, l);
    const res2 = new Float32Array(T * C);
    residualForward(res2, x, proj, T * C);
    x = res2;
    keep('res2', [T, C], x, l);
  }

  layernormForward(ln, null, null, x, p['ln_f.weight'], p['ln_f.bias'], T, C, eps);
  keep('ln_f', [T, C], ln);
  // the output head is tied to the token embedding: logits = ln_f(x) @ wteᵀ. In slices of rows,
  // so a large vocabulary (GPT-2's 50,257) never needs one huge temporary in a faster kernel.
  const rows = opts.lastOnly ? 1 : T;
  const logits = new Float32Array(rows * V); // (rows, V)
  for (let r = 0; r < rows; r += 64) {
    const n = Math.min(64, rows - r);
    matmulTransposedForward(logits.subarray(r * V, (r + n) * V), ln.subarray((T - rows + r) * C, (T - rows + r + n) * C), wte, n, C, V);
  }
  keep('logits', [rows, V], logits);
  // only now does the cache own the new tokens: a pass that threw midway leaves it as it was
  cache.length = Tk;
  return { logits, trace, cache };
}

// (T, C) with heads side by side -> (nh, T, hs)
function splitHeads(x: Float32Array, T: number, nh: number, hs: number): Float32Array {
  const out = new Float32Array(nh * T * hs);
  for (let h = 0; h < nh; h++)
    for (let t = 0; t < T; t++)
      out.set(x.subarray(t * nh * hs + h * hs, t * nh * hs + (h + 1) * hs), (h * T + t) * hs);
  return out;
}

// the first Tk rows of each head of a cache (nh, S, hs) -> (nh, Tk, hs)
function cachedHeads(c: Float32Array, Tk: number, nh: number, hs: number, S: number): Float32Array {
  const out = new Float32Array(nh * Tk * hs);
  for (let h = 0; h < nh; h++) out.set(c.subarray(h * S * hs, (h * S + Tk) * hs), h * Tk * hs);
  return out;
}
