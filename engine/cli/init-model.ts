// npm run init-model -- [--preset tiny] [--seed S] [--vocab N] [--learn N] [--layers L] [--heads H] [--embd C] [--context T] [--name NAME] [--out DIR]
// Writes a randomly initialised model of any preset, with a BPE tokenizer trained on the Brown
// corpus's training split, to static/models/NAME/. The vocabulary is --vocab tokens (the preset's
// by default) exactly: the tokenizer learns --learn of them from the corpus (all, by default, as
// far as the corpus allows) and the rest are padding merges no text taught it (Tokenizer.padded),
// so `--preset gpt2` has GPT-2 small's 50,257 tokens and 124,439,808 parameters.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeConfig, presets, type PresetName } from '../config';
import { EngineError } from '../errors';
import { modelFiles, randomModel } from '../model';
import { Tokenizer } from '../tokenizer';
import { brownSplit } from './corpus';
import { modelsDir, parseArgs, run } from './common';

run(() => {
  const args = parseArgs(process.argv.slice(2), { preset: 'string', seed: 'number', vocab: 'number', learn: 'number', layers: 'number', heads: 'number', embd: 'number', context: 'number', name: 'string', out: 'string' });
  const preset = (args.preset ?? 'tiny') as PresetName;
  if (!(preset in presets)) throw new EngineError('bad_argument', `Unknown preset "${preset}". Known: ${Object.keys(presets).join(', ')}`);
  const vocab = args.vocab ?? presets[preset].vocab_size;
  const learn = Math.min(args.learn ?? vocab, vocab);
  const learned = Tokenizer.train(brownSplit().train.join('\n'), learn);
  const tokenizer = learned.vocabSize < vocab ? learned.padded(vocab) : learned;
  // any shape, so tests can make models that differ from the shipped one in every dimension
  const shape = {
    ...(args.layers !== undefined && { n_layer: args.layers }),
    ...(args.heads !== undefined && { n_head: args.heads }),
    ...(args.embd !== undefined && { n_embd: args.embd }),
    ...(args.context !== undefined && { n_positions: args.context })
  };
  const config = makeConfig(preset, { ...shape, vocab_size: tokenizer.vocabSize, eos_token_id: tokenizer.eotId });
  const name = args.name ?? `${preset}-random`;
  const model = randomModel(config, tokenizer, args.seed ?? 1337);
  const dir = args.out ?? join(modelsDir, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, data] of Object.entries(modelFiles(model, { explorable_name: name }))) writeFileSync(join(dir, file), data);
  console.log(`wrote ${dir}: ${model.nParams.toLocaleString('en-US')} parameters, vocabulary ${tokenizer.vocabSize}${tokenizer === learned ? '' : ` (${learned.vocabSize} learned from the corpus, the rest padding)`}`);
});
