// The training loop: sample a batch, forward, backward, clip, AdamW step, report progress. No Node
// APIs here, so the same loop can run in a Web Worker; files and the progress bar live in
// engine/cli/train.ts. A checkpoint is the parameters, the optimizer's moments and the step; with
// the data loader's batches a pure function of (seed, step), resuming continues bit for bit.
import { parseConfig, type GPTConfig } from '../config';
import { EngineError } from '../errors';
import { initParams } from '../model';
import { parseSafetensors, serializeSafetensors } from '../safetensors';
import { AdamW, clipGradNorm, learningRate } from './adamw';
import { DataLoader } from './data';
import type { Params } from '../gpt';
import {
  createTrainState, getParams, referenceKernels, setParams, trainBackward, trainForward, type KernelName, type TrainKernels,
  type TrainState
} from './gpt-train';

// Everything that decides the trained weights. npm run train reproduces a model from one of these.
export interface TrainRecipe {
  name: string;
  seed: number; // parameter init and data order
  vocabSize: number; // asked of the BPE trainer (it may return fewer if pairs run out)
  nLayer: number;
  nEmbd: number;
  nHead: number;
  nPositions: number;
  batchSize: number; // B
  seqLen: number; // T
  steps: number;
  maxLr: number;
  minLr: number;
  warmupSteps: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  gradClip: number; // max global gradient norm
  // Optional, so that a recipe without them (the shipped one) keeps its JSON and its numerics:
  kernels?: KernelName; // absent: 'wasm-simd', the set the shipped model was trained with
  threads?: number; // data-parallel threads (engine/train/parallel.ts); absent: 1, no threads
}

export function recipeConfig(r: TrainRecipe, vocabSize: number, eosTokenId: number): GPTConfig {
  return parseConfig({
    vocab_size: vocabSize, n_positions: r.nPositions, n_embd: r.nEmbd, n_layer: r.nLayer, n_head: r.nHead,
    eos_token_id: eosTokenId
  });
}

export interface StepResult {
  step: number; // the step just done, counting from 1
  loss: number; // mean cross-entropy of this step's batch, nats per token
  lr: number;
  gradNorm: number; // before clipping
  ms: number; // wall time of this step
}

export class Trainer {
  readonly state: TrainState;
  readonly optimizer: AdamW;
  readonly data: DataLoader;
  step = 0; // updates done

  constructor(
    readonly config: GPTConfig,
    readonly recipe: TrainRecipe,
    tokens: Int32Array,
    kernels: TrainKernels = referenceKernels
  ) {
    this.state = createTrainState(config, recipe.batchSize, recipe.seqLen, kernels);
    setParams(this.state, initParams(config, recipe.seed));
    this.optimizer = createOptimizer(recipe, this.state.layout, kernels);
    this.data = new DataLoader(tokens, recipe.batchSize, recipe.seqLen, recipe.seed);
  }

  // One update. Returns the loss of the batch it trained on (before the update).
  next(): StepResult {
    const t0 = performance.now();
    const s = this.state;
    const r = this.recipe;
    this.data.batch(this.step, s.inputs, s.targets);
    const loss = trainForward(s, s.inputs, s.targets);
    if (!Number.isFinite(loss)) throw new EngineError('diverged', `Training diverged at step ${this.step + 1}: the loss is ${loss}.`);
    trainBackward(s);
    const gradNorm = clipGradNorm(s.grads, r.gradClip);
    const lr = learningRate(this.step, { maxLr: r.maxLr, minLr: r.minLr, warmupSteps: r.warmupSteps, totalSteps: r.steps });
    this.optimizer.step(s.params, s.grads, lr);
    this.step++;
    return { step: this.step, loss, lr, gradNorm, ms: performance.now() - t0 };
  }

  // The flat parameters (paramLayout order) and named copies of them.
  get params(): Float32Array {
    return this.state.params;
  }

  namedParams(): Params {
    return getParams(this.state);
  }

  // The checkpoint as one safetensors file: flat params and moments, the step and the recipe.
  checkpoint(extra: Record<string, string> = {}): Uint8Array {
    return writeCheckpoint(this, extra);
  }

  // Continue from a checkpoint of the same recipe and config. Returns its extra metadata.
  restore(bytes: Uint8Array): Record<string, string> {
    return readCheckpoint(this, bytes);
  }

  close(): void {} // nothing to release: no threads
}

// What Trainer and ParallelTrainer share: the CLI drives either through this.
export interface StepTrainer {
  readonly config: GPTConfig;
  readonly recipe: TrainRecipe;
  readonly optimizer: AdamW;
  readonly params: Float32Array;
  step: number;
  next(): StepResult | Promise<StepResult>;
  namedParams(): Params;
  checkpoint(extra?: Record<string, string>): Uint8Array;
  restore(bytes: Uint8Array): Record<string, string>;
  close(): void;
}

// AdamW over the flat parameters, decaying the matrices, not the vectors (see adamw.ts for why).
export function createOptimizer(recipe: TrainRecipe, layout: [string, number, number][], kernels: TrainKernels): AdamW {
  const decayed = layout.filter(([name]) => /^(wte|wpe)\.weight$|\.c_(attn|proj|fc)\.weight$/.test(name));
  const n = layout.reduce((a, [, , len]) => a + len, 0);
  return new AdamW(
    n,
    { beta1: recipe.beta1, beta2: recipe.beta2, eps: 1e-8, weightDecay: recipe.weightDecay },
    decayed.map(([, off, len]) => [off, len]),
    kernels
  );
}

type Checkpointed = Pick<StepTrainer, 'config' | 'recipe' | 'optimizer' | 'params' | 'step'>;

export function writeCheckpoint(t: Checkpointed, extra: Record<string, string>): Uint8Array {
  const n = t.params.length;
  return serializeSafetensors(
    [
      ['params', { shape: [n], data: t.params }],
      ['adam.m', { shape: [n], data: t.optimizer.m }],
      ['adam.v', { shape: [n], data: t.optimizer.v }]
    ],
    { ...extra, step: String(t.step), adam_t: String(t.optimizer.t), recipe: JSON.stringify(t.recipe), config: JSON.stringify(t.config) }
  );
}

export function readCheckpoint(t: Checkpointed, bytes: Uint8Array): Record<string, string> {
  const { tensors, metadata } = parseSafetensors(bytes);
  if (metadata.recipe !== JSON.stringify(t.recipe) || metadata.config !== JSON.stringify(t.config)) {
    throw new EngineError('bad_checkpoint', 'The checkpoint was written by a different recipe or model config; delete it to start over.');
  }
  const n = t.params.length;
  for (const [name, dst] of [['params', t.params], ['adam.m', t.optimizer.m], ['adam.v', t.optimizer.v]] as const) {
    const x = tensors.get(name);
    if (!x || x.data.length !== n) throw new EngineError('bad_checkpoint', `The checkpoint's "${name}" is missing or has the wrong size.`);
    dst.set(x.data);
  }
  t.step = Number(metadata.step);
  t.optimizer.t = Number(metadata.adam_t);
  return metadata;
}

// Train `steps` steps of a fresh model and measure throughput: what `npm run bench -- train`
// compares against tfjs. The first `warmup` steps (JIT compilation, first touches of memory) are
// not timed.
export function trainSteps(
  config: GPTConfig,
  tokens: Int32Array,
  opts: { batchSize: number; seqLen: number; steps: number; warmup?: number; kernels?: TrainKernels; seed?: number; lr?: number }
): { tokensPerSec: number; losses: number[] } {
  const warmup = opts.warmup ?? 1;
  const recipe: TrainRecipe = {
    name: 'bench', seed: opts.seed ?? 1, vocabSize: config.vocab_size, nLayer: config.n_layer, nEmbd: config.n_embd,
    nHead: config.n_head, nPositions: config.n_positions, batchSize: opts.batchSize, seqLen: opts.seqLen,
    steps: warmup + opts.steps, maxLr: opts.lr ?? 1e-3, minLr: opts.lr ?? 1e-3, warmupSteps: 0, weightDecay: 0.1,
    beta1: 0.9, beta2: 0.95, gradClip: 1
  };
  const trainer = new Trainer(config, recipe, tokens, opts.kernels);
  const losses: number[] = [];
  for (let i = 0; i < warmup; i++) losses.push(trainer.next().loss);
  const t0 = performance.now();
  for (let i = 0; i < opts.steps; i++) losses.push(trainer.next().loss);
  const sec = (performance.now() - t0) / 1000;
  return { tokensPerSec: (opts.steps * opts.batchSize * opts.seqLen) / sec, losses };
}
