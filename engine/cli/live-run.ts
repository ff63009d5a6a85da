// npx tsx engine/cli/live-run.ts [--steps N] [--json]
// The training chapter's live run (engine/train/live.ts) in Node: the same data file, recipe, seed
// and kernels as the page's worker, so its losses are the ones the page draws, step for step.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fusedKernels } from '../train/gpt-train';
import { LiveRun, liveMemoryBytes, parseLivePack } from '../train/live';
import { parseArgs, repoRoot, run } from './common';

run(async () => {
  const args = parseArgs(process.argv.slice(2), { steps: 'number', json: 'boolean' });
  const pack = parseLivePack(JSON.parse(readFileSync(join(repoRoot, 'static/data/brown-live.json'), 'utf8')));
  const live = new LiveRun(pack, await fusedKernels(liveMemoryBytes));
  const steps = args.steps ?? 10;
  const losses: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) losses.push(live.next().loss);
  const ms = performance.now() - t0;
  if (args.json) {
    process.stdout.write(JSON.stringify({ losses, heldout: live.heldoutLoss().loss, vocab: live.config.vocab_size, trainTokens: live.trainTokens }) + '\n');
    return;
  }
  console.log(`${steps} steps, ${(ms / steps).toFixed(1)} ms a step, ${Math.round((steps * live.recipe.batchSize * live.recipe.seqLen) / (ms / 1000))} tokens/s`);
  console.log(`losses: ${losses.map((l) => l.toFixed(4)).join(' ')}`);
  console.log(`held-out: ${live.heldoutLoss().loss.toFixed(4)}`);
  console.log(`sample: ${JSON.stringify(live.sample().text)}`);
});
