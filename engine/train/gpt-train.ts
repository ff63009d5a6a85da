// The GPT-2 forward pass for training, over a batch of B sequences of T tokens, keeping every
// activation the backward pass needs, and the backward pass itself, op by op in reverse (llm.c's
// train_gpt2.c, in TypeScript). Parameters, their gradients and all activations live in flat
// buffers allocated once through the kernel table, so a WASM kernel table can hand out views of
// its own memory and its matmuls run without copying anything.
//
// Legend: B batch, T time, C channels, V vocab, nh heads, hs head size, L layers, BT = B·T.
import { paramShapes, type GPTConfig } from '../config';
import { EngineError } from '../errors';
import type { Params } from '../gpt';
import {
  causalSoftmaxBackward, causalSoftmaxForward, crossEntropyBackward, crossEntropyForward,
  encoderBackward, encoderForward, geluBackward, geluForward, layernormBackward, layernormForward,
  matmulBackward, matmulForward, matmulTransposedBackward, matmulTransposedForward, residualBackward,
  residualForward
} from '../kernels';
import { attentionBackward, attentionForward, createAttentionScratch, type AttentionScratch } from './attention';

// Every kernel of a training step, as a table with the reference signatures, so a faster set can
// be swapped in. Three sets: 'reference' (the plain loops of engine/kernels.ts), 'wasm-simd' (the
// matmuls in WASM SIMD, the rest the plain loops: the set the shipped model is trained with, kept
// exactly as it was so that `npm run train` reproduces it), and 'wasm-simd-fused' (everything
// measured to matter in WASM SIMD: with the matmuls fast, softmax + cross-entropy over the
// vocabulary and GELU's tanh took about 40% of a step in plain TypeScript).
export interface TrainKernels {
  name: string;
  matmulForward: typeof matmulForward;
  matmulTransposedForward: typeof matmulTransposedForward;
  matmulBackward: typeof matmulBackward;
  matmulTransposedBackward: typeof matmulTransposedBackward;
  layernormForward: typeof layernormForward;
  layernormBackward: typeof layernormBackward;
  geluForward: typeof geluForward;
  geluBackward: typeof geluBackward;
  causalSoftmaxForward: typeof causalSoftmaxForward;
  causalSoftmaxBackward: typeof causalSoftmaxBackward;
  crossEntropyForward: typeof crossEntropyForward;
  crossEntropyBackward: typeof crossEntropyBackward;
  // the AdamW update in one call (engine/wasm/index.ts); absent: AdamW.step's own loop
  adamw?: AdamWKernel;
  alloc(n: number): Float32Array; // a zeroed buffer the kernels can work on without copies
}

export type AdamWKernel = (
  params: Float32Array, grads: Float32Array, m: Float32Array, v: Float32Array, decay: Float32Array, n: number,
  lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, c1: number, c2: number
) => void;

// the plain-loop kernels for everything but the matmuls
const plainOps = {
  layernormForward, layernormBackward, geluForward, geluBackward, causalSoftmaxForward, causalSoftmaxBackward,
  crossEntropyForward, crossEntropyBackward
};

export const referenceKernels: TrainKernels = {
  name: 'reference',
  matmulForward,
  matmulTransposedForward,
  matmulBackward,
  matmulTransposedBackward,
  ...plainOps,
  alloc: (n) => new Float32Array(n)
};

export const kernelNames = ['reference', 'wasm-simd', 'wasm-simd-fused'] as const;
export type KernelName = (typeof kernelNames)[number];

// A kernel set by name, each call with its own WASM memory (a thread needs its own).
export async function kernelsByName(name: KernelName, maxBytes?: number): Promise<TrainKernels> {
  if (name === 'reference') return referenceKernels;
  if (name === 'wasm-simd') return wasmKernels(maxBytes);
  if (name === 'wasm-simd-fused') return fusedKernels(maxBytes);
  throw new EngineError('bad_argument', `Unknown kernel set "${String(name)}": expected one of ${kernelNames.join(', ')}.`);
}

// Per layer, the tensors the backward pass reads (and, in the gradient set, their gradients).
interface LayerActs {
  ln1: Float32Array; // (BT, C)
  ln1Mean: Float32Array; // (BT)
  ln1Rstd: Float32Array; // (BT)
  qkv: Float32Array; // (BT, 3C)
  att: Float32Array; // (B, nh, T, T) softmax weights; forward only
  atty: Float32Array; // (BT, C) heads side by side, before c_proj
  attproj: Float32Array; // (BT, C)
  res1: Float32Array; // (BT, C) the residual stream after attention
  ln2: Float32Array; // (BT, C)
  ln2Mean: Float32Array; // (BT)
  ln2Rstd: Float32Array; // (BT)
  fch: Float32Array; // (BT, 4C) before GELU
  fchGelu: Float32Array; // (BT, 4C)
  fcproj: Float32Array; // (BT, C)
  res2: Float32Array; // (BT, C) the residual stream after the MLP
}

interface Acts {
  encoded: Float32Array; // (BT, C)
  layers: LayerActs[];
  lnf: Float32Array; // (BT, C)
  lnfMean: Float32Array; // (BT)
  lnfRstd: Float32Array; // (BT)
  logits: Float32Array; // (BT, V); after the forward pass it holds the probabilities
  losses: Float32Array; // (BT)
}

// Gradients of the activations: the same tensors minus the statistics and the attention weights.
interface DActs {
  encoded: Float32Array;
  layers: Omit<LayerActs, 'ln1Mean' | 'ln1Rstd' | 'ln2Mean' | 'ln2Rstd' | 'att'>[];
  lnf: Float32Array;
  logits: Float32Array;
  dlosses: Float32Array; // (BT) 1/BT: the gradient of the mean loss
}

export interface TrainState {
  config: GPTConfig;
  B: number;
  T: number;
  kernels: TrainKernels;
  params: Float32Array; // every parameter, in paramShapes order
  grads: Float32Array; // same layout
  p: Params; // views of params by GPT-2 name
  g: Params; // views of grads by GPT-2 name
  layout: [string, number, number][]; // [name, offset, length] into params
  inputs: Int32Array; // (BT)
  targets: Int32Array; // (BT)
  acts: Acts;
  dacts: DActs;
  scratch: AttentionScratch;
}

// Where each parameter lies in the flat buffer: [name, offset, length], in paramShapes order.
export function paramLayout(config: GPTConfig): [string, number, number][] {
  const layout: [string, number, number][] = [];
  let total = 0;
  for (const [name, shape] of paramShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    layout.push([name, total, n]);
    total += n;
  }
  return layout;
}

export function createTrainState(config: GPTConfig, B: number, T: number, kernels: TrainKernels = referenceKernels): TrainState {
  if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1) {
    throw new EngineError('bad_argument', `Batch size and sequence length must be positive integers, got B=${B}, T=${T}.`);
  }
  if (T > config.n_positions) {
    throw new EngineError('context_overflow', `Training sequences of ${T} tokens do not fit the model's ${config.n_positions} positions.`);
  }
  const layout = paramLayout(config);
  const total = layout.reduce((a, [, , n]) => a + n, 0);
  const params = kernels.alloc(total);
  const grads = kernels.alloc(total);
  const p: Params = {};
  const g: Params = {};
  for (const [name, off, n] of layout) {
    p[name] = params.subarray(off, off + n);
    g[name] = grads.subarray(off, off + n);
  }
  const { n_embd: C, n_layer: L, n_head: nh, vocab_size: V } = config;
  const BT = B * T;
  const a = kernels.alloc;
  const acts: Acts = {
    encoded: a(BT * C),
    layers: Array.from({ length: L }, () => ({
      ln1: a(BT * C), ln1Mean: a(BT), ln1Rstd: a(BT), qkv: a(BT * 3 * C), att: a(B * nh * T * T),
      atty: a(BT * C), attproj: a(BT * C), res1: a(BT * C), ln2: a(BT * C), ln2Mean: a(BT),
      ln2Rstd: a(BT), fch: a(BT * 4 * C), fchGelu: a(BT * 4 * C), fcproj: a(BT * C), res2: a(BT * C)
    })),
    lnf: a(BT * C), lnfMean: a(BT), lnfRstd: a(BT), logits: a(BT * V), losses: a(BT)
  };
  const dacts: DActs = {
    encoded: a(BT * C),
    layers: Array.from({ length: L }, () => ({
      ln1: a(BT * C), qkv: a(BT * 3 * C), atty: a(BT * C), attproj: a(BT * C), res1: a(BT * C),
      ln2: a(BT * C), fch: a(BT * 4 * C), fchGelu: a(BT * 4 * C), fcproj: a(BT * C), res2: a(BT * C)
    })),
    lnf: a(BT * C), logits: a(BT * V), dlosses: a(BT)
  };
  return {
    config, B, T, kernels, params, grads, p, g, layout,
    inputs: new Int32Array(BT), targets: new Int32Array(BT), acts, dacts,
    scratch: createAttentionScratch(kernels, B, T, C)
  };
}

// How many floats createTrainState allocates for this shape (parameters, gradients, activations
// and their gradients, attention scratch): counted by running it with an alloc that only counts,
// so it cannot drift from what it really allocates.
export function trainStateFloats(config: GPTConfig, B: number, T: number): number {
  let n = 0;
  createTrainState(config, B, T, { ...referenceKernels, alloc: (k) => ((n += k), new Float32Array(0)) });
  return n;
}

// Copy named parameters (from initParams or a loaded model) into the flat buffer.
export function setParams(s: TrainState, params: Params): void {
  for (const [name, , n] of s.layout) {
    const src = params[name];
    if (!src || src.length !== n) throw new EngineError('bad_model', `Parameter "${name}" is missing or has the wrong size.`);
    s.p[name].set(src);
  }
}

// Named copies of the parameters, detached from the training buffers (for saving a model).
export function getParams(s: TrainState): Params {
  const out: Params = {};
  for (const [name] of s.layout) out[name] = s.p[name].slice();
  return out;
}

function checkIds(ids: ArrayLike<number>, n: number, V: number, what: string): void {
  if (ids.length !== n) throw new EngineError('bad_argument', `Expected ${n} ${what}, got ${ids.length}.`);
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    if (!Number.isInteger(id) || id < 0 || id >= V) throw new EngineError('bad_token', `Token id ${id} is outside the vocabulary (0 to ${V - 1}).`);
  }
}

// The forward pass over inputs (B, T) -> mean cross-entropy against targets (B, T). The per-token
// losses stay in acts.losses and the probabilities in acts.logits.
export function trainForward(s: TrainState, inputs: ArrayLike<number>, targets: ArrayLike<number>): number {
  const { config, B, T, kernels: k, p, acts } = s;
  const { n_embd: C, n_head: nh, vocab_size: V } = config;
  const BT = B * T;
  const eps = config.layer_norm_epsilon;
  checkIds(inputs, BT, V, 'input ids');
  checkIds(targets, BT, V, 'target ids');
  s.inputs.set(inputs);
  s.targets.set(targets);

  encoderForward(acts.encoded, s.inputs, p['wte.weight'], p['wpe.weight'], B, T, C);
  let x = acts.encoded; // (BT, C) the residual stream
  for (let l = 0; l < config.n_layer; l++) {
    const w = (name: string) => p[`h.${l}.${name}`];
    const a = acts.layers[l];
    // attention sublayer: x = x + c_proj(attention(ln_1(x)))
    k.layernormForward(a.ln1, a.ln1Mean, a.ln1Rstd, x, w('ln_1.weight'), w('ln_1.bias'), BT, C, eps);
    k.matmulForward(a.qkv, a.ln1, w('attn.c_attn.weight'), w('attn.c_attn.bias'), BT, C, 3 * C);
    attentionForward(k, s.scratch, a.atty, a.att, a.qkv, B, T, C, nh);
    k.matmulForward(a.attproj, a.atty, w('attn.c_proj.weight'), w('attn.c_proj.bias'), BT, C, C);
    residualForward(a.res1, x, a.attproj, BT * C);
    // MLP sublayer: x = x + c_proj(gelu(c_fc(ln_2(x))))
    k.layernormForward(a.ln2, a.ln2Mean, a.ln2Rstd, a.res1, w('ln_2.weight'), w('ln_2.bias'), BT, C, eps);
    k.matmulForward(a.fch, a.ln2, w('mlp.c_fc.weight'), w('mlp.c_fc.bias'), BT, C, 4 * C);
    k.geluForward(a.fchGelu, a.fch, BT * 4 * C);
    k.matmulForward(a.fcproj, a.fchGelu, w('mlp.c_proj.weight'), w('mlp.c_proj.bias'), BT, 4 * C, C);
    residualForward(a.res2, a.res1, a.fcproj, BT * C);
    x = a.res2;
  }
  k.layernormForward(acts.lnf, acts.lnfMean, acts.lnfRstd, x, p['ln_f.weight'], p['ln_f.bias'], BT, C, eps);
  // the output head is tied to the token embedding: logits = ln_f(x) @ wteᵀ
  k.matmulTransposedForward(acts.logits, acts.lnf, p['wte.weight'], BT, C, V);
  k.crossEntropyForward(acts.losses, acts.logits, acts.logits, s.targets, BT, V);
  let sum = 0;
  for (let i = 0; i < BT; i++) sum += acts.losses[i];
  return sum / BT;
}

// The backward pass of the mean loss of the last trainForward: s.grads = d(loss)/d(params).
// lossScale is the weight of each token's loss: 1/BT for this batch's mean; a thread that holds
// part of a larger batch passes 1/(that batch's B·T), so the threads' gradients add up to it.
export function trainBackward(s: TrainState, lossScale = 1 / (s.B * s.T)): void {
  const { config, B, T, kernels: k, p, g, acts, dacts: d } = s;
  const { n_embd: C, n_head: nh, vocab_size: V, n_layer: L } = config;
  const BT = B * T;
  s.grads.fill(0);
  zeroActGrads(d);
  d.dlosses.fill(lossScale);

  k.crossEntropyBackward(d.logits, acts.logits, s.targets, d.dlosses, BT, V);
  // the tied head: wte gets its first gradient here and its second from the embedding below
  k.matmulTransposedBackward(d.lnf, g['wte.weight'], d.logits, acts.lnf, p['wte.weight'], BT, C, V);
  const lastRes = L > 0 ? acts.layers[L - 1].res2 : acts.encoded;
  const dLastRes = L > 0 ? d.layers[L - 1].res2 : d.encoded;
  k.layernormBackward(dLastRes, g['ln_f.weight'], g['ln_f.bias'], d.lnf, lastRes, p['ln_f.weight'], acts.lnfMean, acts.lnfRstd, BT, C);

  for (let l = L - 1; l >= 0; l--) {
    const w = (name: string) => p[`h.${l}.${name}`];
    const dw = (name: string) => g[`h.${l}.${name}`];
    const a = acts.layers[l];
    const da = d.layers[l];
    const xIn = l > 0 ? acts.layers[l - 1].res2 : acts.encoded; // this layer's input
    const dxIn = l > 0 ? d.layers[l - 1].res2 : d.encoded;
    // MLP sublayer, in reverse
    residualBackward(da.res1, da.fcproj, da.res2, BT * C);
    k.matmulBackward(da.fchGelu, dw('mlp.c_proj.weight'), dw('mlp.c_proj.bias'), da.fcproj, a.fchGelu, w('mlp.c_proj.weight'), BT, 4 * C, C);
    k.geluBackward(da.fch, a.fch, da.fchGelu, BT * 4 * C);
    k.matmulBackward(da.ln2, dw('mlp.c_fc.weight'), dw('mlp.c_fc.bias'), da.fch, a.ln2, w('mlp.c_fc.weight'), BT, C, 4 * C);
    k.layernormBackward(da.res1, dw('ln_2.weight'), dw('ln_2.bias'), da.ln2, a.res1, w('ln_2.weight'), a.ln2Mean, a.ln2Rstd, BT, C);
    // attention sublayer, in reverse
    residualBackward(dxIn, da.attproj, da.res1, BT * C);
    k.matmulBackward(da.atty, dw('attn.c_proj.weight'), dw('attn.c_proj.bias'), da.attproj, a.atty, w('attn.c_proj.weight'), BT, C, C);
    attentionBackward(k, s.scratch, da.qkv, da.atty, a.qkv, a.att, B, T, C, nh);
    k.matmulBackward(da.ln1, dw('attn.c_attn.weight'), dw('attn.c_attn.bias'), da.qkv, a.ln1, w('attn.c_attn.weight'), BT, C, 3 * C);
    k.layernormBackward(dxIn, dw('ln_1.weight'), dw('ln_1.bias'), da.ln1, xIn, w('ln_1.weight'), a.ln1Mean, a.ln1Rstd, BT, C);
  }
  encoderBackward(g['wte.weight'], g['wpe.weight'], d.encoded, s.inputs, B, T, C);
}

function zeroActGrads(d: DActs): void {
  d.encoded.fill(0);
  for (const l of d.layers) for (const t of Object.values(l)) t.fill(0);
  d.lnf.fill(0);
  d.logits.fill(0);
}

// The WASM SIMD kernel table (engine/wasm/), with params, grads and activations allocated in its
// memory so no matmul copies anything. maxBytes bounds that memory: one training state of the
// shipped recipe (B = 8, T = 128) takes about 101 MiB; `npm run train` keeps two (training and a
// held-out sample).
export async function wasmKernels(maxBytes = 512 * 2 ** 20): Promise<TrainKernels> {
  const { loadWasmKernels } = await import('../wasm/index');
  const w = await loadWasmKernels({ maxBytes });
  return {
    name: 'wasm-simd',
    matmulForward: w.matmulForward,
    matmulTransposedForward: w.matmulTransposedForward,
    matmulBackward: w.matmulBackward,
    matmulTransposedBackward: w.matmulTransposedBackward,
    ...plainOps,
    alloc: w.alloc
  };
}

// 'wasm-simd-fused': the same matmuls, and LayerNorm, GELU, the causal softmax, softmax +
// cross-entropy and AdamW in WASM SIMD too (f32 throughout, so its runs differ from wasm-simd's
// in the last bits; tests/engine/wasm-train.test.ts checks each kernel against its reference).
export async function fusedKernels(maxBytes = 512 * 2 ** 20): Promise<TrainKernels> {
  const { loadWasmKernels } = await import('../wasm/index');
  const w = await loadWasmKernels({ maxBytes });
  return {
    name: 'wasm-simd-fused',
    matmulForward: w.matmulForward,
    matmulTransposedForward: w.matmulTransposedForward,
    matmulBackward: w.matmulBackward,
    matmulTransposedBackward: w.matmulTransposedBackward,
    layernormForward: w.layernormForward,
    layernormBackward: w.layernormBackward,
    geluForward: w.geluForward,
    geluBackward: w.geluBackward,
    causalSoftmaxForward: w.causalSoftmaxForward,
    causalSoftmaxBackward: w.causalSoftmaxBackward,
    crossEntropyForward: w.crossEntropyForward,
    crossEntropyBackward: w.crossEntropyBackward,
    adamw: w.adamw,
    alloc: w.alloc
  };
}
