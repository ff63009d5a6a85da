// npm run train -- [--quick] [--recipe NAME] [--out DIR] [--fresh] [--kernels wasm|fused|reference] [--threads N] [--card-only]
// Reproduces the shipped model from its recipe (engine/train/recipes.ts): trains the BPE
// tokenizer on the Brown training split, trains the model with our own backward pass, writes
// static/models/<name>/ (config.json, model.safetensors, tokenizer.json) and its MODEL_CARD.md.
// Progress (step, loss, tokens/s, ETA) goes to stderr. A checkpoint is saved to .train-checkpoint/
// every 100 steps; running the command again resumes from it (--fresh starts over).
// --quick: a small model for a few steps, written to a temporary directory (the tests use it).
// --kernels fused and --threads N (data-parallel, engine/train/parallel.ts) train faster but
// not bit for bit like the default (wasm-simd, one thread, which reproduces the shipped model):
// they are written into the recipe (its `kernels` and `threads` fields), so a checkpoint of one
// setting is never resumed with another.
import { cpus, tmpdir } from 'node:os';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { countParams, type GPTConfig } from '../config';
import { EngineError } from '../errors';
import { modelFiles } from '../model';
import { Tokenizer } from '../tokenizer';
import { tokenStream } from '../train/data';
import { createTrainState, kernelsByName, referenceKernels, wasmKernels, type TrainKernels } from '../train/gpt-train';
import { ParallelTrainer } from '../train/parallel';
import { spawnNodeThread } from '../train/threads-node';
import { streamLoss } from '../train/evaluate';
import { quick, recipes, shipped } from '../train/recipes';
import { Trainer, recipeConfig, type StepTrainer, type TrainRecipe } from '../train/train';
import { brownSplit } from './corpus';
import { modelsDir, parseArgs, repoRoot, run } from './common';

// What the model card needs to know about the run; saved next to the checkpoint.
export interface TrainSummary {
  recipe: TrainRecipe;
  config: GPTConfig;
  nParams: number;
  trainTokens: number; // size of the training stream
  heldoutTokens: number;
  tokensSeen: number;
  wallSec: number;
  cpuSec: number; // CPU time of the process (all resumed sessions together)
  kernels: string;
  machine: string;
  log: { step: number; loss: number; val?: number }[]; // train loss averaged since the last entry
}

const checkpointEvery = 100;
const valEvery = 250;

run(async () => {
  const args = parseArgs(process.argv.slice(2), { quick: 'boolean', out: 'string', fresh: 'boolean', kernels: 'string', threads: 'number', 'card-only': 'boolean', recipe: 'string' });
  if (args.kernels && !['reference', 'wasm', 'fused'].includes(args.kernels)) throw new EngineError('bad_argument', '--kernels must be wasm, fused or reference.');
  if (args.recipe && !recipes[args.recipe]) throw new EngineError('bad_argument', `--recipe must be one of ${Object.keys(recipes).join(', ')}; got "${args.recipe}".`);
  const base = args.quick ? quick : args.recipe ? recipes[args.recipe] : shipped;
  const threads = args.threads ?? base.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new EngineError('bad_argument', `--threads must be a whole number ≥ 1, got ${threads}.`);
  // the default leaves the recipe object as it is, so its JSON (kept in the checkpoint) does not change
  const recipe: TrainRecipe = (args.kernels === 'fused' || threads > 1) && !(args.kernels === undefined && threads === (base.threads ?? 1))
    ? { ...base, kernels: args.kernels === 'fused' ? 'wasm-simd-fused' : args.kernels === 'reference' ? 'reference' : 'wasm-simd', threads }
    : base;
  const ckptDir = join(repoRoot, '.train-checkpoint');
  const ckptPath = join(ckptDir, `${recipe.name}.safetensors`);
  const summaryPath = join(ckptDir, `${recipe.name}.summary.json`);
  const outDir = args.out ?? (args.quick ? mkdtempSync(join(tmpdir(), 'explorable-train-')) : join(modelsDir, recipe.name));
  if (args['card-only']) {
    const { writeModelCard } = await import('./model-card');
    await writeModelCard(outDir, JSON.parse(readFileSync(summaryPath, 'utf8')) as TrainSummary);
    return;
  }

  const say = (s: string) => process.stderr.write(s + '\n');
  const split = brownSplit();
  // the quick run trains on the first 1,500 paragraphs so that it stays well under a minute
  const trainParas = args.quick ? split.train.slice(0, 1500) : split.train;
  const heldParas = args.quick ? split.heldout.slice(0, 100) : split.heldout;
  const tokenizer = Tokenizer.train(trainParas.join('\n'), recipe.vocabSize);
  const config = recipeConfig(recipe, tokenizer.vocabSize, tokenizer.eotId);
  const encode = (t: string) => tokenizer.encode(t);
  const trainTokens = tokenStream(trainParas, encode, tokenizer.eotId);
  const heldTokens = tokenStream(heldParas, encode, tokenizer.eotId);
  const kernels: TrainKernels = recipe.kernels ? await kernelsByName(recipe.kernels) : args.kernels === 'reference' ? referenceKernels : await wasmKernels();
  const nParams = countParams(config);
  say(`${recipe.name}: ${nParams.toLocaleString('en-US')} parameters, vocabulary ${tokenizer.vocabSize}, ` +
    `${trainTokens.length.toLocaleString('en-US')} training tokens, ${recipe.steps} steps of ${recipe.batchSize}×${recipe.seqLen}, kernels ${kernels.name}, ${threads} thread${threads > 1 ? 's' : ''}`);

  const trainer: StepTrainer = threads > 1
    ? await ParallelTrainer.create(config, recipe, trainTokens, spawnNodeThread)
    : new Trainer(config, recipe, trainTokens, kernels);
  let wallSec = 0;
  let cpuSec = 0;
  let log: TrainSummary['log'] = [];
  if (!args.quick && !args.fresh && existsSync(ckptPath)) {
    const meta = trainer.restore(new Uint8Array(readFileSync(ckptPath)));
    wallSec = Number(meta.wall_sec);
    cpuSec = Number(meta.cpu_sec);
    log = JSON.parse(meta.log);
    say(`resumed from ${ckptPath} at step ${trainer.step}`);
  }
  const saveCheckpoint = () => {
    mkdirSync(ckptDir, { recursive: true });
    const bytes = trainer.checkpoint({ wall_sec: String(wallSec), cpu_sec: String(cpuSec), log: JSON.stringify(log) });
    writeFileSync(ckptPath + '.tmp', bytes);
    renameSync(ckptPath + '.tmp', ckptPath); // a crash mid-write never leaves a torn checkpoint
  };

  // a fixed sample of held-out windows, for a quick look at overfitting while training
  const valState = createTrainState(config, recipe.batchSize, recipe.seqLen, kernels);
  const valTokens = heldTokens.subarray(0, Math.min(heldTokens.length, 4 * recipe.batchSize * recipe.seqLen + 1));
  const valLoss = () => {
    valState.params.set(trainer.params);
    const r = streamLoss(valState, valTokens, recipe.seqLen);
    return r.nats / r.tokens;
  };

  const logEvery = Math.min(50, Math.ceil(recipe.steps / 6));
  const tty = process.stderr.isTTY;
  const recent: number[] = []; // seconds of the last steps, for tokens/s and the ETA
  let lossSum = 0;
  let lossN = 0;
  let cpuMark = process.cpuUsage();
  while (trainer.step < recipe.steps) {
    const r = await trainer.next();
    wallSec += r.ms / 1000;
    const cpu = process.cpuUsage(cpuMark);
    cpuMark = process.cpuUsage();
    cpuSec += (cpu.user + cpu.system) / 1e6;
    recent.push(r.ms / 1000);
    if (recent.length > 20) recent.shift();
    lossSum += r.loss;
    lossN++;
    const secPerStep = recent.reduce((a, b) => a + b, 0) / recent.length;
    const tps = (recipe.batchSize * recipe.seqLen) / secPerStep;
    const eta = (recipe.steps - r.step) * secPerStep;
    const line = `step ${r.step}/${recipe.steps} ${bar(r.step / recipe.steps)} loss ${r.loss.toFixed(3)} | ` +
      `${Math.round(tps).toLocaleString('en-US')} tok/s | lr ${r.lr.toExponential(2)} | ETA ${clock(eta)}`;
    if (tty) process.stderr.write('\r' + line + '   ');
    else if (r.step % 10 === 0 || r.step === 1) say(line);
    if (r.step % logEvery === 0 || r.step === recipe.steps) {
      const entry: TrainSummary['log'][number] = { step: r.step, loss: lossSum / lossN };
      if (r.step % valEvery === 0 || r.step === recipe.steps) entry.val = valLoss();
      log.push(entry);
      lossSum = lossN = 0;
      if (tty) process.stderr.write('\n');
      say(`  step ${r.step}: mean train loss ${entry.loss.toFixed(4)}` + (entry.val === undefined ? '' : `, held-out sample ${entry.val.toFixed(4)}`) + ` (nats/token), ${clock(wallSec)} elapsed`);
    }
    if (!args.quick && (r.step % checkpointEvery === 0 || r.step === recipe.steps)) saveCheckpoint();
  }
  if (tty) process.stderr.write('\n');
  trainer.close();

  const model = {
    config, params: trainer.namedParams(), tokenizer, nParams,
    meta: { explorable_name: recipe.name, explorable_seed: recipe.seed, explorable_notes: `trained by npm run train (recipe "${recipe.name}" in engine/train/recipes.ts)` }
  };
  mkdirSync(outDir, { recursive: true });
  for (const [file, data] of Object.entries(modelFiles(model))) writeFileSync(join(outDir, file), data);
  const summary: TrainSummary = {
    recipe, config, nParams, trainTokens: trainTokens.length, heldoutTokens: heldTokens.length,
    tokensSeen: trainer.step * recipe.batchSize * recipe.seqLen, wallSec, cpuSec, kernels: kernels.name,
    machine: `${cpus().length}-core ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, ${threads === 1 ? 'one thread' : `${threads} threads`}`, log
  };
  if (!args.quick) {
    mkdirSync(ckptDir, { recursive: true });
    writeFileSync(summaryPath, JSON.stringify(summary, null, 2) + '\n');
  }
  say(`wrote ${outDir} (${clock(wallSec)} of training, ${Math.round(cpuSec)} CPU seconds)`);
  if (args.quick) {
    // the tests read this line: the loss must have gone down
    const first = log[0];
    const last = log[log.length - 1];
    process.stdout.write(JSON.stringify({ out: outDir, first_loss: first.loss, last_loss: last.loss, val_loss: last.val, steps: trainer.step }) + '\n');
    return;
  }
  // imported here so a long run picks up the card code as it is when the run ends
  const { writeModelCard } = await import('./model-card');
  await writeModelCard(outDir, summary);
});

function bar(frac: number, width = 20): string {
  const n = Math.round(frac * width);
  return '[' + '='.repeat(n) + ' '.repeat(width - n) + ']';
}

function clock(sec: number): string {
  const s = Math.max(0, Math.round(sec));
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, '0')}`;
}
