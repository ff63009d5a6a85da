// The worker's findNeurons, run directly in Node: on the shipped model it must give the very file
// `npm run neurons` wrote for it (static/models/<name>/neurons.json), since an opened model's
// examples are found the same way in the page.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { createEngineApi } from '../../../src/lib/engine/api';

const index = JSON.parse(readFileSync('static/models/index.json', 'utf8')) as { default: string };
const dir = join('static/models', index.default);
const base = `https://example.test/models/${index.default}`;
const heldout = 'https://example.test/data/brown-heldout.json';

afterEach(() => vi.unstubAllGlobals());

it('findNeurons on the shipped model equals its neurons.json, reporting each window', async () => {
  // the model through the API's own fetch, the held-out text through the worker's global one
  const api = createEngineApi(async (url) => new Response(new Uint8Array(readFileSync(join(dir, url.slice(base.length + 1))))));
  vi.stubGlobal('fetch', async (url: string) => (url === heldout ? new Response(readFileSync('static/data/brown-heldout.json')) : new Response('no', { status: 404 })));
  const info = await api.load(base);
  await api.setBackend('cpu');
  const seen: number[] = [];
  const file = await api.findNeurons(heldout, info.name, (p) => seen.push(p.done));
  const want = JSON.parse(readFileSync(join(dir, 'neurons.json'), 'utf8'));
  expect(file).toEqual(want);
  expect(seen).toEqual(Array.from({ length: want.windows.length }, (_, i) => i + 1));
}, 120_000);

it('findNeurons says so when the held-out text cannot be downloaded', async () => {
  const api = createEngineApi(async (url) => new Response(new Uint8Array(readFileSync(join(dir, url.slice(base.length + 1))))));
  vi.stubGlobal('fetch', async () => new Response('gone', { status: 503 }));
  const info = await api.load(base);
  await api.setBackend('cpu');
  await expect(api.findNeurons(heldout, info.name)).rejects.toThrow('Could not download the held-out text: the server answered 503.');
});
