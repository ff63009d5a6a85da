import { describe, expect, it } from 'vitest';
import { createCpuRunner } from '../../engine/backends/cpu';
import { generate } from '../../engine/generate';
import { generateBothWays, type PairedStep } from '../../engine/cache-timing';
import { testModel } from './helpers';

const model = testModel('micro', { n_positions: 24 });
const runner = createCpuRunner(model);
const prompt = model.tokenizer.encode('The dog');

async function both(opts: { temperature: number; seed?: number; maxTokens: number }, now?: () => number): Promise<PairedStep[]> {
  const out: PairedStep[] = [];
  for await (const s of generateBothWays(runner, model.config, prompt, opts, now)) out.push(s);
  return out;
}

describe('generateBothWays', () => {
  it('with and without the cache the same tokens come out, and they are those of generate()', async () => {
    for (const opts of [{ temperature: 0, maxTokens: 12 }, { temperature: 1, seed: 3, maxTokens: 12 }]) {
      const steps = await both(opts);
      const plain = [];
      for await (const s of generate(runner, model.config, prompt, opts)) plain.push(s.chosen);
      expect(steps.map((s) => s.cached.step.chosen)).toEqual(plain);
      expect(steps.map((s) => s.uncached.step.chosen)).toEqual(plain);
      expect(steps.map((s) => s.index)).toEqual(plain.map((_, i) => i + 1));
    }
  });

  it('the cached run feeds the prompt once and then one token a step; the uncached one feeds the whole text every step', async () => {
    const steps = await both({ temperature: 0, maxTokens: 8 });
    steps.forEach((s, i) => {
      expect(s.cached.fed).toBe(i === 0 ? prompt.length : 1);
      expect(s.uncached.fed).toBe(prompt.length + i);
      expect(s.uncached.step.cacheLength).toBe(prompt.length + i); // its fresh cache held the whole text
    });
  });

  it('times each step with the clock it is given', async () => {
    let t = 0;
    const steps = await both({ temperature: 0, maxTokens: 3 }, () => (t += 5));
    for (const s of steps) {
      expect(s.cached.ms).toBe(5);
      expect(s.uncached.ms).toBe(5);
    }
  });

  it('bad settings are reported before any step', async () => {
    await expect(both({ temperature: -1, maxTokens: 3 })).rejects.toMatchObject({ code: 'bad_temperature' });
    await expect(both({ temperature: 0, maxTokens: 0 })).rejects.toMatchObject({ code: 'bad_max_tokens' });
  });
});
