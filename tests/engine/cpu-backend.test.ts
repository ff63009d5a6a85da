// The CPU backend's WebAssembly SIMD matmuls against the plain-loop reference forward pass.
import { describe, expect, it } from 'vitest';
import { createCpuRunner, createFastCpuRunner } from '../../engine/backends/cpu';
import { createCache, forward, type KVCache } from '../../engine/gpt';
import { EngineError } from '../../engine/errors';
import { maxRelDiff, testModel } from './helpers';

async function errorCodeAsync(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    return (e as EngineError).code;
  }
  return 'no error';
}

const model = testModel('micro', { n_positions: 64, n_embd: 32, n_head: 4 });
const ids = model.tokenizer.encode('The cat sat on the mat and the dog sat on the log.');

describe('CPU backend', () => {
  it('runs on WebAssembly SIMD and matches the reference forward (logits and every trace tensor)', async () => {
    const fast = await createFastCpuRunner(model);
    expect(fast.device).toMatch(/WebAssembly SIMD/);
    const a = await fast.forward(ids, { trace: true });
    const b = forward(model, ids, { trace: true });
    const diff = maxRelDiff(a.logits, b.logits);
    console.log(`wasm vs reference logits: max rel diff ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-5);
    for (let l = 0; l < model.config.n_layer; l++)
      for (const [k, t] of Object.entries(b.trace.layers[l])) expect(maxRelDiff(a.trace.layers[l][k as 'q']!.data, t!.data), k).toBeLessThan(1e-4);
  });

  it('the KV cache on the fast runner gives the logits of a full pass', async () => {
    const fast = await createFastCpuRunner(model);
    const full = await fast.forward(ids);
    const cache = fast.createCache();
    await fast.forward(ids.slice(0, 5), { cache });
    const V = model.config.vocab_size;
    for (let t = 5; t < ids.length; t++) {
      const { logits } = await fast.forward([ids[t]], { cache });
      expect(maxRelDiff(logits, full.logits.subarray(t * V, (t + 1) * V))).toBeLessThan(1e-5);
    }
  });

  it('the reference runner is the reference forward, exactly', async () => {
    const { logits } = await createCpuRunner(model).forward(ids);
    expect(logits).toEqual(forward(model, ids).logits);
  });

  it('does not alter the model it was given', async () => {
    const before = model.params['wte.weight'].slice();
    const fast = await createFastCpuRunner(model);
    await fast.forward(ids);
    expect(model.params['wte.weight']).toEqual(before);
  });

  // On WebGPU a foreign cache is refused (tests/engine/backends.test.ts); the CPU must not take one
  // either: another model's keys and values of the same shape would give plausible, wrong logits.
  describe.each([
    ['reference', async (m: typeof model) => createCpuRunner(m)],
    ['WebAssembly SIMD', createFastCpuRunner]
  ] as const)('a KV cache from another model (%s runner)', (_, make) => {
    const other = testModel('micro', { n_positions: 64, n_embd: 32, n_head: 4 }, 99); // same shapes, other weights
    // the code of the EngineError a pass over `cache` is refused with, or 'no error'
    const bad = async (cache: unknown) => {
      const runner = await make(model);
      return errorCodeAsync(() => runner.forward(ids.slice(0, 3), { cache: cache as KVCache }));
    };

    it('is refused when another runner made it, even one with the same shapes', async () => {
      const otherRunner = await make(other);
      const foreign = otherRunner.createCache() as KVCache;
      await otherRunner.forward(ids.slice(0, 3), { cache: foreign });
      expect(foreign.length).toBe(3);
      expect(await bad(foreign)).toBe('bad_cache');
      expect(foreign.length).toBe(3); // and left as it was
    });
    it('is refused when made outside any runner', async () => expect(await bad(createCache(model.config))).toBe('bad_cache'));
    it('is refused when it is not a cache at all', async () => expect(await bad({ k: [], v: [], length: 0 })).toBe('bad_cache'));
    it('its own cache is taken, and filled', async () => {
      const runner = await make(model);
      const cache = runner.createCache() as KVCache;
      await runner.forward(ids.slice(0, 3), { cache });
      expect(cache.length).toBe(3);
    });
  });
});
