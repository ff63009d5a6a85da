// The KV cache as something to look at and to price: how many bytes it holds for a model's
// configuration, and a generation that records, step by step, the key and value rows each
// forward pass added to it. Generation only ever appends rows: a row, once written, is reused by
// every later step and never recomputed, which is why the cache is worth keeping.
//
// Legend: L layers, T tokens in the cache, C = n_embd, nh heads, hs head size, nkv key/value heads.
import type { Cache, RunOptions, RunResult, Runner } from './backend';
import type { GPTConfig } from './config';
import { EngineError } from './errors';
import { generate, type GenerateOptions, type Step } from './generate';

// What sets a cache's size. Every layer keeps one key and one value vector per token and per
// key/value head. GPT-2 gives each attention head its own keys and values (nkv = nh); grouped-query
// attention (GQA) lets several query heads share one key/value head, so fewer rows are stored.
export interface CacheShape {
  layers: number; // L
  kvHeads: number; // nkv
  headSize: number; // hs
  bytesPerNumber: number; // 4 for float32, 2 for float16 / bfloat16
}

export function checkCacheShape(s: CacheShape): void {
  for (const name of ['layers', 'kvHeads', 'headSize', 'bytesPerNumber'] as const) {
    const v = s[name];
    if (!Number.isInteger(v) || v < 1) {
      throw new EngineError('bad_cache_shape', `A cache's ${name} must be a whole number of at least 1, got ${String(v)}.`);
    }
  }
}

// Bytes held after T tokens: 2 (a key and a value) · L · T · nkv · hs · bytes per number. For a
// GPT-2-shaped model nkv · hs = C, so this is 2 · L · T · C · bytes.
export function kvCacheBytes(s: CacheShape, tokens: number): number {
  checkCacheShape(s);
  if (!Number.isInteger(tokens) || tokens < 0) {
    throw new EngineError('bad_tokens', `The number of cached tokens must be a whole number of at least 0, got ${String(tokens)}.`);
  }
  return 2 * s.layers * tokens * s.kvHeads * s.headSize * s.bytesPerNumber;
}

// Our engine's cache, from the model's config: GPT-2 attention (a key/value pair per head) and
// float32 numbers, on the CPU and on WebGPU alike.
export function ourCacheShape(config: GPTConfig): CacheShape {
  return { layers: config.n_layer, kvHeads: config.n_head, headSize: config.n_embd / config.n_head, bytesPerNumber: 4 };
}

// Published models, their shapes from the papers that describe them. `context` is the length the
// page prices the cache at: the context each model was trained to read.
export interface PublishedCache extends CacheShape {
  key: string;
  name: string;
  queryHeads: number; // nh: with GQA, more than kvHeads
  context: number;
  precision: string; // in words: what bytesPerNumber stands for
  source: string;
}

export const publishedCaches: readonly PublishedCache[] = [
  {
    // Radford et al. 2019: 12 layers of width 768 (12 heads of 64), a context of 1,024 tokens; its
    // weights were released in float32.
    key: 'gpt2',
    name: 'GPT-2 small',
    layers: 12,
    queryHeads: 12,
    kvHeads: 12,
    headSize: 64,
    bytesPerNumber: 4,
    context: 1024,
    precision: 'float32',
    source: 'Radford et al., 2019'
  },
  {
    // Meta, The Llama 3 Herd of Models, 2024, table 3: 80 layers, model width 8,192 in 64 query
    // heads of 128, and 8 key/value heads (GQA); trained at 8,192 tokens before the long-context
    // stage; bfloat16.
    key: 'llama3-70b',
    name: 'Llama 3 70B',
    layers: 80,
    queryHeads: 64,
    kvHeads: 8,
    headSize: 128,
    bytesPerNumber: 2,
    context: 8192,
    precision: 'bfloat16',
    source: 'Meta, The Llama 3 Herd of Models, 2024'
  }
];

// The rows one forward pass added to the cache: per layer, keys and values of the tokens it was
// fed, head by head.
export interface CacheRows {
  first: number; // position of the first new row (the cache length before the pass)
  count: number; // rows added: the tokens the pass was fed
  k: Float32Array[]; // per layer (nh, count, hs)
  v: Float32Array[]; // per layer (nh, count, hs)
}

export interface RecordedStep extends Step {
  rows: CacheRows;
}

// The new rows of a pass, cut from its k and v traces, which cover the whole cache: (nh, Tc+T, hs).
export function newRows(result: RunResult, config: GPTConfig, first: number, count: number): CacheRows {
  const nh = config.n_head;
  const hs = config.n_embd / nh;
  const cut = (t: { shape: number[]; data: Float32Array } | undefined, what: string) => {
    if (!t || t.shape[1] !== first + count) {
      throw new EngineError('no_trace', `The forward pass did not report the cache's ${what} rows.`);
    }
    const total = t.shape[1];
    const out = new Float32Array(nh * count * hs); // (nh, count, hs)
    for (let h = 0; h < nh; h++) out.set(t.data.subarray((h * total + first) * hs, (h * total + first + count) * hs), h * count * hs);
    return out;
  };
  return {
    first,
    count,
    k: result.trace.layers.map((l) => cut(l.k, 'key')),
    v: result.trace.layers.map((l) => cut(l.v, 'value'))
  };
}

// generate() with the KV cache, each step carrying the key and value rows its pass wrote. The
// runner is wrapped so every pass also traces k and v; the loop itself is generate()'s own, so the
// tokens are exactly those of `npm run generate`.
export async function* generateRecorded(runner: Runner, config: GPTConfig, prompt: readonly number[], opts: GenerateOptions): AsyncGenerator<RecordedStep, void> {
  let last: CacheRows | null = null;
  const recording: Runner = {
    backend: runner.backend,
    device: runner.device,
    createCache: () => runner.createCache(),
    async forward(ids: readonly number[], o: RunOptions = {}) {
      const before = (o.cache as Cache | undefined)?.length ?? 0;
      const result = await runner.forward(ids, { ...o, trace: ['k', 'v'] });
      last = newRows(result, config, before, ids.length);
      return result;
    },
    dispose: () => runner.dispose()
  };
  for await (const step of generate(recording, config, prompt, { ...opts, useCache: true })) {
    yield { ...step, rows: last! };
  }
}

// The whole cache after a recorded run, per layer (nh, T, hs): the rows of every step laid end to
// end, where a full forward pass over the same tokens puts them.
export function assembleCache(steps: readonly { rows: CacheRows }[], config: GPTConfig): { k: Float32Array[]; v: Float32Array[]; length: number } {
  const nh = config.n_head;
  const hs = config.n_embd / nh;
  const T = steps.reduce((n, s) => n + s.rows.count, 0);
  const k = Array.from({ length: config.n_layer }, () => new Float32Array(nh * T * hs)); // (nh, T, hs)
  const v = Array.from({ length: config.n_layer }, () => new Float32Array(nh * T * hs)); // (nh, T, hs)
  for (const { rows } of steps) {
    for (let l = 0; l < config.n_layer; l++) {
      for (let h = 0; h < nh; h++) {
        const src = h * rows.count * hs;
        const dst = (h * T + rows.first) * hs;
        k[l].set(rows.k[l].subarray(src, src + rows.count * hs), dst);
        v[l].set(rows.v[l].subarray(src, src + rows.count * hs), dst);
      }
    }
  }
  return { k, v, length: T };
}

// The largest difference between the cache a run built row by row and the keys and values one
// full pass over the same tokens computes: the check that earlier rows never change.
export async function cacheDrift(runner: Runner, config: GPTConfig, ids: readonly number[], steps: readonly { rows: CacheRows }[]): Promise<number> {
  const built = assembleCache(steps, config);
  if (built.length !== ids.length) {
    throw new EngineError('bad_tokens', `The run cached ${built.length} tokens, but ${ids.length} were given to compare with.`);
  }
  const { trace } = await runner.forward(ids, { trace: ['k', 'v'], lastOnly: true });
  let m = 0;
  for (let l = 0; l < config.n_layer; l++) {
    const fk = trace.layers[l].k!.data;
    const fv = trace.layers[l].v!.data;
    for (let i = 0; i < fk.length; i++) m = Math.max(m, Math.abs(fk[i] - built.k[l][i]), Math.abs(fv[i] - built.v[l][i]));
  }
  return m;
}
