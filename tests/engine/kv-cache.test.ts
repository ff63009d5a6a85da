import { describe, expect, it } from 'vitest';
import { createCpuRunner } from '../../engine/backends/cpu';
import { generate } from '../../engine/generate';
import { createCache } from '../../engine/gpt';
import { makeConfig } from '../../engine/config';
import {
  assembleCache, cacheDrift, generateRecorded, kvCacheBytes, ourCacheShape, publishedCaches, type RecordedStep
} from '../../engine/kv-cache';
import { expectEngineError, testModel } from './helpers';

const model = testModel('micro', { n_positions: 24 });
const runner = createCpuRunner(model);
const prompt = model.tokenizer.encode('The cat sat');

async function recorded(opts: { temperature: number; seed?: number; maxTokens: number }, p = prompt): Promise<RecordedStep[]> {
  const steps: RecordedStep[] = [];
  for await (const s of generateRecorded(runner, model.config, p, opts)) steps.push(s);
  return steps;
}

describe('kvCacheBytes', () => {
  it('is 2 · L · T · C · 4 for our float32 cache, and matches the buffers the CPU engine allocates at full context', () => {
    for (const config of [model.config, makeConfig('tiny'), makeConfig('gpt2')]) {
      const s = ourCacheShape(config);
      expect(kvCacheBytes(s, 10)).toBe(2 * config.n_layer * 10 * config.n_embd * 4);
      const cache = createCache(config);
      const allocated = [...cache.k, ...cache.v].reduce((n, a) => n + a.byteLength, 0);
      expect(kvCacheBytes(s, config.n_positions)).toBe(allocated);
    }
  });

  it('zero tokens hold zero bytes', () => {
    expect(kvCacheBytes(ourCacheShape(model.config), 0)).toBe(0);
  });

  it('GPT-2 small at 1,024 tokens in float32 and Llama 3 70B at 8,192 tokens in bfloat16, from their configs', () => {
    const [gpt2, llama] = publishedCaches;
    expect(gpt2.kvHeads * gpt2.headSize).toBe(768);
    expect(kvCacheBytes(gpt2, gpt2.context)).toBe(2 * 12 * 1024 * 768 * 4); // 75,497,472
    // GQA: 8 key/value heads of 128 for 64 query heads, so 1,024 numbers per token per layer, not 8,192
    expect(llama.kvHeads * llama.headSize).toBe(1024);
    expect(kvCacheBytes(llama, llama.context)).toBe(2 * 80 * 8192 * 1024 * 2); // 2,684,354,560
    expect(kvCacheBytes({ ...llama, kvHeads: llama.queryHeads }, llama.context)).toBe(8 * kvCacheBytes(llama, llama.context));
  });

  it('rejects a negative or fractional token count and a shape of zero layers', () => {
    const s = ourCacheShape(model.config);
    expectEngineError(() => kvCacheBytes(s, -1), 'bad_tokens');
    expectEngineError(() => kvCacheBytes(s, 1.5), 'bad_tokens');
    expectEngineError(() => kvCacheBytes(s, NaN), 'bad_tokens');
    expectEngineError(() => kvCacheBytes({ ...s, layers: 0 }, 3), 'bad_cache_shape');
    expectEngineError(() => kvCacheBytes({ ...s, bytesPerNumber: NaN }, 3), 'bad_cache_shape');
  });
});

describe('generateRecorded', () => {
  it('chooses exactly the tokens of generate()', async () => {
    for (const opts of [{ temperature: 0, maxTokens: 10 }, { temperature: 1.2, seed: 4, maxTokens: 10 }]) {
      const plain = [];
      for await (const s of generate(runner, model.config, prompt, opts)) plain.push(s.chosen);
      expect((await recorded(opts)).map((s) => s.chosen)).toEqual(plain);
    }
  });

  it('the first step writes one row per prompt token, every later step exactly one more', async () => {
    const steps = await recorded({ temperature: 0, maxTokens: 6 });
    steps.forEach((s, i) => {
      expect(s.rows.first).toBe(i === 0 ? 0 : prompt.length + i - 1);
      expect(s.rows.count).toBe(i === 0 ? prompt.length : 1);
      expect(s.rows.first + s.rows.count).toBe(s.cacheLength);
      const hs = model.config.n_embd / model.config.n_head;
      for (const layer of [...s.rows.k, ...s.rows.v]) expect(layer.length).toBe(model.config.n_head * s.rows.count * hs);
    });
  });

  it('a one-token prompt: the first step writes one row', async () => {
    const steps = await recorded({ temperature: 0, maxTokens: 2 }, prompt.slice(0, 1));
    expect(steps[0].rows.count).toBe(1);
  });

  it('rows written earlier are what a full pass over the whole text computes: earlier keys and values never change', async () => {
    const steps = await recorded({ temperature: 0.9, seed: 2, maxTokens: 8 });
    // the last chosen token was never fed back, so the cache covers the context of the last step
    const ids = steps[steps.length - 1].context;
    expect(assembleCache(steps, model.config).length).toBe(ids.length);
    expect(await cacheDrift(runner, model.config, ids, steps)).toBeLessThan(1e-5);
  });

  it('comparing against the wrong number of tokens is an error', async () => {
    const steps = await recorded({ temperature: 0, maxTokens: 3 });
    await expect(cacheDrift(runner, model.config, prompt, steps)).rejects.toMatchObject({ code: 'bad_tokens' });
  });

  it('stops when the context is full, with as many rows as the model has positions', async () => {
    const steps = await recorded({ temperature: 0, maxTokens: 100 });
    const last = steps[steps.length - 1];
    if (last.stop === 'context_full') expect(last.cacheLength).toBe(model.config.n_positions);
    expect(assembleCache(steps, model.config).length).toBe(last.cacheLength);
  });
});
