// A model is two files and a tokenizer: the parameters (model.safetensors) and the hyperparameters
// (config.json) that the program in gpt.ts runs, plus the vocabulary that turns text into ids.
import { countParams, paramShapes, parseConfig, type GPTConfig } from './config';
import { EngineError } from './errors';
import type { Params } from './gpt';
import { Rng } from './sampling';
import { decodeTensor, readSafetensorsHeader, serializeSafetensors, type HeaderEntry, type Tensor } from './safetensors';
import { Tokenizer } from './tokenizer';

export interface Model {
  config: GPTConfig;
  params: Params;
  tokenizer: Tokenizer;
  nParams: number;
  meta: Record<string, unknown>; // the config file's extra keys (name, random init, ...)
}

export interface ModelFiles {
  config: unknown; // config.json, text or parsed
  safetensors: Uint8Array; // model.safetensors
  tokenizer: unknown; // tokenizer.json, text or parsed, or a Tokenizer already built
}

// Names in Hugging Face GPT-2 files that are not parameters of ours: the causal-mask buffers some
// exports include, and the output head, which GPT-2 ties to wte.
const ignoredTensor = /(^|\.)attn\.(bias|masked_bias)$/;

// The checks and conversions of a load, one tensor at a time: it yields after each tensor (done of
// total), so a caller can report progress or stop between two; loadModel runs it straight through.
export function* prepareModel(files: ModelFiles): Generator<{ done: number; total: number }, Model> {
  const config = parseConfig(files.config);
  const raw = typeof files.config === 'string' ? JSON.parse(files.config) : (files.config as Record<string, unknown>);
  const tokenizer = files.tokenizer instanceof Tokenizer ? files.tokenizer : Tokenizer.fromJSON(files.tokenizer as string);
  if (tokenizer.vocabSize !== config.vocab_size) {
    throw new EngineError('bad_model', `The tokenizer has ${tokenizer.vocabSize} tokens but config.json says the model has ${config.vocab_size}.`);
  }
  if (tokenizer.eotId !== config.eos_token_id) {
    throw new EngineError('bad_model', `The tokenizer's <|endoftext|> is id ${tokenizer.eotId} but config.json's eos_token_id is ${config.eos_token_id}.`);
  }
  const { entries } = readSafetensorsHeader(files.safetensors);
  const byName = new Map<string, HeaderEntry>();
  for (const e of entries) {
    const n = e.name.replace(/^transformer\./, '');
    if (ignoredTensor.test(n)) continue;
    // transformer.wte.weight and wte.weight are one parameter: a file with both is ambiguous
    if (byName.has(n)) throw new EngineError('bad_safetensors', `Corrupt parameter file: "${n}" appears twice (with and without the "transformer." prefix).`);
    byName.set(n, e);
  }
  const decoded = (e: HeaderEntry) => decodeTensor(files.safetensors, e);
  // GPT-2 ties its output head to wte; an export may still carry the head as lm_head.weight, which
  // we drop only when it is that same matrix (an untied head would give different logits)
  const head = byName.get('lm_head.weight');
  const wte = byName.get('wte.weight');
  if (head) {
    const headData = wte && head.shape.join() === wte.shape.join() ? decoded(head) : null;
    const wteData = headData && wte ? decoded(wte) : null;
    if (!headData || !wteData || headData.some((v, i) => v !== wteData[i])) {
      throw new EngineError('bad_safetensors', 'The parameter file has an output head (lm_head.weight) that differs from wte: an untied head is not GPT-2\'s architecture.');
    }
    byName.delete('lm_head.weight');
  }
  const params: Params = {};
  const shapes = paramShapes(config);
  let done = 0;
  for (const [name, shape] of shapes) {
    const t = byName.get(name);
    if (!t) throw new EngineError('bad_safetensors', `Corrupt parameter file: tensor "${name}" is missing.`);
    if (t.shape.join() !== shape.join()) {
      throw new EngineError('bad_safetensors', `Corrupt parameter file: "${name}" has shape [${t.shape}], config.json implies [${shape}].`);
    }
    const data = decoded(t);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) throw new EngineError('bad_safetensors', `Corrupt parameter file: "${name}" holds a NaN or infinite value.`);
    }
    params[name] = data;
    byName.delete(name);
    yield { done: ++done, total: shapes.length };
  }
  if (byName.size > 0) {
    throw new EngineError('bad_safetensors', `Corrupt parameter file: unexpected tensor(s) ${[...byName.keys()].slice(0, 5).join(', ')}.`);
  }
  const meta = Object.fromEntries(Object.entries(raw).filter(([k]) => k.startsWith('explorable_')));
  return { config, params, tokenizer, nParams: countParams(config), meta };
}

export function loadModel(files: ModelFiles): Model {
  const steps = prepareModel(files);
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

// The same load in a worker: it gives way between tensors, so progress reaches the page and a
// cancel (signal.aborted, set by a message handled in the pause) stops it with nothing kept.
export async function loadModelStepwise(
  files: ModelFiles,
  opts: { onProgress?: (p: { tensors: number; total: number }) => void; signal?: { aborted: boolean } } = {}
): Promise<Model> {
  const steps = prepareModel(files);
  let last = 0;
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
    const now = Date.now();
    if (now - last < 30 && next.value.done < next.value.total) continue; // a pause costs a task turn; keep them few
    last = now;
    opts.onProgress?.({ tensors: next.value.done, total: next.value.total });
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (opts.signal?.aborted) throw new EngineError('cancelled', 'Opening the model was cancelled; the model in use is unchanged.');
  }
}

// GPT-2's initialisation: weights ~ N(0, 0.02), the projections that write into the residual
// stream scaled down by √(2·n_layer) so the stream's variance does not grow with depth; biases 0,
// LayerNorm gains 1.
export function initParams(config: GPTConfig, seed: number): Params {
  const rng = new Rng(seed);
  const params: Params = {};
  for (const [name, shape] of paramShapes(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (/ln_\d\.weight$|ln_f\.weight$/.test(name)) data.fill(1);
    else if (name.endsWith('.weight')) {
      const std = name.endsWith('c_proj.weight') ? 0.02 / Math.sqrt(2 * config.n_layer) : 0.02;
      for (let i = 0; i < data.length; i++) data[i] = std * rng.normal();
    }
    params[name] = data;
  }
  return params;
}

export function randomModel(config: GPTConfig, tokenizer: Tokenizer, seed = 1337): Model {
  return { config, params: initParams(config, seed), tokenizer, nParams: countParams(config), meta: { explorable_random_init: true, explorable_seed: seed } };
}

// The three files of a model, ready to write to disk or to serve.
export function modelFiles(model: Model, extra: Record<string, unknown> = {}): { 'config.json': string; 'model.safetensors': Uint8Array; 'tokenizer.json': string } {
  const config = { ...model.config, ...model.meta, ...extra };
  const tensors = paramShapes(model.config).map(([name, shape]): [string, Tensor] => [name, { shape, data: model.params[name] }]);
  return {
    'config.json': JSON.stringify(config, null, 2) + '\n',
    'model.safetensors': serializeSafetensors(tensors, { format: 'pt' }),
    'tokenizer.json': JSON.stringify(model.tokenizer.toJSON()) + '\n'
  };
}
