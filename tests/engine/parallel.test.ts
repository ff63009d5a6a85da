// Data-parallel training (engine/train/parallel.ts) on a tiny model: one thread reproduces Trainer
// bit for bit, N threads follow the one-thread loss curve to float rounding, and two runs with
// the same thread count are bit-identical (the gradients are reduced in a fixed order).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelsDir } from '../../engine/cli/common';
import { afterEach, describe, expect, it } from 'vitest';
import { makeConfig } from '../../engine/config';
import { fusedKernels, wasmKernels } from '../../engine/train/gpt-train';
import { ParallelTrainer, splitRows } from '../../engine/train/parallel';
import { quick, shipped } from '../../engine/train/recipes';
import { spawnNodeThread } from '../../engine/train/threads-node';
import { Trainer, type TrainRecipe } from '../../engine/train/train';
import { expectEngineError } from './helpers';

const text = 'the cat sat on the mat and the dog sat on the log. ';
const tokens = Int32Array.from([...text.repeat(40)].map((ch) => ch.charCodeAt(0) % 64));
const config = makeConfig('micro', { vocab_size: 64, n_positions: 16, n_embd: 16 });
const recipe: TrainRecipe = { ...quick, name: 'test', nLayer: 1, nEmbd: 16, nHead: 2, nPositions: 16, batchSize: 4, seqLen: 16, steps: 8, warmupSteps: 2 };
const steps = 4;

const open: ParallelTrainer[] = [];
async function parallel(r: TrainRecipe): Promise<ParallelTrainer> {
  const t = await ParallelTrainer.create(config, r, tokens, spawnNodeThread);
  open.push(t);
  return t;
}
afterEach(() => {
  for (const t of open.splice(0)) t.close();
});

async function run(t: { next(): unknown }): Promise<number[]> {
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push(((await t.next()) as { loss: number }).loss);
  return losses;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};

describe('ParallelTrainer', () => {
  it('one thread with the wasm-simd kernels is bit-identical to Trainer', async () => {
    const one = new Trainer(config, recipe, tokens, await wasmKernels(64 * 2 ** 20));
    const par = await parallel(recipe); // no kernels or threads fields: wasm-simd, one thread
    expect(await run(par)).toEqual(await run(one));
    expect(par.params).toEqual(one.params);
    expect(par.optimizer.m).toEqual(one.optimizer.m);
    expect(par.optimizer.v).toEqual(one.optimizer.v);
  }, 30_000);

  it.each([2, 3])('%i threads follow one thread to float rounding, and repeat themselves bit for bit', async (N) => {
    const fused: TrainRecipe = { ...recipe, kernels: 'wasm-simd-fused' };
    const one = await run(new Trainer(config, fused, tokens, await fusedKernels(64 * 2 ** 20)));
    const a = await parallel({ ...fused, threads: N }); // 3 threads: rows 2, 1, 1 of B = 4
    const b = await parallel({ ...fused, threads: N });
    const [la, lb] = [await run(a), await run(b)];
    console.log(`${N} threads: losses ${la.map((x) => x.toFixed(6)).join(' ')}; one thread ${one.map((x) => x.toFixed(6)).join(' ')}; max |Δ| ${maxDiff(la, one).toExponential(1)}`);
    // the rows' weight gradients are summed in another order: f32 rounding, amplified a little by
    // four Adam steps (whose first updates are ±lr whatever the gradient's size)
    expect(maxDiff(la, one)).toBeLessThan(1e-4);
    expect(lb).toEqual(la);
    expect(b.params).toEqual(a.params);
  }, 30_000);

  it('a checkpoint of a 2-thread run resumes bit for bit', async () => {
    const r: TrainRecipe = { ...recipe, kernels: 'wasm-simd-fused', threads: 2 };
    const straight = await parallel(r);
    const all = [...(await run(straight)), ...(await run(straight))];
    const first = await parallel(r);
    const half = await run(first);
    const resumed = await parallel(r);
    resumed.restore(first.checkpoint());
    expect([...half, ...(await run(resumed))]).toEqual(all);
    expect(resumed.params).toEqual(straight.params);
  }, 30_000);
});

describe('the shipped numerics stay as they were', () => {
  // Golden values: these four losses and the parameter sums after the fourth update were printed by
  // the same run at commit d020b59, before the fused kernels and the threads existed. The shipped
  // model is trained with wasm-simd on one thread, so this run must not change by a bit.
  it('Trainer with wasm-simd gives the losses and parameters of commit d020b59, and so does ParallelTrainer on one thread', async () => {
    const golden = [4.166474435478449, 4.0403225235641, 3.8381880708038807, 3.6552663259208202];
    const sums = (p: Float32Array) => {
      let sum = 0, sq = 0;
      for (const x of p) { sum += x; sq += x * x; }
      return [sum, sq];
    };
    const one = new Trainer(config, recipe, tokens, await wasmKernels(64 * 2 ** 20));
    expect(await run(one)).toEqual(golden);
    expect(sums(one.params)).toEqual([82.24755431702161, 87.55087013232502]);
    const par = await parallel(recipe);
    expect(await run(par)).toEqual(golden);
  }, 30_000);

  it('the shipped recipe is the one the committed model was trained with, kernels and thread count included', () => {
    // `npm run train` reproduces the model bit for bit only with the same kernels and thread count
    const config = JSON.parse(readFileSync(join(modelsDir, shipped.name, 'config.json'), 'utf8'));
    expect(config.explorable_name).toBe(shipped.name);
    expect([config.n_layer, config.n_head, config.n_embd, config.n_positions]).toEqual([shipped.nLayer, shipped.nHead, shipped.nEmbd, shipped.nPositions]);
    expect(shipped.kernels).toBe('wasm-simd-fused');
    expect(shipped.threads).toBe(2);
    expect(readFileSync(join(modelsDir, shipped.name, 'MODEL_CARD.md'), 'utf8')).toContain('2 threads, kernels: wasm-simd-fused');
  });
});

describe('splitRows', () => {
  it('splits as evenly as possible, the first threads one row more', () => {
    expect(splitRows(8, 2)).toEqual([[0, 4], [4, 8]]);
    expect(splitRows(5, 3)).toEqual([[0, 2], [2, 4], [4, 5]]);
  });

  it('more threads than rows, or a thread count below 1, is a bad_argument', () => {
    expectEngineError(() => splitRows(4, 5), 'bad_argument');
    expectEngineError(() => splitRows(4, 0), 'bad_argument');
    expectEngineError(() => splitRows(4, 1.5), 'bad_argument');
  });
});
