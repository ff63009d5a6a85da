// An independent GPT-2 in TensorFlow.js, written from the architecture (Radford et al. 2019,
// "Language Models are Unsupervised Multitask Learners": pre-LayerNorm blocks, learned positions,
// tanh GELU, tied output head) and not from engine/gpt.ts. It takes the same parameters, so the
// parity test can hold our forward pass against it, the gradient check can hold our backward pass
// against tfjs autodiff, and the benchmark can time tfjs on exactly the weights we run.
//
// B = batch, T = time, C = channels, V = vocab, nh = heads, hs = head size, Tk = keys (cache + new).
// Parameters arrive as our `Params` (GPT-2 names, Conv1D layout: y = x @ W + b, row-major).
//
// Everything here runs on whichever tfjs backend is active; tests select 'cpu' (plain float32
// JavaScript, deterministic), the benchmark 'wasm' or 'webgpu'.
import * as tf from '@tensorflow/tfjs';
import type { GPTConfig } from '../../engine/config';
import { paramShapes } from '../../engine/config';
import type { Params, Trace } from '../../engine/gpt';

export type TfParams = Record<string, tf.Tensor>;

// The parameters as tfjs tensors of their GPT-2 shapes (copied once; dispose them when done).
export function toTensors(config: GPTConfig, params: Params): TfParams {
  const out: TfParams = {};
  for (const [name, shape] of paramShapes(config)) {
    const data = params[name];
    if (!data) throw new Error(`tfjs reference: parameter "${name}" is missing`);
    out[name] = tf.tensor(data, shape, 'float32');
  }
  return out;
}

// The places where a fast tfjs program and a plain one differ. The plain choices are the
// reference; the training benchmark swaps in faster ones (bench/tfjs-train.ts).
export interface Ops {
  linear(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D; // (N, IC) @ (IC, OC) + (OC)
  embed(ids: tf.Tensor1D, wte: tf.Tensor2D): tf.Tensor2D; // (N) -> (N, C)
  head(h: tf.Tensor2D, wte: tf.Tensor2D): tf.Tensor2D; // (N, C) -> (N, V), tied to wte
}

export const plainOps: Ops = {
  linear: (x, w, b) => tf.add(tf.matMul(x, w), b),
  embed: (ids, wte) => tf.gather(wte, ids),
  head: (h, wte) => tf.matMul(h, wte, false, true)
};

export function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true); // over channels
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), g), b);
}

// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), the tanh approximation GPT-2 was trained with
export function gelu(x: tf.Tensor): tf.Tensor {
  const cube = tf.mul(x, tf.mul(x, x)); // not tf.pow, whose gradient also differentiates the exponent
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, cube)));
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
}

// (T, Tk) additive mask for T new tokens after Tc cached ones: 0 where query t may see key j
// (j ≤ Tc + t), −Infinity where j lies in its future.
export function causalMask(T: number, Tc: number): tf.Tensor2D {
  const Tk = Tc + T;
  const m = new Float32Array(T * Tk);
  for (let t = 0; t < T; t++) for (let j = Tc + t + 1; j < Tk; j++) m[t * Tk + j] = -Infinity;
  return tf.tensor2d(m, [T, Tk]);
}

export interface TfForward {
  logits: tf.Tensor3D; // (B, T, V)
  attention: tf.Tensor4D[]; // per layer (B, nh, T, T), only when asked for
}

// The whole forward pass for a batch of sequences that all start at position 0.
export function gptForwardTf(
  config: GPTConfig, w: TfParams, ids: tf.Tensor2D,
  // trace: hears every intermediate under engine/gpt.ts's trace key (layer null for the model-wide
  // ones), so a test can compare each of them, not only the logits
  opts: { attention?: boolean; ops?: Ops; trace?: (key: string, layer: number | null, t: tf.Tensor) => void } = {}
): TfForward {
  const ops = opts.ops ?? plainOps;
  const [B, T] = ids.shape;
  const C = config.n_embd;
  const nh = config.n_head;
  const hs = C / nh;
  const V = config.vocab_size;
  const eps = config.layer_norm_epsilon;
  const p = (name: string) => w[name] as tf.Tensor2D & tf.Tensor1D;

  const tokEmb = tf.reshape(ops.embed(tf.reshape(ids, [B * T]) as tf.Tensor1D, p('wte.weight')), [B, T, C]); // (B, T, C)
  const posEmb = tf.slice(p('wpe.weight'), [0, 0], [T, C]); // (T, C), broadcast over B
  let x: tf.Tensor = tf.add(tokEmb, posEmb); // (B, T, C)
  const trace = opts.trace ?? (() => {});
  trace('tok_emb', null, tokEmb);
  trace('pos_emb', null, posEmb);
  trace('x0', null, x);
  const mask = causalMask(T, 0); // (T, T)
  const attention: tf.Tensor4D[] = [];

  // (B, T, C) -> (B·nh, T, hs): each head sees its own hs-wide slice of the channels
  const heads = (t: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(t, [B, T, nh, hs]), [0, 2, 1, 3]), [B * nh, T, hs]) as tf.Tensor3D;

  for (let l = 0; l < config.n_layer; l++) {
    const h = (name: string) => p(`h.${l}.${name}`);
    const ln1 = tf.reshape(layerNorm(x, h('ln_1.weight'), h('ln_1.bias'), eps), [B * T, C]) as tf.Tensor2D; // (B*T, C)
    const qkv = ops.linear(ln1, h('attn.c_attn.weight'), h('attn.c_attn.bias')); // (B*T, 3C)
    const [q, k, v] = tf.split(tf.reshape(qkv, [B, T, 3 * C]), 3, 2).map(heads); // each (B·nh, T, hs)
    const kT = tf.transpose(k, [0, 2, 1]) as tf.Tensor3D; // (B·nh, hs, T)
    const scores = tf.mul(tf.matMul(q, kT), 1 / Math.sqrt(hs)); // (B·nh, T, T)
    const masked = tf.add(scores, mask); // (B·nh, T, T)
    const att = tf.softmax(masked) as tf.Tensor3D; // (B·nh, T, T)
    if (opts.attention) attention.push(tf.reshape(att, [B, nh, T, T]));
    const y = tf.reshape(tf.transpose(tf.reshape(tf.matMul(att, v), [B, nh, T, hs]), [0, 2, 1, 3]), [B * T, C]) as tf.Tensor2D; // (B*T, C)
    const attnOut = ops.linear(y, h('attn.c_proj.weight'), h('attn.c_proj.bias')); // (B*T, C)
    x = tf.add(x, tf.reshape(attnOut, [B, T, C]));
    for (const [key, t] of [['ln1', ln1], ['q', q], ['k', k], ['v', v], ['attn.scores', scores], ['attn.masked', masked], ['attn.weights', att], ['attn.out', attnOut], ['res1', x]] as const) trace(key, l, t);

    const ln2 = tf.reshape(layerNorm(x, h('ln_2.weight'), h('ln_2.bias'), eps), [B * T, C]) as tf.Tensor2D; // (B*T, C)
    const pre = ops.linear(ln2, h('mlp.c_fc.weight'), h('mlp.c_fc.bias')); // (B*T, 4C)
    const act = gelu(pre) as tf.Tensor2D; // (B*T, 4C)
    const mlpOut = ops.linear(act, h('mlp.c_proj.weight'), h('mlp.c_proj.bias')); // (B*T, C)
    x = tf.add(x, tf.reshape(mlpOut, [B, T, C]));
    for (const [key, t] of [['ln2', ln2], ['mlp.pre', pre], ['mlp.act', act], ['mlp.out', mlpOut], ['res2', x]] as const) trace(key, l, t);
  }
  const lnf = tf.reshape(layerNorm(x, p('ln_f.weight'), p('ln_f.bias'), eps), [B * T, C]) as tf.Tensor2D; // (B*T, C)
  const logits = tf.reshape(ops.head(lnf, p('wte.weight')), [B, T, V]) as tf.Tensor3D; // (B, T, V)
  trace('ln_f', null, lnf);
  trace('logits', null, logits);
  return { logits, attention };
}

// One sequence through tfjs, read back: logits (T, V) and per layer the attention weights
// (nh, T, T), weights[h][i][j] being how much token i attends to token j in head h.
export function tfjsForward(config: GPTConfig, params: Params, ids: readonly number[]): { logits: Float32Array; attention: Float32Array[] } {
  return tf.tidy(() => {
    const w = toTensors(config, params);
    const { logits, attention } = gptForwardTf(config, w, tf.tensor2d([...ids], [1, ids.length], 'int32'), { attention: true });
    return { logits: logits.dataSync() as Float32Array, attention: attention.map((a) => a.dataSync() as Float32Array) };
  });
}

// One sequence through tfjs with every intermediate read back, in engine/gpt.ts's Trace layout and
// shapes (batch 1 dropped: q, k, v (nh, T, hs), attention tensors (nh, T, T), the rest (T, ·)).
export function tfjsTrace(config: GPTConfig, params: Params, ids: readonly number[]): { logits: Float32Array; trace: Trace } {
  const T = ids.length;
  const C = config.n_embd;
  const nh = config.n_head;
  const shapeOf: Record<string, number[]> = {
    q: [nh, T, C / nh], k: [nh, T, C / nh], v: [nh, T, C / nh],
    'attn.scores': [nh, T, T], 'attn.masked': [nh, T, T], 'attn.weights': [nh, T, T],
    'mlp.pre': [T, 4 * C], 'mlp.act': [T, 4 * C], logits: [T, config.vocab_size]
  };
  const trace: Trace = { layers: Array.from({ length: config.n_layer }, () => ({})) };
  const logits = tf.tidy(() => {
    const w = toTensors(config, params);
    const hear = (key: string, layer: number | null, t: tf.Tensor) => {
      const shape = shapeOf[key] ?? [T, C];
      if (t.size !== shape.reduce((a, b) => a * b, 1)) throw new Error(`tfjsTrace: ${key} has ${t.size} values, expected ${shape}`);
      const got = { shape, data: t.dataSync().slice() as Float32Array };
      if (layer === null) (trace as unknown as Record<string, unknown>)[key] = got;
      else (trace.layers[layer] as Record<string, unknown>)[key] = got;
    };
    const r = gptForwardTf(config, w, tf.tensor2d([...ids], [1, T], 'int32'), { trace: hear });
    return r.logits.dataSync().slice() as Float32Array;
  });
  return { logits, trace };
}

// Mean cross-entropy of next-token prediction over B sequences of T tokens.
export function crossEntropyTf(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Scalar {
  const V = logits.shape[2];
  const logp = tf.logSoftmax(tf.reshape(logits, [-1, V])); // (B*T, V)
  const picked = tf.sum(tf.mul(logp, tf.oneHot(tf.reshape(targets, [-1]) as tf.Tensor1D, V)), 1); // (B*T)
  return tf.neg(tf.mean(picked));
}

// The loss and the gradient of every parameter by tfjs autodiff, keyed by our parameter names.
// inputs and targets are (B, T) token ids; targets[b][t] is the token that follows inputs[b][t].
// Run it on the 'cpu' backend: tfjs-wasm has no kernel for the gradient of gather.
export function tfjsLossAndGrads(
  config: GPTConfig, params: Params, inputs: readonly (readonly number[])[], targets: readonly (readonly number[])[]
): { loss: number; grads: Params } {
  const B = inputs.length;
  const T = inputs[0]?.length ?? 0;
  if (B === 0 || T === 0 || targets.length !== B || [...inputs, ...targets].some((r) => r.length !== T)) {
    throw new Error('tfjsLossAndGrads: inputs and targets must both be (B, T) with B, T ≥ 1');
  }
  return tf.tidy(() => {
    const vars: Record<string, tf.Variable> = {};
    for (const [name, t] of Object.entries(toTensors(config, params))) vars[name] = tf.variable(t, true, `ref/${name}`);
    const idx = tf.tensor2d(inputs.map((r) => [...r]), [B, T], 'int32');
    const tgt = tf.tensor2d(targets.map((r) => [...r]), [B, T], 'int32');
    const { value, grads } = tf.variableGrads(() => crossEntropyTf(gptForwardTf(config, vars, idx).logits, tgt), Object.values(vars));
    const out: Params = {};
    for (const name of Object.keys(vars)) out[name] = grads[`ref/${name}`].dataSync() as Float32Array;
    const loss = value.dataSync()[0];
    for (const v of Object.values(vars)) v.dispose();
    return { loss, grads: out };
  });
}

// Batch-1 decoding with a KV cache, written the way a careful tfjs user would for speed: weights
// uploaded once, the tied head transposed once to (C, V) (a transposed matmul is many times slower
// than a plain one in tfjs-wasm), bias adds fused into the matmuls, keys cached already transposed
// to (nh, hs, Tk) so the scores are a plain matmul too, everything intermediate freed by tf.tidy.
// Each call returns the logits of the last position, (V).
export class TfjsDecoder {
  private w: TfParams;
  private wteT: tf.Tensor2D; // (C, V)
  private kT: tf.Tensor3D[] = []; // per layer (nh, hs, Tk)
  private v: tf.Tensor3D[] = []; // per layer (nh, Tk, hs)
  length = 0; // Tk: tokens in the cache

  constructor(private config: GPTConfig, params: Params) {
    this.w = toTensors(config, params);
    this.wteT = tf.tidy(() => tf.transpose(this.w['wte.weight'] as tf.Tensor2D).clone());
  }

  // Forget the cache; the weights stay.
  reset(): void {
    for (const t of [...this.kT, ...this.v]) t.dispose();
    this.kT = [];
    this.v = [];
    this.length = 0;
  }

  dispose(): void {
    this.reset();
    for (const t of Object.values(this.w)) t.dispose();
    this.wteT.dispose();
  }

  // Feed T new tokens after the cached ones; resolves to the last position's logits.
  async forward(ids: readonly number[]): Promise<Float32Array> {
    const logits = this.run(ids);
    const data = (await logits.data()) as Float32Array;
    logits.dispose();
    return data;
  }

  // The same, returning the tensor of every new position's logits (T, V) and each layer's
  // attention weights (nh, T, Tk): the parity test checks the cache against the full forward.
  forwardTensors(ids: readonly number[]): { logits: tf.Tensor2D; attention: tf.Tensor3D[] } {
    const attention: tf.Tensor3D[] = [];
    const logits = this.run(ids, attention, true);
    return { logits, attention };
  }

  private run(ids: readonly number[], attention?: tf.Tensor3D[], allPositions = false): tf.Tensor2D {
    const { config } = this;
    const T = ids.length;
    const Tc = this.length;
    const C = config.n_embd;
    const nh = config.n_head;
    const hs = C / nh;
    const eps = config.layer_norm_epsilon;
    if (T === 0 || Tc + T > config.n_positions) throw new Error(`TfjsDecoder: ${Tc} + ${T} tokens do not fit in ${config.n_positions}`);
    const p = (name: string) => this.w[name] as tf.Tensor2D & tf.Tensor1D;
    const linear = (x: tf.Tensor2D, name: string) => tf.fused.matMul({ a: x, b: p(`${name}.weight`), bias: p(`${name}.bias`) });
    const newKT: tf.Tensor3D[] = [];
    const newV: tf.Tensor3D[] = [];
    const logits = tf.tidy(() => {
      const idx = tf.tensor1d([...ids], 'int32');
      let x: tf.Tensor2D = tf.add(tf.gather(p('wte.weight'), idx), tf.slice(p('wpe.weight'), [Tc, 0], [T, C])); // (T, C)
      const mask = T > 1 ? causalMask(T, Tc) : null; // one new token may see every cached one
      for (let l = 0; l < config.n_layer; l++) {
        const h = `h.${l}.`;
        const ln1 = layerNorm(x, p(h + 'ln_1.weight'), p(h + 'ln_1.bias'), eps) as tf.Tensor2D; // (T, C)
        const qkv = linear(ln1, h + 'attn.c_attn'); // (T, 3C)
        const [q, k, v] = tf.split(qkv, 3, 1).map((t) => tf.reshape(t, [T, nh, hs])); // each (T, nh, hs)
        const kTnew = tf.transpose(k, [1, 2, 0]) as tf.Tensor3D; // (nh, hs, T)
        const vNew = tf.transpose(v, [1, 0, 2]) as tf.Tensor3D; // (nh, T, hs)
        const kT = tf.keep(Tc > 0 ? tf.concat([this.kT[l], kTnew], 2) : kTnew); // (nh, hs, Tk)
        const vAll = tf.keep(Tc > 0 ? tf.concat([this.v[l], vNew], 1) : vNew); // (nh, Tk, hs)
        newKT.push(kT);
        newV.push(vAll);
        const qh = tf.transpose(q, [1, 0, 2]); // (nh, T, hs)
        let scores: tf.Tensor = tf.mul(tf.matMul(qh, kT), 1 / Math.sqrt(hs)); // (nh, T, Tk)
        if (mask) scores = tf.add(scores, mask);
        const att = tf.softmax(scores) as tf.Tensor3D; // (nh, T, Tk)
        if (attention) attention.push(tf.keep(att));
        const y = tf.reshape(tf.transpose(tf.matMul(att, vAll), [1, 0, 2]), [T, C]) as tf.Tensor2D; // (T, C)
        x = tf.add(x, linear(y, h + 'attn.c_proj'));
        const ln2 = layerNorm(x, p(h + 'ln_2.weight'), p(h + 'ln_2.bias'), eps) as tf.Tensor2D; // (T, C)
        x = tf.add(x, linear(gelu(linear(ln2, h + 'mlp.c_fc')) as tf.Tensor2D, h + 'mlp.c_proj'));
      }
      // generation needs only the last position: the head (the largest matmul) runs on one row
      const rows = allPositions ? x : tf.slice(x, [T - 1, 0], [1, C]); // (rows, C)
      const lnf = layerNorm(rows, p('ln_f.weight'), p('ln_f.bias'), eps) as tf.Tensor2D; // (rows, C)
      return tf.matMul(lnf, this.wteT) as tf.Tensor2D; // (rows, V)
    });
    this.reset();
    this.kT = newKT;
    this.v = newV;
    this.length = Tc + T;
    return logits;
  }
}
