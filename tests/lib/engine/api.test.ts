// The worker's API, run directly in Node against the shipped model's files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngineApi } from '../../../src/lib/engine/api';
import { createRunner } from '../../../engine/backend';
import { generate, type Step } from '../../../engine/generate';
import { forward } from '../../../engine/gpt';
import { loadModel, modelFiles } from '../../../engine/model';
import { testModel } from '../../engine/helpers';
import { countParams } from '../../../engine/config';
import { parseSafetensors } from '../../../engine/safetensors';
import { distribution, softmaxWithTemperature } from '../../../engine/sampling';

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

// A loaded model on the CPU: the backend whose numbers are the reference.
async function loaded() {
  const api = createEngineApi(serve());
  const info = await api.load(base);
  await api.setBackend('cpu');
  return { api, info };
}

const referenceModel = loadModel({
  config: readFileSync(join(dir, 'config.json'), 'utf8'),
  safetensors: new Uint8Array(readFileSync(join(dir, 'model.safetensors'))),
  tokenizer: readFileSync(join(dir, 'tokenizer.json'), 'utf8')
});

describe('load', () => {
  it('reports the model it built', async () => {
    const { info } = await loaded();
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(info.nParams).toBe(referenceModel.nParams);
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

  // The ways a download fails in a browser, each a download_failed with words a reader can act on,
  // with and without progress reports (two code paths: a read stream, or arrayBuffer()).
  describe.each([
    ['with progress', () => {}],
    ['without progress', undefined]
  ] as const)('a failed download (%s)', (_, onProgress) => {
    const real = new Uint8Array(readFileSync(join(dir, 'model.safetensors')));
    const failing = (answer: (url: string) => Promise<Response>) => createEngineApi(async (url) => (url.endsWith('model.safetensors') ? answer(url) : serve()(url)));
    const load = (api: ReturnType<typeof createEngineApi>) => api.load(base, onProgress);

    it('404', async () =>
      await expect(load(failing(async () => new Response('no', { status: 404 })))).rejects.toMatchObject({ code: 'download_failed', message: 'Could not download model.safetensors: the server answered 404.' }));
    it('a network error before any answer', async () =>
      await expect(load(failing(async () => Promise.reject(new TypeError('Failed to fetch'))))).rejects.toMatchObject({
        code: 'download_failed', message: 'Could not download model.safetensors: Failed to fetch. Check the connection and try again.'
      }));
    it('an abort', async () =>
      await expect(load(failing(async () => Promise.reject(new DOMException('The user aborted a request.', 'AbortError'))))).rejects.toMatchObject({
        code: 'download_failed', message: 'Could not download model.safetensors: the download was aborted. Check the connection and try again.'
      }));
    it('a stream that fails midway', async () => {
      const half = 64 * 1024;
      let pulls = 0; // the first read gets 64 kB, the second the error
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (pulls++ === 0) c.enqueue(real.slice(0, half));
          else c.error(new TypeError('network error'));
        }
      });
      const answer = async () => new Response(body, { headers: { 'content-length': String(real.length) } });
      await expect(load(failing(answer))).rejects.toMatchObject({
        code: 'download_failed',
        message: `The download of model.safetensors broke off after ${onProgress ? half.toLocaleString('en') : 0} of ${real.length.toLocaleString('en')} bytes (network error). Try again.`
      });
    });
    it('a body shorter than its announced length (a connection closed early)', async () => {
      const answer = async () => new Response(real.slice(0, 1000), { headers: { 'content-length': String(real.length) } });
      await expect(load(failing(answer))).rejects.toMatchObject({
        code: 'download_failed',
        message: `The download of model.safetensors broke off after 1,000 of ${real.length.toLocaleString('en')} bytes (the file ended early). Try again.`
      });
    });
  });

  it('passes on the engine’s message for a corrupt parameter file', async () => {
    const bytes = new Uint8Array(readFileSync(join(dir, 'model.safetensors')));
    const api = createEngineApi(serve({ 'model.safetensors': bytes.slice(0, bytes.length - 100) }));
    await expect(api.load(base)).rejects.toMatchObject({ name: 'EngineError', code: 'bad_safetensors', message: expect.stringMatching(/^Corrupt parameter file: .*do not fit/) });
  });
});

describe('nextToken', () => {
  it('answers before a load with a clear error', async () => {
    await expect(createEngineApi(serve()).nextToken('hi', { temperature: 1 })).rejects.toMatchObject({ code: 'not_loaded' });
  });

  it('answers before a backend is chosen with a clear error', async () => {
    const api = createEngineApi(serve());
    await api.load(base);
    await expect(api.nextToken('hi', { temperature: 1 })).rejects.toMatchObject({ code: 'no_backend' });
  });

  it('gives the engine’s own distribution for the last position, most likely first', async () => {
    const { api } = await loaded();
    const prompt = 'The cat sat on the';
    const r = await api.nextToken(prompt, { temperature: 1 });
    const ids = referenceModel.tokenizer.encode(prompt);
    const V = referenceModel.config.vocab_size;
    const { logits } = forward(referenceModel, ids);
    const last = logits.subarray((ids.length - 1) * V); // (V)
    const dist = distribution(last, { temperature: 1 });
    expect(r.ids).toEqual(ids);
    expect(r.top).toHaveLength(10);
    expect(r.top.map((t) => t.id)).toEqual(Array.from(dist.kept.subarray(0, 10)));
    for (const t of r.top) {
      expect(Math.abs(t.p - dist.probs[t.id])).toBeLessThan(1e-6);
      expect(Math.abs(t.logit - last[t.id])).toBeLessThan(1e-5);
      expect(t.text).toBe(referenceModel.tokenizer.tokenText(t.id));
    }
    for (let i = 1; i < r.top.length; i++) expect(r.top[i].p).toBeLessThanOrEqual(r.top[i - 1].p);
  });

  it('honours n, top-k and temperature', async () => {
    const { api } = await loaded();
    expect((await api.nextToken('Hello', { temperature: 1, n: 3 })).top).toHaveLength(3);
    expect((await api.nextToken('Hello', { temperature: 1, topK: 2 })).top).toHaveLength(2);
    const cold = (await api.nextToken('Hello', { temperature: 0.01, n: 1 })).top[0];
    const warm = (await api.nextToken('Hello', { temperature: 1, n: 1 })).top[0];
    expect(cold.id).toBe(warm.id);
    expect(cold.p).toBeGreaterThan(warm.p);
  });

  it('rejects an empty prompt with the engine’s empty_prompt error', async () => {
    const { api } = await loaded();
    await expect(api.nextToken('', { temperature: 1 })).rejects.toMatchObject({ code: 'empty_prompt' });
  });

  it('keeps the end of a prompt longer than the context, and says how much it dropped', async () => {
    const { api, info } = await loaded();
    const long = 'the cat sat on the mat. '.repeat(30);
    const all = referenceModel.tokenizer.encode(long);
    const r = await api.nextToken(long, { temperature: 1 });
    expect(r.ids).toHaveLength(info.config.n_positions);
    expect(r.dropped).toBe(all.length - info.config.n_positions);
    expect(r.ids).toEqual(all.slice(r.dropped));
  });
});

describe('appendToken', () => {
  it('adds a token’s text to the end of the prompt', async () => {
    const { api } = await loaded();
    const [id] = referenceModel.tokenizer.encode(' the');
    expect(api.appendToken('Hello', id)).toBe('Hello the');
  });
});

describe('setBackend', () => {
  it('runs on the CPU when asked, and says so', async () => {
    const api = createEngineApi(serve());
    await api.load(base);
    const info = await api.setBackend('cpu');
    expect(info).toMatchObject({ choice: 'cpu', backend: 'cpu', fallback: null });
    const r = await api.nextToken('Hello', { temperature: 1 });
    expect(r.pass.backend).toBe('cpu');
    expect(r.pass.tokens).toBe(r.ids.length);
    expect(r.pass.ms).toBeGreaterThanOrEqual(0);
  });

  it('asked for WebGPU where there is none, ends on the CPU with the reason', async () => {
    const api = createEngineApi(serve());
    await api.load(base);
    const info = await api.setBackend('webgpu');
    expect(info.backend).toBe('cpu');
    expect(info.fallback).toMatch(/WebGPU/);
  });

  it('rejects a backend that does not exist', async () => {
    const api = createEngineApi(serve());
    await api.load(base);
    await expect(api.setBackend('gpu' as never)).rejects.toMatchObject({ code: 'bad_backend' });
  });

  it('ends the generations running on the old runner', async () => {
    const { api } = await loaded();
    const { session } = api.startGeneration('Hello', { temperature: 1, seed: 1, maxTokens: 5 });
    await api.step(session);
    await api.setBackend('cpu');
    await expect(api.step(session)).rejects.toMatchObject({ code: 'no_session' });
  });
});

describe('generation', () => {
  // the engine's own loop on its CPU backend, as `npm run generate` runs it
  async function engineSteps(prompt: string, opts: Parameters<typeof generate>[3]): Promise<Step[]> {
    const steps: Step[] = [];
    const ids = referenceModel.tokenizer.encode(prompt);
    const runner = await createRunner(referenceModel, { backend: 'cpu' });
    for await (const s of generate(runner, referenceModel.config, ids, opts)) steps.push(s);
    return steps;
  }

  it('steps through the same tokens, probabilities and cache lengths as the engine’s generate', async () => {
    const { api } = await loaded();
    const settings = { temperature: 0.8, topK: 20, topP: 0.9, seed: 7, maxTokens: 6 };
    const expected = await engineSteps('Once upon a time', settings);
    const { session, ids } = api.startGeneration('Once upon a time', settings);
    expect(ids).toEqual(referenceModel.tokenizer.encode('Once upon a time'));
    for (const [i, want] of expected.entries()) {
      const got = await api.step(session);
      expect(got.index).toBe(i + 1);
      expect(got.chosen).toBe(want.chosen);
      expect(got.context).toEqual(want.context);
      expect(got.cacheLength).toBe(want.cacheLength);
      expect(got.fed).toBe(i === 0 ? ids.length : 1);
      expect(got.keptMass).toBe(want.keptMass);
      expect(got.stop).toBe(want.stop ?? null);
      // the kept rows are generate's top list, with the same probabilities
      const kept = got.top.filter((t) => t.kept);
      expect(kept.map((t) => t.id)).toEqual(want.top.slice(0, kept.length).map((t) => t.id));
      kept.forEach((t, j) => expect(t.p).toBe(want.top[j].p));
    }
    await expect(api.step(session)).rejects.toMatchObject({ code: 'generation_over' });
  });

  it('shows the tokens the cut removed, after the kept ones, with probability 0 to be drawn', async () => {
    const { api } = await loaded();
    const settings = { temperature: 1, topK: 3, seed: 2, maxTokens: 1, topN: 8 };
    const { session } = api.startGeneration('The dog', settings);
    const step = await api.step(session);
    expect(step.keptCount).toBe(3);
    expect(step.top.map((t) => t.kept)).toEqual([true, true, true, false, false, false, false, false]);
    for (const t of step.top.slice(3)) expect(t.p).toBe(0);
    // pFull is the distribution before the cut: the softmax at this temperature of a full pass
    // on the engine's CPU backend
    const runner = await createRunner(referenceModel, { backend: 'cpu' });
    const { logits } = await runner.forward(step.context, { lastOnly: true });
    const full = softmaxWithTemperature(logits, 1);
    for (const t of step.top) expect(t.pFull).toBe(full[t.id]);
    for (let j = 1; j < step.top.length; j++) expect(step.top[j].pFull).toBeLessThanOrEqual(step.top[j - 1].pFull);
    expect(step.stop).toBe('max_tokens');
  });

  it('stops when the context is full', async () => {
    // A fixed random model (seed 7, 16 positions), not the shipped one, so that which tokens are
    // drawn never changes when the model is retrained: with this seed neither step draws
    // end-of-text, and the case runs to the full context every time.
    const small = testModel('micro');
    const files = modelFiles(small);
    const smallBase = 'https://example.test/models/small';
    const api = createEngineApi(async (url) => new Response(files[url.slice(smallBase.length + 1) as keyof typeof files] as BodyInit));
    await api.load(smallBase);
    await api.setBackend('cpu');
    const n = small.config.n_positions;
    // a prompt one token short of the context: the second step reads all n positions and ends it
    const a = small.tokenizer.encode('a')[0];
    const prompt = small.tokenizer.decode(Array(n - 1).fill(a));
    expect(small.tokenizer.encode(prompt)).toHaveLength(n - 1);
    const { session } = api.startGeneration(prompt, { temperature: 1, seed: 3, maxTokens: 50 });
    const first = await api.step(session);
    expect(first.stop).toBeNull();
    expect(first.chosen).not.toBe(small.config.eos_token_id);
    const second = await api.step(session);
    expect(second.context).toHaveLength(n);
    expect(second.chosen).not.toBe(small.config.eos_token_id);
    expect(second.stop).toBe('context_full');
    await expect(api.step(session)).rejects.toMatchObject({ code: 'generation_over' });
  });

  it('rejects bad settings before any step, with the engine’s messages', async () => {
    const { api } = await loaded();
    const ok = { temperature: 1, seed: 0, maxTokens: 5 };
    expect(() => api.startGeneration('Hi', { ...ok, temperature: -0.1 })).toThrow(expect.objectContaining({ code: 'bad_temperature' }));
    expect(() => api.startGeneration('Hi', { ...ok, temperature: Number.NaN })).toThrow(expect.objectContaining({ code: 'bad_temperature' }));
    expect(() => api.startGeneration('Hi', { ...ok, temperature: 0 })).not.toThrow(); // greedy
    expect(() => api.startGeneration('Hi', { ...ok, topK: 0 })).toThrow(expect.objectContaining({ code: 'bad_top_k' }));
    expect(() => api.startGeneration('Hi', { ...ok, topP: 1.5 })).toThrow(expect.objectContaining({ code: 'bad_top_p' }));
    expect(() => api.startGeneration('Hi', { ...ok, seed: Number.NaN })).toThrow(expect.objectContaining({ code: 'bad_seed' }));
    expect(() => api.startGeneration('Hi', { ...ok, seed: -1 })).toThrow(expect.objectContaining({ code: 'bad_seed' }));
    expect(() => api.startGeneration('Hi', { ...ok, maxTokens: 0 })).toThrow(expect.objectContaining({ code: 'bad_max_tokens' }));
    expect(() => api.startGeneration('', ok)).toThrow(expect.objectContaining({ code: 'empty_prompt' }));
  });

  it('an ended or unknown session is a clear error', async () => {
    const { api } = await loaded();
    const { session } = api.startGeneration('Hi', { temperature: 1, seed: 0, maxTokens: 5 });
    api.endGeneration(session);
    await expect(api.step(session)).rejects.toMatchObject({ code: 'no_session' });
    await expect(api.step(12345)).rejects.toMatchObject({ code: 'no_session' });
  });
});

describe('parameterFile', () => {
  it('lists every tensor of the file with its size, and the parameter count the config implies', async () => {
    const { api } = await loaded();
    const bytes = new Uint8Array(readFileSync(join(dir, 'model.safetensors')));
    const { tensors } = parseSafetensors(bytes);
    const file = api.parameterFile();
    expect(file.fileBytes).toBe(bytes.length);
    expect(file.nParams).toBe(countParams(referenceModel.config));
    expect(new Set(file.tensors.map((t) => t.name))).toEqual(new Set(tensors.keys()));
    for (const t of file.tensors) {
      expect(t.shape).toEqual(tensors.get(t.name)!.shape);
      expect(t.count).toBe(tensors.get(t.name)!.data.length);
    }
    // the header and the tensors' bytes make up the whole file
    expect(file.headerBytes + file.tensors.reduce((n, t) => n + t.bytes, 0)).toBe(bytes.length);
  });

  it('gives a tensor’s first values as the file holds them', async () => {
    const { api } = await loaded();
    const { tensors } = parseSafetensors(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))));
    const v = api.tensorValues('h.0.attn.c_attn.weight', 5);
    expect(v.values).toEqual(Array.from(tensors.get('h.0.attn.c_attn.weight')!.data.subarray(0, 5)));
    expect(() => api.tensorValues('no.such.tensor')).toThrow(expect.objectContaining({ code: 'no_tensor' }));
  });
});
