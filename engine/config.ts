// The model's hyperparameters, under the key names of Hugging Face's GPT-2 config.json, so a real
// GPT-2 checkpoint's config loads as it is.
import { EngineError } from './errors';

export interface GPTConfig {
  vocab_size: number; // V
  n_positions: number; // the context length: the most tokens one forward pass sees
  n_embd: number; // C
  n_layer: number; // L
  n_head: number; // nh
  layer_norm_epsilon: number;
  eos_token_id: number; // <|endoftext|>: generation stops when it is sampled
}

export const presets = {
  // a few thousand parameters: fast enough for finite-difference gradient checks
  micro: { vocab_size: 64, n_positions: 16, n_embd: 8, n_layer: 2, n_head: 2 },
  // the size class of the model shipped with the site
  tiny: { vocab_size: 1024, n_positions: 128, n_embd: 128, n_layer: 4, n_head: 4 },
  // OpenAI's GPT-2 small, for loading a real checkpoint
  gpt2: { vocab_size: 50257, n_positions: 1024, n_embd: 768, n_layer: 12, n_head: 12 }
} satisfies Record<string, Partial<GPTConfig>>;

export type PresetName = keyof typeof presets;

const defaults = { layer_norm_epsilon: 1e-5 };

// Keys a Hugging Face GPT-2 config.json carries that do not change our forward pass (dropout,
// initialisation, names). They are accepted and ignored; any other unknown key is an error,
// because a misspelt key silently falling back to a default is the kind of bug that costs a day.
const ignoredKeys = new Set([
  'architectures', 'attn_pdrop', 'bos_token_id', 'embd_pdrop', 'initializer_range', 'model_type',
  'resid_pdrop', 'summary_activation', 'summary_first_dropout', 'summary_proj_to_labels',
  'summary_type', 'summary_use_proj', 'task_specific_params', 'torch_dtype', 'transformers_version',
  'use_cache', 'vocab_file', 'reorder_and_upcast_attn', 'pad_token_id', 'dtype', '_name_or_path',
  // ours: notes that travel with the file
  'explorable_name', 'explorable_random_init', 'explorable_seed', 'explorable_notes'
]);

// Keys that would change the forward pass. We run GPT-2's architecture only, so each is accepted
// at GPT-2's value (or null) and refused at any other, instead of being silently ignored.
const gpt2Only: Record<string, (v: unknown, obj: Record<string, unknown>) => boolean> = {
  activation_function: (v) => v === 'gelu_new' || v === 'gelu_pytorch_tanh', // both are the tanh GELU
  tie_word_embeddings: (v) => v === true,
  scale_attn_weights: (v) => v === true,
  scale_attn_by_inverse_layer_idx: (v) => v === false,
  n_ctx: (v, obj) => v === obj.n_positions,
  n_inner: (v, obj) => v === 4 * (obj.n_embd as number)
};

const requiredKeys = ['vocab_size', 'n_positions', 'n_embd', 'n_layer', 'n_head'] as const;

export function parseConfig(json: unknown): GPTConfig {
  const raw = typeof json === 'string' ? parseJSON(json) : json;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new EngineError('bad_config', 'config.json must hold a JSON object.');
  }
  const obj = raw as Record<string, unknown>;
  const known = new Set<string>([...requiredKeys, 'layer_norm_epsilon', 'eos_token_id']);
  const unknown = Object.keys(obj).filter((k) => !known.has(k) && !ignoredKeys.has(k) && !(k in gpt2Only));
  if (unknown.length > 0) {
    throw new EngineError('bad_config', `config.json has unknown key(s): ${unknown.join(', ')}.`);
  }
  for (const [k, ok] of Object.entries(gpt2Only)) {
    if (k in obj && obj[k] !== null && !ok(obj[k], obj)) {
      throw new EngineError('bad_config', `config.json: "${k}": ${JSON.stringify(obj[k])} describes a model other than GPT-2's architecture, which is the only one this engine runs.`);
    }
  }
  for (const k of requiredKeys) {
    const v = obj[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      throw new EngineError('bad_config', `config.json: "${k}" must be a positive integer, got ${JSON.stringify(v)}.`);
    }
  }
  const config: GPTConfig = {
    vocab_size: obj.vocab_size as number,
    n_positions: obj.n_positions as number,
    n_embd: obj.n_embd as number,
    n_layer: obj.n_layer as number,
    n_head: obj.n_head as number,
    layer_norm_epsilon: (obj.layer_norm_epsilon as number | undefined) ?? defaults.layer_norm_epsilon,
    eos_token_id: (obj.eos_token_id as number | undefined) ?? (obj.vocab_size as number) - 1
  };
  if (!(config.layer_norm_epsilon > 0) || !Number.isFinite(config.layer_norm_epsilon)) {
    throw new EngineError('bad_config', 'config.json: "layer_norm_epsilon" must be a positive number.');
  }
  if (!Number.isInteger(config.eos_token_id) || config.eos_token_id < 0 || config.eos_token_id >= config.vocab_size) {
    throw new EngineError('bad_config', `config.json: "eos_token_id" must be an id below vocab_size (${config.vocab_size}).`);
  }
  if (config.n_embd % config.n_head !== 0) {
    throw new EngineError('bad_config', `config.json: n_embd (${config.n_embd}) must be divisible by n_head (${config.n_head}).`);
  }
  return config;
}

export function makeConfig(preset: PresetName, overrides: Partial<GPTConfig> = {}): GPTConfig {
  return parseConfig({ ...presets[preset], ...overrides });
}

function parseJSON(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new EngineError('bad_config', `config.json is not valid JSON: ${(e as Error).message}`);
  }
}

// Every parameter tensor of the model, by GPT-2 name, with its shape. Linear weights use GPT-2's
// Conv1D layout (in, out): y = x @ W + b.
export function paramShapes(c: GPTConfig): [string, number[]][] {
  const C = c.n_embd;
  const shapes: [string, number[]][] = [
    ['wte.weight', [c.vocab_size, C]],
    ['wpe.weight', [c.n_positions, C]]
  ];
  for (let l = 0; l < c.n_layer; l++) {
    const p = `h.${l}.`;
    shapes.push(
      [p + 'ln_1.weight', [C]],
      [p + 'ln_1.bias', [C]],
      [p + 'attn.c_attn.weight', [C, 3 * C]],
      [p + 'attn.c_attn.bias', [3 * C]],
      [p + 'attn.c_proj.weight', [C, C]],
      [p + 'attn.c_proj.bias', [C]],
      [p + 'ln_2.weight', [C]],
      [p + 'ln_2.bias', [C]],
      [p + 'mlp.c_fc.weight', [C, 4 * C]],
      [p + 'mlp.c_fc.bias', [4 * C]],
      [p + 'mlp.c_proj.weight', [4 * C, C]],
      [p + 'mlp.c_proj.bias', [C]]
    );
  }
  shapes.push(['ln_f.weight', [C]], ['ln_f.bias', [C]]);
  return shapes;
}

export function countParams(c: GPTConfig): number {
  return paramShapes(c).reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
}
