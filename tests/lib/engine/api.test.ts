// The worker's API, run directly in Node against the shipped model's files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngineApi } from '../../../src/lib/engine/api';
import { forward } from '../../../engine/gpt';
import { loadModel } from '../../../engine/model';
import { distribution } from '../../../engine/sampling';

const index = JSON.parse(readFileSync('static/models/index.json', 'utf8')) as { default: string };
const dir = join('static/models', index.default);
const base = `https://example.test/models/${index.default}`;

// A fetch that serves the model folder, with optional replacements to simulate a bad server.
function serve(replace: Record<string, Uint8Array<ArrayBuffer> | number> = {}) {
  return async (url: string) => {
    const file = url.slice(base.length + 1);
    const r = replace[file];
    if (typeof r === 'number') return new Response('nope', { status: r });
    return new Response(r ?? new Uint8Array(readFileSync(join(dir, file))));
  };
}

async function loaded() {
  const api = createEngineApi(serve());
  const info = await api.load(base);
  return { api, info };
}

const reference = loadModel({
  config: readFileSync(join(dir, 'config.json'), 'utf8'),
  safetensors: new Uint8Array(readFileSync(join(dir, 'model.safetensors'))),
  tokenizer: readFileSync(join(dir, 'tokenizer.json'), 'utf8')
});

describe('load', () => {
  it('reports the model it built', async () => {
    const { info } = await loaded();
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(info.nParams).toBe(reference.nParams);
    expect(info.config.vocab_size).toBe(config.vocab_size);
    expect(info.isRandom).toBe(config.explorable_random_init === true);
    expect(info.name).toBe(config.explorable_name ?? index.default);
  });

  it('reports download progress', async () => {
    const seen: string[] = [];
    await createEngineApi(serve()).load(base, (p) => seen.push(p.file));
    expect(new Set(seen)).toEqual(new Set(['config.json', 'model.safetensors', 'tokenizer.json']));
  });

  it('turns a missing file into a clear error', async () => {
    const api = createEngineApi(serve({ 'model.safetensors': 404 }));
    await expect(api.load(base)).rejects.toMatchObject({ code: 'download_failed', message: expect.stringContaining('model.safetensors') });
  });

  it('passes on the engine’s message for a corrupt parameter file', async () => {
    const bytes = new Uint8Array(readFileSync(join(dir, 'model.safetensors')));
    const api = createEngineApi(serve({ 'model.safetensors': bytes.slice(0, bytes.length - 100) }));
    await expect(api.load(base)).rejects.toMatchObject({ name: 'EngineError', message: expect.stringMatching(/\S/) });
  });
});

describe('nextToken', () => {
  it('answers before a load with a clear error', () => {
    expect(() => createEngineApi(serve()).nextToken('hi', { temperature: 1 })).toThrow(expect.objectContaining({ code: 'not_loaded' }));
  });

  it('gives the engine’s own distribution for the last position, most likely first', async () => {
    const { api } = await loaded();
    const prompt = 'The cat sat on the';
    const r = api.nextToken(prompt, { temperature: 1 });
    const ids = reference.tokenizer.encode(prompt);
    const V = reference.config.vocab_size;
    const { logits } = forward(reference, ids);
    const last = logits.subarray((ids.length - 1) * V); // (V)
    const dist = distribution(last, { temperature: 1 });
    expect(r.ids).toEqual(ids);
    expect(r.top).toHaveLength(10);
    expect(r.top.map((t) => t.id)).toEqual(Array.from(dist.kept.subarray(0, 10)));
    for (const t of r.top) {
      expect(Math.abs(t.p - dist.probs[t.id])).toBeLessThan(1e-6);
      expect(Math.abs(t.logit - last[t.id])).toBeLessThan(1e-5);
      expect(t.text).toBe(reference.tokenizer.tokenText(t.id));
    }
    for (let i = 1; i < r.top.length; i++) expect(r.top[i].p).toBeLessThanOrEqual(r.top[i - 1].p);
  });

  it('honours n, top-k and temperature', async () => {
    const { api } = await loaded();
    expect(api.nextToken('Hello', { temperature: 1, n: 3 }).top).toHaveLength(3);
    expect(api.nextToken('Hello', { temperature: 1, topK: 2 }).top).toHaveLength(2);
    const cold = api.nextToken('Hello', { temperature: 0.01, n: 1 }).top[0];
    const warm = api.nextToken('Hello', { temperature: 1, n: 1 }).top[0];
    expect(cold.id).toBe(warm.id);
    expect(cold.p).toBeGreaterThan(warm.p);
  });

  it('rejects an empty prompt with the engine’s empty_prompt error', async () => {
    const { api } = await loaded();
    expect(() => api.nextToken('', { temperature: 1 })).toThrow(expect.objectContaining({ code: 'empty_prompt' }));
  });

  it('keeps the end of a prompt longer than the context, and says how much it dropped', async () => {
    const { api, info } = await loaded();
    const long = 'the cat sat on the mat. '.repeat(30);
    const all = reference.tokenizer.encode(long);
    const r = api.nextToken(long, { temperature: 1 });
    expect(r.ids).toHaveLength(info.config.n_positions);
    expect(r.dropped).toBe(all.length - info.config.n_positions);
    expect(r.ids).toEqual(all.slice(r.dropped));
  });
});

describe('appendToken', () => {
  it('adds a token’s text to the end of the prompt', async () => {
    const { api } = await loaded();
    const [id] = reference.tokenizer.encode(' the');
    expect(api.appendToken('Hello', id)).toBe('Hello the');
  });
});
