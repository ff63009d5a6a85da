// Helpers shared by the command-line tools (Node only): argument parsing and model loading.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { loadModel, type Model } from '../model';
import { EngineError } from '../errors';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const modelsDir = join(repoRoot, 'static', 'models');

export function defaultModelDir(): string {
  const index = JSON.parse(readFileSync(join(modelsDir, 'index.json'), 'utf8')) as { default: string };
  return join(modelsDir, index.default);
}

export function loadModelDir(dir: string = defaultModelDir()): Model {
  const read = (f: string) => readFileSync(join(dir, f));
  return loadModel({
    config: read('config.json').toString('utf8'),
    safetensors: new Uint8Array(read('model.safetensors')),
    tokenizer: read('tokenizer.json').toString('utf8')
  });
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
