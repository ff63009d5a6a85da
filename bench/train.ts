// `npm run bench -- train [--threads N]`: training throughput in Node on the shipped recipe's
// model shape, batch shape and optimizer settings, at a constant learning rate. Four trainers:
//   ours-train        the shipped recipe's trainer: wasm-simd kernels, one thread
//   ours-fused        the wasm-simd-fused kernels, one thread
//   ours-fused-Nt     the wasm-simd-fused kernels on N threads (ParallelTrainer; N = 2 unless given)
//   tfjs-wasm-train   tfjs's wasm backend (bench/tfjs-train.ts), one thread
//
// All start from the same initial weights (initParams with the same seed), see the same batches
// (our DataLoader over one synthetic token stream) and do the same update (forward, backward,
// clip, AdamW with weight decay on the matrices). Their losses are printed side by side and must
// track each other: the throughputs are of the same computation. The steps alternate, one of each
// in turn, so that a change in the machine's load during the run (it is shared) falls on all
// alike; each one's first step is not timed (JIT compilation, first touches of memory).
// tokens/s = timed steps · B · T / the time those steps took.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { availableParallelism, loadavg } from 'node:os';
import { countParams, type GPTConfig } from '../engine/config';
import { initParams } from '../engine/model';
import { Rng } from '../engine/sampling';
import { DataLoader } from '../engine/train/data';
import { fusedKernels, wasmKernels } from '../engine/train/gpt-train';
import { ParallelTrainer } from '../engine/train/parallel';
import { shipped } from '../engine/train/recipes';
import { spawnNodeThread } from '../engine/train/threads-node';
import { Trainer, recipeConfig, type StepTrainer, type TrainRecipe } from '../engine/train/train';
import { TfjsTrainer } from './tfjs-train';

export interface TrainRow {
  name: string; // 'ours-train', 'ours-fused', 'ours-fused-2t', 'tfjs-wasm-train'
  tokens_per_s: number;
}

export interface TrainReport {
  rows: TrainRow[];
  config: GPTConfig;
  model: string;
  batch: number;
  seq: number;
  steps: number;
  threads: number;
  load: string; // the load average before and after the run
  losses: Record<string, number[]>;
  details: Record<string, string>;
}

const SEED = 1;
const LR = 1e-3;

export async function runTrain(
  opts: { steps?: number; batch?: number; seq?: number; threads?: number },
  progress: (line: string) => void
): Promise<TrainReport> {
  // the shipped recipe's model shape (its file may not be trained yet; the speed depends only on
  // the shape), its vocabulary at the size the recipe asks for
  const config = recipeConfig(shipped, shipped.vocabSize, 0);
  const B = opts.batch ?? shipped.batchSize;
  const T = Math.min(opts.seq ?? shipped.seqLen, config.n_positions);
  const steps = opts.steps ?? 16;
  // a synthetic stream: the speed of a step does not depend on which ids it sees
  const rng = new Rng(SEED);
  const tokens = Int32Array.from({ length: 200_000 }, () => Math.floor(rng.next() * config.vocab_size));

  // the shipped recipe's optimizer, at a constant rate: the schedule does not change the speed
  const recipe: TrainRecipe = {
    ...shipped, kernels: undefined, threads: undefined, name: 'bench', seed: SEED, vocabSize: config.vocab_size, nLayer: config.n_layer, nEmbd: config.n_embd,
    nHead: config.n_head, nPositions: config.n_positions, batchSize: B, seqLen: T, steps: steps + 1,
    maxLr: LR, minLr: LR, warmupSteps: 0
  };
  const threads = opts.threads ?? 2;
  const load0 = loadAverage();
  const kernels = await wasmKernels();
  const fused = await fusedKernels();
  const parallelName = `ours-fused-${threads}t`;
  const ours: [string, StepTrainer][] = [
    ['ours-train', new Trainer(config, recipe, tokens, kernels)],
    ['ours-fused', new Trainer(config, { ...recipe, kernels: 'wasm-simd-fused' }, tokens, fused)],
    [parallelName, await ParallelTrainer.create(config, { ...recipe, kernels: 'wasm-simd-fused', threads }, tokens, spawnNodeThread)]
  ];

  if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
  const peer = new TfjsTrainer(config, initParams(config, SEED), {
    batchSize: B, seqLen: T, lr: LR, beta1: recipe.beta1, beta2: recipe.beta2, eps: 1e-8,
    weightDecay: recipe.weightDecay, gradClip: recipe.gradClip
  });
  const data = new DataLoader(tokens, B, T, SEED);
  const inputs = new Int32Array(B * T);
  const targets = new Int32Array(B * T);

  const names = [...ours.map(([n]) => n), 'tfjs-wasm-train'];
  progress(`training ${steps} + 1 steps of ${B}×${T} tokens with each of ${names.join(', ')}, alternating`);
  const losses: TrainReport['losses'] = Object.fromEntries(names.map((n) => [n, []]));
  const ms: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  try {
    for (let step = 0; step <= steps; step++) {
      for (const [name, trainer] of ours) {
        const t0 = performance.now();
        losses[name].push((await trainer.next()).loss);
        if (step > 0) ms[name] += performance.now() - t0;
      }
      const t0 = performance.now();
      data.batch(step, inputs, targets);
      losses['tfjs-wasm-train'].push(peer.step(inputs, targets));
      if (step > 0) ms['tfjs-wasm-train'] += performance.now() - t0;
      progress(`  step ${step}${step === 0 ? ' (untimed)' : ''}: loss ${names.map((n) => `${n} ${losses[n][step].toFixed(4)}`).join(', ')}`);
    }
  } finally {
    peer.dispose();
    for (const [, t] of ours) t.close();
  }
  const tokensPerSec = (name: string) => (steps * B * T) / (ms[name] / 1000);

  return {
    rows: names.map((name) => ({ name, tokens_per_s: tokensPerSec(name) })),
    config,
    model: `recipe ${shipped.name}'s shape (${countParams(config).toLocaleString('en-US')} parameters: ${config.n_layer} layers, ${config.n_head} heads, C ${config.n_embd}, V ${config.vocab_size})`,
    batch: B,
    seq: T,
    steps,
    threads,
    load: `load average ${load0} before, ${loadAverage()} after (1, 5, 15 min; ${availableParallelism()} cores)`,
    losses,
    details: {
      'ours-train': `engine/train Trainer, ${kernels.name} kernels, one thread (the shipped recipe's trainer)`,
      'ours-fused': `engine/train Trainer, ${fused.name} kernels, one thread`,
      [parallelName]: `engine/train ParallelTrainer, ${fused.name} kernels, ${threads} worker threads (B split ${threads} ways)`,
      'tfjs-wasm-train': `tfjs ${tf.version.tfjs} wasm (SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}, threads ${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')}), bench/tfjs-train.ts`
    }
  };
}

function loadAverage(): string {
  return loadavg().map((x) => x.toFixed(2)).join(' ');
}

export function printTrain(r: TrainReport): void {
  const by = (name: string) => r.rows.find((x) => x.name === name)!.tokens_per_s;
  const base = by('ours-train');
  const peer = by('tfjs-wasm-train');
  const out = [
    `model: ${r.model}`,
    `batch ${r.batch} × ${r.seq} tokens, ${r.steps} timed steps after 1 untimed, alternating; forward + backward + clip + AdamW`,
    r.load,
    '',
    ...r.rows.map((row) => `${row.name.padEnd(16)} ${row.tokens_per_s.toFixed(0).padStart(8)} tokens/s   ${r.details[row.name]}`),
    '',
    'ratios (tokens/s; above 1 means the first is faster):',
    ...r.rows.filter((row) => row.name !== 'ours-train' && row.name !== 'tfjs-wasm-train').map((row) => `  ${row.name} / ours-train: ${(row.tokens_per_s / base).toFixed(2)}×`),
    ...r.rows.filter((row) => row.name !== 'tfjs-wasm-train').map((row) => `  ${row.name} / tfjs-wasm-train: ${(row.tokens_per_s / peer).toFixed(2)}×`),
    '',
    'losses per step (same init, same batches: they should agree to about 4 digits):',
    ...r.rows.map((row) => `  ${row.name.padEnd(16)} ${r.losses[row.name].map((x) => x.toFixed(4)).join(' ')}`)
  ];
  console.log(out.join('\n'));
}
