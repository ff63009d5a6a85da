// The sampling chapter's worker calls, run directly in Node against the shipped model's files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngineApi } from '../../../src/lib/engine/api';
import { loadModel } from '../../../engine/model';
import { createRunner } from '../../../engine/backend';

const index = JSON.parse(readFileSync('static/models/index.json', 'utf8')) as { default: string };
const dir = join('static/models', index.default);
const base = `https://example.test/models/${index.default}`;
const serve = async (url: string) => new Response(new Uint8Array(readFileSync(join(dir, url.slice(base.length + 1)))));
const model = loadModel({
  config: readFileSync(join(dir, 'config.json'), 'utf8'),
  safetensors: new Uint8Array(readFileSync(join(dir, 'model.safetensors'))),
  tokenizer: readFileSync(join(dir, 'tokenizer.json'), 'utf8')
});

async function loaded() {
  const api = createEngineApi(serve);
  await api.load(base);
  await api.setBackend('cpu');
  return api;
}

describe('nextLogits', () => {
  it('gives the engine’s logits of the last position, exactly, in a buffer of their own', async () => {
    const api = await loaded();
    const text = 'The jury said that';
    const r = await api.nextLogits(text);
    const ids = model.tokenizer.encode(text);
    expect(r.ids).toEqual(ids);
    expect(r.pieces.join('')).toBe(text);
    expect(r.dropped).toBe(0);
    const runner = await createRunner(model, { backend: 'cpu' });
    const { logits } = await runner.forward(ids, { lastOnly: true });
    expect(r.logits).toEqual(logits);
    expect(r.logits.length).toBe(model.config.vocab_size);
    expect(r.logits.buffer.byteLength).toBe(4 * model.config.vocab_size);
  });

  it('keeps the end of a text longer than the context, and says how much fell off the front', async () => {
    const api = await loaded();
    const long = 'the cat sat on the mat. '.repeat(40);
    const all = model.tokenizer.encode(long);
    const r = await api.nextLogits(long);
    expect(r.ids).toEqual(all.slice(all.length - model.config.n_positions));
    expect(r.dropped).toBe(all.length - model.config.n_positions);
  });

  it('an empty text is the engine’s empty_prompt error; before a load, not_loaded', async () => {
    const api = await loaded();
    await expect(api.nextLogits('')).rejects.toMatchObject({ code: 'empty_prompt' });
    await expect(createEngineApi(serve).nextLogits('Hi')).rejects.toMatchObject({ code: 'not_loaded' });
  });
});

describe('vocabulary', () => {
  it('is every token’s text by id, as the tokenizer writes it', async () => {
    const api = await loaded();
    const v = api.vocabulary();
    expect(v.length).toBe(model.config.vocab_size);
    for (const id of [0, 1, 100, model.tokenizer.vocabSize - 1]) expect(v[id]).toBe(model.tokenizer.tokenText(id));
  });
});
