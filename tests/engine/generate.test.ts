import { describe, expect, it } from 'vitest';
import { createCpuRunner } from '../../engine/backends/cpu';
import { generate, type Step } from '../../engine/generate';
import { forward } from '../../engine/gpt';
import { distribution, Rng, sample } from '../../engine/sampling';
import { EngineError } from '../../engine/errors';
import { testModel } from './helpers';

const model = testModel('micro', { n_positions: 24 });
const runner = createCpuRunner(model);
const prompt = model.tokenizer.encode('The cat');

async function collect(opts: Parameters<typeof generate>[3], p: number[] = prompt): Promise<Step[]> {
  const steps: Step[] = [];
  for await (const s of generate(runner, model.config, p, opts)) steps.push(s);
  return steps;
}

describe('generate', () => {
  it('with the KV cache equals without it (sampled and greedy)', async () => {
    for (const opts of [{ temperature: 1, seed: 5 }, { temperature: 0 }, { temperature: 0.8, topK: 5, topP: 0.9, seed: 9 }]) {
      const a = await collect({ ...opts, maxTokens: 12, useCache: true });
      const b = await collect({ ...opts, maxTokens: 12, useCache: false });
      expect(a.map((s) => s.chosen)).toEqual(b.map((s) => s.chosen));
      for (let i = 0; i < a.length; i++)
        for (let j = 0; j < a[i].top.length; j++) expect(a[i].top[j].p).toBeCloseTo(b[i].top[j].p, 5);
    }
  });

  it('each step reports the context, the top tokens sorted, the choice and the cache length', async () => {
    const steps = await collect({ temperature: 1, seed: 1, maxTokens: 5, topN: 4 });
    steps.forEach((s, i) => {
      expect(s.context).toEqual([...prompt, ...steps.slice(0, i).map((x) => x.chosen)]);
      expect(s.cacheLength).toBe(prompt.length + i);
      expect(s.top.length).toBe(4);
      for (let j = 1; j < s.top.length; j++) expect(s.top[j].p).toBeLessThanOrEqual(s.top[j - 1].p);
    });
  });

  it('temperature 0 picks the argmax of a full forward pass at every step (lowest id among ties)', async () => {
    const steps = await collect({ temperature: 0, maxTokens: 6 });
    for (const s of steps) {
      const { logits } = forward(model, s.context, { lastOnly: true });
      let arg = 0;
      for (let i = 1; i < logits.length; i++) if (logits[i] > logits[arg]) arg = i;
      expect(s.chosen).toBe(arg);
      expect(s.top[0]).toEqual({ id: arg, p: 1 });
      expect(s.keptMass).toBe(1);
    }
  });

  it('temperature 0 is the same text whatever the seed, and the same as a tiny temperature', async () => {
    const ids = async (opts: object) => (await collect({ temperature: 0, maxTokens: 8, ...opts })).map((s) => s.chosen);
    const greedy = await ids({ seed: 1 });
    expect(await ids({ seed: 999 })).toEqual(greedy);
    expect(await ids({ temperature: 1e-9 })).toEqual(greedy);
  });

  it('the same seed gives the same text; another seed, another text', async () => {
    const ids = async (seed: number) => (await collect({ temperature: 1.5, seed, maxTokens: 15 })).map((s) => s.chosen);
    expect(await ids(1)).toEqual(await ids(1));
    expect(await ids(1)).not.toEqual(await ids(2));
  });

  it('each step hands back the distribution it drew from: the chosen token is in its kept set, with that probability', async () => {
    const steps = await collect({ temperature: 0.8, topK: 6, topP: 0.9, seed: 4, maxTokens: 6, topN: 3 });
    for (const s of steps) {
      const { dist } = s;
      expect(dist.kept).toContain(s.chosen);
      expect(dist.probs[s.chosen]).toBeGreaterThan(0);
      // the reported top is that distribution, not another computation of it
      for (const t of s.top) expect(t.p).toBe(dist.probs[t.id]);
      expect(s.keptMass).toBe(dist.keptMass);
      let sum = 0;
      for (const id of dist.kept) sum += dist.probs[id];
      expect(sum).toBeCloseTo(1, 6);
      expect(dist.kept.length).toBeLessThanOrEqual(6);
    }
  });

  it('the returned distribution is the one the logits give, and the draw replays from it with the same seed', async () => {
    const opts = { temperature: 1.3, topK: 20, seed: 11 };
    const steps = await collect({ ...opts, maxTokens: 5 });
    const rng = new Rng(opts.seed);
    for (const s of steps) {
      const { logits } = forward(model, s.context, { lastOnly: true });
      const ref = distribution(logits, opts);
      expect(Array.from(s.dist.kept)).toEqual(Array.from(ref.kept));
      for (const id of ref.kept) expect(s.dist.probs[id]).toBeCloseTo(ref.probs[id], 5);
      expect(sample(s.dist, rng.next())).toBe(s.chosen);
    }
  });

  it('full and order: the probabilities before the cut, every id most likely first, the kept set their prefix', async () => {
    const [s] = await collect({ temperature: 0.9, topK: 3, seed: 2, maxTokens: 1 });
    const { full, order, kept } = s.dist;
    expect(order.length).toBe(model.config.vocab_size);
    expect(new Set(order).size).toBe(order.length);
    for (let i = 1; i < order.length; i++) expect(full[order[i]]).toBeLessThanOrEqual(full[order[i - 1]]);
    expect(Array.from(order.subarray(0, kept.length))).toEqual(Array.from(kept));
    let mass = 0;
    for (const id of kept) mass += full[id];
    expect(s.dist.keptMass).toBeCloseTo(mass, 12);
  });

  it('T = 0 picks the argmax: the returned distribution is one-hot on it', async () => {
    const steps = await collect({ temperature: 0, maxTokens: 4 });
    for (const s of steps) {
      expect(Array.from(s.dist.kept)).toEqual([s.chosen]);
      expect(s.dist.probs[s.chosen]).toBe(1);
      expect(s.dist.full[s.chosen]).toBe(1);
      expect(s.dist.order[0]).toBe(s.chosen);
    }
  });

  it('fed: the whole prompt on the first step, one token after it with the cache, everything without', async () => {
    const cached = await collect({ temperature: 1, seed: 1, maxTokens: 4, eotId: -1 });
    expect(cached.map((s) => s.fed)).toEqual([prompt.length, 1, 1, 1]);
    const uncached = await collect({ temperature: 1, seed: 1, maxTokens: 4, eotId: -1, useCache: false });
    expect(uncached.map((s) => s.fed)).toEqual(uncached.map((s) => s.context.length));
  });

  it('stops after maxTokens', async () => {
    const steps = await collect({ temperature: 1, seed: 3, maxTokens: 4, eotId: -1 });
    expect(steps.length).toBe(4);
    expect(steps[3].stop).toBe('max_tokens');
  });

  it('stops when the model has read a full context, whatever the prompt length', async () => {
    const n = model.config.n_positions;
    for (const p of [prompt, new Array(n - 1).fill(prompt[0]), new Array(n).fill(prompt[0])]) {
      const steps = await collect({ temperature: 1, seed: 3, maxTokens: 1000, eotId: -1 }, p);
      expect(steps.at(-1)!.stop).toBe('context_full');
      // the last step read all n positions; the token it chose is the (n+1)-th, never read
      expect(steps.at(-1)!.cacheLength).toBe(n);
      expect(p.length + steps.length).toBe(n + 1);
    }
  });

  it('stops at end-of-text, reporting the eot token as the last choice', async () => {
    // make whatever greedy picks first the end-of-text token
    const first = (await collect({ temperature: 0, maxTokens: 1 }))[0].chosen;
    const steps = await collect({ temperature: 0, maxTokens: 10, eotId: first });
    expect(steps.length).toBe(1);
    expect(steps[0].stop).toBe('eot');
  });

  it('bad input: empty prompt, prompt over the context limit, bad maxTokens, temperature, topN, seed', async () => {
    const code = async (p: number[], opts: object) => {
      try {
        await collect({ temperature: 1, maxTokens: 3, ...opts }, p);
      } catch (e) {
        expect(e).toBeInstanceOf(EngineError);
        return (e as EngineError).code;
      }
      return 'none';
    };
    expect(await code([], {})).toBe('empty_prompt');
    expect(await code(new Array(model.config.n_positions + 1).fill(1), {})).toBe('context_overflow');
    expect(await code(prompt, { maxTokens: 0 })).toBe('bad_max_tokens');
    expect(await code(prompt, { temperature: -1 })).toBe('bad_temperature');
    expect(await code(prompt, { temperature: NaN })).toBe('bad_temperature');
    expect(await code(prompt, { temperature: 0 })).toBe('none');
    expect(await code(prompt, { topN: 0 })).toBe('bad_top_n');
    expect(await code(prompt, { seed: 1.5 })).toBe('bad_seed');
  });
});
