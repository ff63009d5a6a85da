// `npm run bench -- train`: training throughput in Node, ours against tfjs-wasm, on the shipped
// model's config (the default model's config.json) with the shipped recipe's batch shape.
//
// Both sides start from the same initial weights (initParams with the same seed), see the same
// batches (our DataLoader over one synthetic token stream) and do the same update (forward,
// backward, clip at norm 1, AdamW at lr 1e-3 with weight decay 0.1 on the matrices), one step
// after another on one thread. Both print their losses, which must track each other: the two
// throughputs are of the same computation. The first step of each is not timed (JIT compilation,
// first touches of memory).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, countParams, type GPTConfig } from '../engine/config';
import { defaultModelDir } from '../engine/cli/common';
import { initParams } from '../engine/model';
import { Rng } from '../engine/sampling';
import { DataLoader } from '../engine/train/data';
import { wasmKernels } from '../engine/train/gpt-train';
import { shipped } from '../engine/train/recipes';
import { trainSteps } from '../engine/train/train';
import { TfjsTrainer } from './tfjs-train';

export interface TrainRow {
  name: 'ours-train' | 'tfjs-wasm-train';
  tokens_per_s: number;
}

export interface TrainReport {
  rows: TrainRow[];
  config: GPTConfig;
  model: string;
  batch: number;
  seq: number;
  steps: number;
  losses: Record<TrainRow['name'], number[]>;
  details: Record<TrainRow['name'], string>;
}

const SEED = 1;
const LR = 1e-3;

export async function runTrain(
  opts: { steps?: number; batch?: number; seq?: number },
  progress: (line: string) => void
): Promise<TrainReport> {
  const dir = defaultModelDir();
  const config = parseConfig(readFileSync(join(dir, 'config.json'), 'utf8'));
  const B = opts.batch ?? shipped.batchSize;
  const T = Math.min(opts.seq ?? shipped.seqLen, config.n_positions);
  const steps = opts.steps ?? 8;
  // a synthetic stream: the speed of a step does not depend on which ids it sees
  const rng = new Rng(SEED);
  const tokens = Int32Array.from({ length: 200_000 }, () => Math.floor(rng.next() * config.vocab_size));

  progress(`ours-train: ${steps} + 1 steps of ${B}×${T} tokens`);
  const kernels = await wasmKernels();
  const ours = trainSteps(config, tokens, { batchSize: B, seqLen: T, steps, warmup: 1, kernels, seed: SEED, lr: LR });
  progress(`ours-train: ${ours.tokensPerSec.toFixed(0)} tokens/s`);

  progress(`tfjs-wasm-train: ${steps} + 1 steps of ${B}×${T} tokens`);
  if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
  const peer = new TfjsTrainer(config, initParams(config, SEED), {
    batchSize: B, seqLen: T, lr: LR, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1
  });
  const data = new DataLoader(tokens, B, T, SEED);
  const inputs = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  const tfLosses: number[] = [];
  const tfStep = (step: number) => {
    data.batch(step, inputs, targets);
    tfLosses.push(peer.step(inputs, targets));
  };
  tfStep(0);
  const t0 = performance.now();
  for (let s = 1; s <= steps; s++) tfStep(s);
  const tfTokensPerSec = (steps * B * T) / ((performance.now() - t0) / 1000);
  peer.dispose();
  progress(`tfjs-wasm-train: ${tfTokensPerSec.toFixed(0)} tokens/s`);

  return {
    rows: [
      { name: 'ours-train', tokens_per_s: ours.tokensPerSec },
      { name: 'tfjs-wasm-train', tokens_per_s: tfTokensPerSec }
    ],
    config,
    model: `${dir.split('/').pop()} (${countParams(config).toLocaleString('en-US')} parameters: ${config.n_layer} layers, ${config.n_head} heads, C ${config.n_embd}, V ${config.vocab_size})`,
    batch: B,
    seq: T,
    steps,
    losses: { 'ours-train': ours.losses, 'tfjs-wasm-train': tfLosses },
    details: {
      'ours-train': `engine/train trainSteps, ${kernels.name} matmul kernels, one thread`,
      'tfjs-wasm-train': `tfjs ${tf.version.tfjs} wasm (SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}, threads ${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')}), bench/tfjs-train.ts`
    }
  };
}

export function printTrain(r: TrainReport): void {
  const [ours, peer] = r.rows;
  const out = [
    `model: ${r.model}`,
    `batch ${r.batch} × ${r.seq} tokens, ${r.steps} timed steps after 1 untimed; forward + backward + clip + AdamW`,
    '',
    ...r.rows.map((row) => `${row.name.padEnd(16)} ${row.tokens_per_s.toFixed(0).padStart(8)} tokens/s   ${r.details[row.name]}`),
    '',
    `ratio ours/tfjs-wasm (tokens/s; above 1 means ours is faster): ${(ours.tokens_per_s / peer.tokens_per_s).toFixed(2)}×`,
    '',
    'losses per step (same init, same batches: they should agree to about 4 digits):',
    ...r.rows.map((row) => `  ${row.name.padEnd(16)} ${r.losses[row.name].map((x) => x.toFixed(4)).join(' ')}`)
  ];
  console.log(out.join('\n'));
}
