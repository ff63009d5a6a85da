// Data-parallel training on N threads. Each step the batch (B, T) is cut into N slices of rows;
// thread i runs forward and backward on its slice (engine/train/shard.ts) and writes its part of
// the gradient to its own slot of shared memory; this thread then adds the slots up in thread
// order (a fixed order, so a run is bit-reproducible for a given N), clips, and takes the AdamW
// step. The parameters travel to the threads through one SharedArrayBuffer, copied in before each
// step. With N = 1 every number is the one Trainer computes: one slot is the whole gradient, and
// the loss sum is divided by the same B·T. With N > 1 the weight gradients are summed over the
// rows in a different order, so runs agree with one thread to float rounding, not bit for bit.
//
// No Node API here: the threads come from a `spawn` function (threads-node.ts for
// node:worker_threads; a page would wrap `new Worker(...)`, which needs cross-origin isolation
// for SharedArrayBuffer).
//
// Legend: B batch, T time, P the number of parameters, N threads.
import type { GPTConfig } from '../config';
import { EngineError } from '../errors';
import type { Params } from '../gpt';
import { initParams } from '../model';
import { AdamW, clipGradNorm, learningRate } from './adamw';
import { DataLoader } from './data';
import { kernelsByName, paramLayout, type KernelName } from './gpt-train';
import type { ShardReply, ShardRequest } from './shard';
import { createOptimizer, readCheckpoint, writeCheckpoint, type StepResult, type StepTrainer, type TrainRecipe } from './train';

export interface TrainThread {
  postMessage(msg: ShardRequest): void;
  onMessage(handler: (msg: ShardReply) => void): void;
  onError(handler: (e: Error) => void): void;
  terminate(): void;
}

export type SpawnThread = () => TrainThread;

// Rows of a batch of B per thread: as even as possible, the first B mod N threads one more.
export function splitRows(B: number, N: number): [start: number, end: number][] {
  if (!Number.isInteger(N) || N < 1) throw new EngineError('bad_argument', `The thread count must be a whole number ≥ 1, got ${N}.`);
  if (N > B) throw new EngineError('bad_argument', `${N} threads cannot share a batch of ${B} rows: use at most ${B}.`);
  const out: [number, number][] = [];
  let start = 0;
  for (let i = 0; i < N; i++) {
    const rows = Math.floor(B / N) + (i < B % N ? 1 : 0);
    out.push([start, start + rows]);
    start += rows;
  }
  return out;
}

export class ParallelTrainer implements StepTrainer {
  step = 0;
  private readonly waiting: (((r: ShardReply) => void) | null)[] = [];
  private failure: Error | null = null;

  private constructor(
    readonly config: GPTConfig,
    readonly recipe: TrainRecipe,
    readonly optimizer: AdamW,
    readonly params: Float32Array, // (P) the master copy, updated here
    private readonly grads: Float32Array, // (P) the reduced gradient
    private readonly layout: [string, number, number][],
    private readonly shared: Float32Array, // (P) what the threads read
    private readonly slots: Float32Array[], // N × (P) what they write
    private readonly inputs: Int32Array, // (B, T) shared
    private readonly targets: Int32Array, // (B, T) shared
    private readonly data: DataLoader,
    private readonly threads: TrainThread[]
  ) {}

  // Start N = recipe.threads threads (kernels: recipe.kernels, default 'wasm-simd') and initialise
  // the model from the recipe's seed, as Trainer does.
  static async create(config: GPTConfig, recipe: TrainRecipe, tokens: Int32Array, spawn: SpawnThread): Promise<ParallelTrainer> {
    if (typeof SharedArrayBuffer === 'undefined') {
      throw new EngineError('unsupported', 'Parallel training needs SharedArrayBuffer (in a page: a cross-origin isolated one).');
    }
    const N = recipe.threads ?? 1;
    const B = recipe.batchSize;
    const T = recipe.seqLen;
    const rows = splitRows(B, N);
    const kernelName: KernelName = recipe.kernels ?? 'wasm-simd';
    const layout = paramLayout(config);
    const P = layout.reduce((a, [, , n]) => a + n, 0);
    // this thread's kernels hold only the optimizer's buffers: params, grads, m, v, decay mask
    const kernels = await kernelsByName(kernelName, Math.ceil((5 * 4 * P + 4 * 2 ** 20) / 65536) * 65536);
    const params = kernels.alloc(P);
    const init = initParams(config, recipe.seed);
    for (const [name, off, n] of layout) {
      if (init[name]?.length !== n) throw new EngineError('bad_model', `Parameter "${name}" is missing or has the wrong size.`);
      params.set(init[name], off);
    }
    const grads = kernels.alloc(P);
    const optimizer = createOptimizer(recipe, layout, kernels);
    const sharedParams = new SharedArrayBuffer(4 * P);
    const slotBuffers = rows.map(() => new SharedArrayBuffer(4 * P));
    const inputs = new SharedArrayBuffer(4 * B * T);
    const targets = new SharedArrayBuffer(4 * B * T);
    const threads: TrainThread[] = [];
    const trainer = new ParallelTrainer(
      config, recipe, optimizer, params, grads, layout, new Float32Array(sharedParams),
      slotBuffers.map((b) => new Float32Array(b)), new Int32Array(inputs), new Int32Array(targets),
      new DataLoader(tokens, B, T, recipe.seed), threads
    );
    try {
      for (let i = 0; i < N; i++) threads.push(spawn());
      trainer.listen();
      await trainer.all((i) => ({
        type: 'init', config, kernels: kernelName, B, T, rowStart: rows[i][0], rowEnd: rows[i][1],
        params: sharedParams, grads: slotBuffers[i], inputs, targets
      }));
    } catch (e) {
      trainer.close();
      throw e;
    }
    return trainer;
  }

  private listen(): void {
    this.threads.forEach((t, i) => {
      this.waiting.push(null);
      t.onMessage((r) => {
        const w = this.waiting[i];
        this.waiting[i] = null;
        w?.(r);
      });
      t.onError((e) => {
        this.failure = e;
        const w = this.waiting[i];
        this.waiting[i] = null;
        w?.({ type: 'error', code: 'thread_failed', message: e.message });
      });
    });
  }

  // Send each thread its message and wait for all replies; the first error, in thread order, throws.
  private async all(msg: (i: number) => ShardRequest): Promise<ShardReply[]> {
    if (this.failure) throw new EngineError('thread_failed', `A training thread failed earlier: ${this.failure.message}`);
    const replies = await Promise.all(this.threads.map((t, i) => new Promise<ShardReply>((resolve) => {
      this.waiting[i] = resolve;
      t.postMessage(msg(i));
    })));
    for (const r of replies) if (r.type === 'error') throw new EngineError(r.code, r.message);
    return replies;
  }

  // One update. Returns the loss of the batch it trained on (before the update).
  async next(): Promise<StepResult> {
    const t0 = performance.now();
    const r = this.recipe;
    const BT = r.batchSize * r.seqLen;
    this.data.batch(this.step, this.inputs, this.targets);
    this.shared.set(this.params);
    const replies = await this.all(() => ({ type: 'step' }));
    let lossSum = 0;
    for (const rep of replies) if (rep.type === 'step') lossSum += rep.lossSum;
    const loss = lossSum / BT;
    if (!Number.isFinite(loss)) throw new EngineError('diverged', `Training diverged at step ${this.step + 1}: the loss is ${loss}.`);
    // the reduction, in thread order
    const g = this.grads;
    g.set(this.slots[0]);
    for (let w = 1; w < this.slots.length; w++) {
      const slot = this.slots[w];
      for (let i = 0; i < g.length; i++) g[i] += slot[i];
    }
    const gradNorm = clipGradNorm(g, r.gradClip);
    const lr = learningRate(this.step, { maxLr: r.maxLr, minLr: r.minLr, warmupSteps: r.warmupSteps, totalSteps: r.steps });
    this.optimizer.step(this.params, g, lr);
    this.step++;
    return { step: this.step, loss, lr, gradNorm, ms: performance.now() - t0 };
  }

  namedParams(): Params {
    const out: Params = {};
    for (const [name, off, n] of this.layout) out[name] = this.params.slice(off, off + n);
    return out;
  }

  checkpoint(extra: Record<string, string> = {}): Uint8Array {
    return writeCheckpoint(this, extra);
  }

  restore(bytes: Uint8Array): Record<string, string> {
    return readCheckpoint(this, bytes);
  }

  // Stop the threads. The trainer cannot step after this.
  close(): void {
    for (const t of this.threads) t.terminate();
    this.threads.length = 0;
  }
}
