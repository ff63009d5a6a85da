// One training thread's work in data-parallel training (engine/train/parallel.ts): forward and
// backward on its rows of each batch, against parameters it reads from shared memory, writing its
// gradient to its own slot of shared memory. Framework-free: `serveShard` takes any message port,
// so the same code runs under node:worker_threads (shard-worker.ts) or in a Web Worker.
//
// Legend: B batch (the whole batch of all threads), T time, rows = this thread's share of B.
import type { GPTConfig } from '../config';
import { EngineError } from '../errors';
import { createTrainState, kernelsByName, trainBackward, trainForward, type KernelName } from './gpt-train';

// What the coordinating thread sends once. The buffers are SharedArrayBuffers, seen by all threads.
export interface ShardInit {
  type: 'init';
  config: GPTConfig;
  kernels: KernelName;
  B: number; // the whole batch
  T: number;
  rowStart: number; // this thread's rows of the batch: rowStart..rowEnd-1
  rowEnd: number;
  params: SharedArrayBuffer; // (P) floats, written by the coordinator before each step
  grads: SharedArrayBuffer; // (P) floats, this thread's slot: its share of the batch's gradient
  inputs: SharedArrayBuffer; // (B, T) i32 token ids of the step's batch
  targets: SharedArrayBuffer; // (B, T) i32
}

export type ShardRequest = ShardInit | { type: 'step' };

// Replies: 'ready' after init; after a step, the sum (not the mean) of this thread's token losses.
export type ShardReply = { type: 'ready' } | { type: 'step'; lossSum: number } | { type: 'error'; code: string; message: string };

export interface ShardPort {
  postMessage(msg: ShardReply): void;
  onMessage(handler: (msg: ShardRequest) => void): void;
}

export function serveShard(port: ShardPort): void {
  let work: ((msg: { type: 'step' }) => number) | null = null;
  port.onMessage(async (msg) => {
    try {
      if (msg.type === 'init') {
        work = await startShard(msg);
        port.postMessage({ type: 'ready' });
      } else {
        if (!work) throw new EngineError('bad_state', 'A training thread got a step before its init.');
        port.postMessage({ type: 'step', lossSum: work(msg) });
      }
    } catch (e) {
      const err = e as { code?: string; message?: string };
      port.postMessage({ type: 'error', code: err.code ?? 'thread_failed', message: err.message ?? String(e) });
    }
  });
}

async function startShard(init: ShardInit): Promise<(msg: { type: 'step' }) => number> {
  const { config, B, T, rowStart, rowEnd } = init;
  const rows = rowEnd - rowStart;
  const kernels = await kernelsByName(init.kernels);
  const s = createTrainState(config, rows, T, kernels);
  const params = new Float32Array(init.params);
  const grads = new Float32Array(init.grads);
  if (params.length !== s.params.length || grads.length !== s.params.length) {
    throw new EngineError('bad_argument', `Shared parameter buffers hold ${params.length} floats; the model has ${s.params.length}.`);
  }
  const inputs = new Int32Array(init.inputs).subarray(rowStart * T, rowEnd * T); // (rows, T)
  const targets = new Int32Array(init.targets).subarray(rowStart * T, rowEnd * T);
  // every token's loss weighs 1/(B·T), as in the whole batch's mean
  const lossScale = 1 / (B * T);
  return () => {
    s.params.set(params);
    trainForward(s, inputs, targets);
    trainBackward(s, lossScale);
    grads.set(s.grads);
    let sum = 0;
    for (let i = 0; i < rows * T; i++) sum += s.acts.losses[i];
    return sum;
  };
}
