// `npm run bench -- train`: training throughput in Node, ours against tfjs-wasm, on the shipped
// model's config (the default model's config.json) with the shipped recipe's batch shape and
// optimizer settings, at a constant learning rate.
//
// Both sides start from the same initial weights (initParams with the same seed), see the same
// batches (our DataLoader over one synthetic token stream) and do the same update (forward,
// backward, clip, AdamW with weight decay on the matrices), on one thread each. Their losses are
// printed side by side and must track each other: the two throughputs are of the same computation.
// The steps alternate, ours then theirs, so that a change in the machine's load during the run
// (it is shared) falls on both alike; each side's first step is not timed (JIT compilation, first
// touches of memory). tokens/s = timed steps · B · T / the time those steps took.
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
import { Trainer, type TrainRecipe } from '../engine/train/train';
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
  const steps = opts.steps ?? 16;
  // a synthetic stream: the speed of a step does not depend on which ids it sees
  const rng = new Rng(SEED);
  const tokens = Int32Array.from({ length: 200_000 }, () => Math.floor(rng.next() * config.vocab_size));

  // the shipped recipe's optimizer, at a constant rate: the schedule does not change the speed
  const recipe: TrainRecipe = {
    ...shipped, name: 'bench', seed: SEED, vocabSize: config.vocab_size, nLayer: config.n_layer, nEmbd: config.n_embd,
    nHead: config.n_head, nPositions: config.n_positions, batchSize: B, seqLen: T, steps: steps + 1,
    maxLr: LR, minLr: LR, warmupSteps: 0
  };
  const kernels = await wasmKernels();
  const ours = new Trainer(config, recipe, tokens, kernels);

  if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
  const peer = new TfjsTrainer(config, initParams(config, SEED), {
    batchSize: B, seqLen: T, lr: LR, beta1: recipe.beta1, beta2: recipe.beta2, eps: 1e-8,
    weightDecay: recipe.weightDecay, gradClip: recipe.gradClip
  });
  const data = new DataLoader(tokens, B, T, SEED);
  const inputs = new Int32Array(B * T);
  const targets = new Int32Array(B * T);

  progress(`training ${steps} + 1 steps of ${B}×${T} tokens on each side, alternating`);
  const losses: TrainReport['losses'] = { 'ours-train': [], 'tfjs-wasm-train': [] };
  const ms = { 'ours-train': 0, 'tfjs-wasm-train': 0 };
  for (let step = 0; step <= steps; step++) {
    let t0 = performance.now();
    losses['ours-train'].push(ours.next().loss);
    if (step > 0) ms['ours-train'] += performance.now() - t0;
    t0 = performance.now();
    data.batch(step, inputs, targets);
    losses['tfjs-wasm-train'].push(peer.step(inputs, targets));
    if (step > 0) ms['tfjs-wasm-train'] += performance.now() - t0;
    progress(`  step ${step}${step === 0 ? ' (untimed)' : ''}: loss ours ${losses['ours-train'][step].toFixed(4)}, tfjs ${losses['tfjs-wasm-train'][step].toFixed(4)}`);
  }
  peer.dispose();
  const tokensPerSec = (name: TrainRow['name']) => (steps * B * T) / (ms[name] / 1000);

  return {
    rows: [
      { name: 'ours-train', tokens_per_s: tokensPerSec('ours-train') },
      { name: 'tfjs-wasm-train', tokens_per_s: tokensPerSec('tfjs-wasm-train') }
    ],
    config,
    model: `${dir.split('/').pop()} (${countParams(config).toLocaleString('en-US')} parameters: ${config.n_layer} layers, ${config.n_head} heads, C ${config.n_embd}, V ${config.vocab_size})`,
    batch: B,
    seq: T,
    steps,
    losses,
    details: {
      'ours-train': `engine/train Trainer, ${kernels.name} matmul kernels, one thread`,
      'tfjs-wasm-train': `tfjs ${tf.version.tfjs} wasm (SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}, threads ${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')}), bench/tfjs-train.ts`
    }
  };
}

export function printTrain(r: TrainReport): void {
  const [ours, peer] = r.rows;
  const out = [
    `model: ${r.model}`,
    `batch ${r.batch} × ${r.seq} tokens, ${r.steps} timed steps after 1 untimed, alternating; forward + backward + clip + AdamW`,
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
