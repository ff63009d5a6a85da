// npm run neurons [-- --model DIR --windows N --tokens T --k K]
// Runs the model over a fixed sample of the Brown corpus's held-out paragraphs and writes, for
// every MLP neuron of every layer, the K tokens that excite it most: DIR/neurons.json, which the
// FFN-neurons figure reads. Rerun it whenever the model's weights change (the file carries a
// fingerprint of the weights it describes, and the site and the tests check it).
import { writeFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createRunner } from '../backend';
import { EngineError } from '../errors';
import { fingerprint, neuronSampleDefaults, neuronSampleSource, packNeurons, sampleWindows, topActivations } from '../neurons';
import { brownSplit } from './corpus';
import { defaultModelDir, loadModelDir, parseArgs, run } from './common';

run(async () => {
  const args = parseArgs(process.argv.slice(2), { model: 'string', windows: 'number', tokens: 'number', k: 'number' });
  const dir = args.model ?? defaultModelDir();
  const model = loadModelDir(dir);
  const count = args.windows ?? neuronSampleDefaults.windows;
  const T = Math.min(args.tokens ?? neuronSampleDefaults.tokens, model.config.n_positions);
  const k = args.k ?? neuronSampleDefaults.k;
  for (const [name, v] of [['--windows', count], ['--tokens', T], ['--k', k]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new EngineError('bad_argument', `${name} must be a whole number of at least 1, got ${v}.`);
  }
  const windows = sampleWindows(brownSplit().heldout, (s) => model.tokenizer.encode(s), count, T);
  const runner = await createRunner(model, { backend: 'cpu' });
  const t0 = performance.now();
  const best = await topActivations(model.config, windows, k, async (ids) => (await runner.forward(ids, { trace: ['mlp.act'], lastOnly: true })).trace);
  const name = typeof model.meta.explorable_name === 'string' ? model.meta.explorable_name : basename(dir);
  const source = neuronSampleSource(windows.length, T);
  const file = packNeurons(name, fingerprint(model.config, model.params), source, k, windows, best);
  const out = join(dir, 'neurons.json');
  writeFileSync(out, JSON.stringify(file) + '\n');
  const tokens = windows.reduce((n, w) => n + w.length, 0);
  console.log(`wrote ${out}: ${model.config.n_layer} layers × ${4 * model.config.n_embd} neurons, top ${k} of ${tokens} tokens, ${(statSync(out).size / 1e6).toFixed(2)} MB, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
});
