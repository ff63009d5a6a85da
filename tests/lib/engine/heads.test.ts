// The heads calls of the worker API (src/lib/engine/heads.ts), run in Node on the shipped model.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngineApi, type EngineContext } from '../../../src/lib/engine/api';
import { createHeadsApi } from '../../../src/lib/engine/heads';
import { klDivergence, totalVariation } from '../../../engine/ablation';
import type { Runner } from '../../../engine/backend';
import { createFastCpuRunner } from '../../../engine/backends/cpu';
import { EngineError } from '../../../engine/errors';
import { layerScores } from '../../../engine/head-stats';
import { loadModel } from '../../../engine/model';
import { distribution, softmaxWithTemperature } from '../../../engine/sampling';

const index = JSON.parse(readFileSync('static/models/index.json', 'utf8')) as { default: string };
const dir = join('static/models', index.default);
const base = `https://example.test/models/${index.default}`;
const serve = async (url: string) => new Response(new Uint8Array(readFileSync(join(dir, url.slice(base.length + 1)))));

const model = loadModel({
  config: readFileSync(join(dir, 'config.json'), 'utf8'),
  safetensors: new Uint8Array(readFileSync(join(dir, 'model.safetensors'))),
  tokenizer: readFileSync(join(dir, 'tokenizer.json'), 'utf8')
});
const { n_layer: L, n_head: nh } = model.config;
const text = 'She said that he was';
const ids = model.tokenizer.encode(text);
const T = ids.length;

async function loaded() {
  const api = createEngineApi(serve);
  await api.load(base);
  await api.setBackend('cpu');
  return api;
}

// what the engine computes directly, on the CPU backend the CLI uses
const reference = await createFastCpuRunner(model);
const probs = async (ablate: { layer: number; head: number | 'all' }[] = []) =>
  (await reference.forward(ids, { lastOnly: true, ablate })).logits;

describe('attentionHeads', () => {
  it('every layer and head: the weights of the forward pass and their scores', async () => {
    const api = await loaded();
    const r = await api.attentionHeads(text);
    expect(r.ids).toEqual(ids);
    expect([r.nLayer, r.nHead]).toEqual([L, nh]);
    const { trace } = await reference.forward(ids, { trace: ['attn.weights'] });
    for (let l = 0; l < L; l++) {
      expect(r.weights[l]).toEqual(trace.layers[l]['attn.weights']!.data);
      expect(r.weights[l].length).toBe(nh * T * T);
      expect(r.scores![l]).toEqual(layerScores(trace.layers[l]['attn.weights']!.data, nh, T));
    }
  });

  it('one token: weights but no scores (no head has a choice); no text: empty_prompt', async () => {
    const api = await loaded();
    const one = await api.attentionHeads('a');
    expect(one.ids.length).toBe(1);
    expect(one.scores).toBeNull();
    await expect(api.attentionHeads('')).rejects.toMatchObject({ code: 'empty_prompt' });
  });
});

describe('ablation', () => {
  it('before is the full model, after the model with the head off, with KL and TV between them', async () => {
    const api = await loaded();
    const r = await api.ablation(text, { layer: 1, head: 2 }, 5);
    const before = await probs();
    const after = await probs([{ layer: 1, head: 2 }]);
    const top = (logits: Float32Array) => {
      const d = distribution(logits, { temperature: 1 });
      return Array.from(d.kept.subarray(0, 5), (id) => ({ id, text: model.tokenizer.tokenText(id), p: d.probs[id] }));
    };
    expect(r.before).toEqual(top(before));
    expect(r.after).toEqual(top(after));
    expect(r.kl).toBe(klDivergence(softmaxWithTemperature(before, 1), softmaxWithTemperature(after, 1)));
    expect(r.tv).toBe(totalVariation(softmaxWithTemperature(before, 1), softmaxWithTemperature(after, 1)));
    expect(r.kl).toBeGreaterThan(0);
    expect(r.device).toMatch(/CPU/);
  });

  it('a head that does not exist, and no text, are clear errors', async () => {
    const api = await loaded();
    await expect(api.ablation(text, { layer: L, head: 0 })).rejects.toMatchObject({ code: 'bad_ablation' });
    await expect(api.ablation(text, { layer: 0, head: nh })).rejects.toMatchObject({ code: 'bad_ablation' });
    await expect(api.ablation('', { layer: 0, head: 0 })).rejects.toMatchObject({ code: 'empty_prompt' });
  });
});

describe('ablationRanking', () => {
  it('every head and every layer, ranked by KL, each equal to its own ablation; progress to the end', async () => {
    const api = await loaded();
    const seen: number[] = [];
    const r = await api.ablationRanking(text, 'test', (p) => {
      expect(p.total).toBe(L * (nh + 1));
      seen.push(p.done);
    });
    expect(seen).toEqual(Array.from({ length: L * (nh + 1) }, (_, i) => i + 1));
    expect(r.heads.length).toBe(L * nh);
    expect(r.layers.length).toBe(L);
    expect(new Set(r.heads.map((e) => `${e.layer}.${e.head}`)).size).toBe(L * nh);
    for (let i = 1; i < r.heads.length; i++) expect(r.heads[i - 1].kl).toBeGreaterThanOrEqual(r.heads[i].kl);
    const p = softmaxWithTemperature(await probs(), 1);
    for (const e of [r.heads[0], r.heads[r.heads.length - 1], r.layers[0]]) {
      const q = softmaxWithTemperature(await probs([{ layer: e.layer, head: e.head }]), 1);
      expect(e.kl).toBe(klDivergence(p, q));
      expect(e.tv).toBe(totalVariation(p, q));
    }
  });

  it('a newer ranking from the same caller stops the older one', async () => {
    const api = await loaded();
    const first = api.ablationRanking(text, 'same');
    const second = api.ablationRanking(text + ' not', 'same');
    await expect(first).rejects.toMatchObject({ code: 'superseded' });
    expect((await second).heads.length).toBe(L * nh);
  });
});

describe('on a page whose runner is not the CPU', () => {
  it('ablation runs on a CPU runner of its own and gives the CPU numbers', async () => {
    const gpuLike: Runner = {
      backend: 'webgpu',
      device: 'a GPU that refuses ablation',
      createCache: () => ({ length: 0 }),
      forward: async () => {
        throw new EngineError('ablation_cpu_only', 'not here');
      },
      dispose() {}
    };
    let queue: Promise<unknown> = Promise.resolve();
    const ctx: EngineContext = {
      requireModel: () => model,
      requireRunner: () => gpuLike,
      serial: (work) => {
        const r = queue.then(work);
        queue = r.catch(() => undefined);
        return r;
      },
      timing: () => ({ ms: 0, tokens: 0, backend: 'webgpu' }),
      tokenString: (id) => model.tokenizer.tokenText(id)
    };
    const api = createHeadsApi(ctx);
    const r = await api.ablation(text, { layer: 0, head: 'all' }, 3);
    expect(r.device).toMatch(/CPU/);
    const d = distribution(await probs([{ layer: 0, head: 'all' }]), { temperature: 1 });
    expect(r.after.map((t) => t.p)).toEqual(Array.from(d.kept.subarray(0, 3), (id) => d.probs[id]));
  });
});

