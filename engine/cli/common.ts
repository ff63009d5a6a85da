// Helpers shared by the command-line tools (Node only): argument parsing and model loading.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { loadModel, type Model } from '../model';
import { EngineError } from '../errors';
import { modelFilesOf, pickFolderFiles, type FolderFiles } from '../model-folder';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const modelsDir = join(repoRoot, 'static', 'models');

export function defaultModelDir(): string {
  const index = JSON.parse(readFileSync(join(modelsDir, 'index.json'), 'utf8')) as { default: string };
  return join(modelsDir, index.default);
}

// A model folder as the site opens one: config.json, model.safetensors, and tokenizer.json or
// vocab.json + merges.txt (engine/model-folder.ts says which files count).
export function loadModelDir(dir: string = defaultModelDir()): Model {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new EngineError('bad_folder', `No model folder at ${dir}.`);
  }
  const pick = pickFolderFiles(names);
  const files: FolderFiles = {};
  for (const name of [pick.config, pick.safetensors, ...pick.tokenizer]) files[name] = new Uint8Array(readFileSync(join(dir, name)));
  return loadModel(modelFilesOf(files));
}

type Spec = Record<string, 'string' | 'number' | 'boolean'>;

// --name value / --name=value / --flag; unknown flags are an error, not silently ignored.
export function parseArgs<S extends Spec>(argv: string[], spec: S): { [K in keyof S]?: S[K] extends 'number' ? number : S[K] extends 'boolean' ? boolean : string } {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m || !(m[1] in spec)) throw new EngineError('bad_argument', `Unknown argument "${argv[i]}". Known: ${Object.keys(spec).map((k) => '--' + k).join(' ')}`);
    const [, name, inline] = m;
    if (spec[name] === 'boolean') {
      out[name] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new EngineError('bad_argument', `--${name} needs a value.`);
    if (spec[name] === 'number') {
      const n = Number(value);
      if (value.trim() === '' || Number.isNaN(n)) throw new EngineError('bad_argument', `--${name} must be a number, got "${value}".`);
      out[name] = n;
    } else out[name] = value;
  }
  return out as never;
}

// Run a CLI's main, printing an EngineError as one clear line instead of a stack trace.
export async function run(main: () => void | Promise<void>): Promise<void> {
  try {
    await main();
  } catch (e) {
    if (e instanceof EngineError) {
      process.stderr.write(`error (${e.code}): ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}
