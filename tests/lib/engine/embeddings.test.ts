// The embeddings calls of the worker API, run in Node against the shipped model's files, checked
// against sums written out here over the same parameter file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngineApi } from '../../../src/lib/engine/api';
import { parseSafetensors } from '../../../engine/safetensors';
import { Tokenizer } from '../../../engine/tokenizer';
import { pca } from '../../../engine/pca';
import { EngineError } from '../../../engine/errors';

const index = JSON.parse(readFileSync('static/models/index.json', 'utf8')) as { default: string };
const dir = join('static/models', index.default);
const base = `https://example.test/models/${index.default}`;
const serve = async (url: string) => new Response(new Uint8Array(readFileSync(join(dir, url.slice(base.length + 1)))));

const { tensors } = parseSafetensors(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))));
const wte = tensors.get('wte.weight')!; // (V, C)
const wpe = tensors.get('wpe.weight')!; // (P, C)
const [V, C] = wte.shape;
const tokenizer = Tokenizer.fromJSON(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
const row = (t: typeof wte, i: number) => Array.from(t.data.subarray(i * C, i * C + C));

function cos(a: number[], b: number[]): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] ** 2;
    bb += b[i] ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

async function loaded() {
  const api = createEngineApi(serve);
  await api.load(base);
  return api;
}

async function code(p: () => unknown): Promise<string> {
  try {
    await p();
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    return (e as EngineError).code;
  }
  return 'no error';
}

// a word token of the vocabulary (a space and letters), the n-th one by id
function wordId(n: number): number {
  const ids = Array.from({ length: V }, (_, i) => i).filter((i) => /^ \p{L}{2,}$/u.test(tokenizer.tokenText(i)));
  return ids[n];
}

describe('embeddings API', () => {
  it('maps every token with the PCA of wte, and names the labelling rule', async () => {
    const api = await loaded();
    const map = api.embeddingMap();
    const ref = pca(wte.data, V, C, 2);
    expect(map.vocab).toBe(V);
    expect(map.channels).toBe(C);
    expect(map.explained).toEqual(ref.explained);
    expect(map.x.length).toBe(V);
    expect(map.x[5]).toBe(Math.fround(ref.projected[10]));
    expect(map.y[5]).toBe(Math.fround(ref.projected[11]));
    expect(map.texts[300]).toBe(tokenizer.tokenText(300));
    // word tokens only, most often merged first
    expect(map.rule).toBe('merge-count');
    for (const id of map.words) expect(map.texts[id]).toMatch(/^ \p{L}{2,}$/u);
    const counts = map.words.map((id) => tokenizer.merges[id - 256].count!);
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeLessThanOrEqual(counts[i - 1]);
    // kept: the second call is the same object
    expect(api.embeddingMap()).toBe(map);
  });

  it('finds the neighbours the test finds by cosine over the file, the token itself left out', async () => {
    const api = await loaded();
    const id = wordId(3);
    const r = api.neighbours(id, 5);
    const all = Array.from({ length: V }, (_, j) => ({ id: j, cosine: cos(row(wte, id), row(wte, j)) }))
      .filter((x) => x.id !== id)
      .sort((a, b) => b.cosine - a.cosine);
    expect(r.neighbours.map((n) => n.id)).toEqual(all.slice(0, 5).map((x) => x.id));
    r.neighbours.forEach((n, i) => expect(n.cosine).toBeCloseTo(all[i].cosine, 12));
    expect(r.neighbours[0].text).toBe(tokenizer.tokenText(all[0].id));
  });

  it('does a − b + c as the test does, leaving out the three inputs, and ranks an expected answer', async () => {
    const api = await loaded();
    const [a, b, c] = [wordId(1), wordId(2), wordId(4)];
    const v = row(wte, a).map((x, j) => x - row(wte, b)[j] + row(wte, c)[j]);
    const all = Array.from({ length: V }, (_, j) => ({ id: j, cosine: cos(v, row(wte, j)) })).sort((p, q) => q.cosine - p.cosine);
    const others = all.filter((x) => ![a, b, c].includes(x.id));
    const r = api.arithmetic(a, b, c, 5, others[7].id);
    expect(r.results.map((x) => x.id)).toEqual(others.slice(0, 5).map((x) => x.id));
    r.results.forEach((x, i) => expect(x.cosine).toBeCloseTo(others[i].cosine, 12));
    expect(r.withInputs.map((x) => x.id)).toEqual(all.slice(0, 5).map((x) => x.id));
    expect(r.expected).toMatchObject({ id: others[7].id, rank: 8 });
    expect(r.candidates).toBe(V - 3);
    // an input as the expected answer has no rank among the results
    expect(api.arithmetic(a, b, c, 5, a).expected?.rank).toBeNull();
  });

  it('says what our tokenizer makes of a word, and offers its other spacing', async () => {
    const api = await loaded();
    const id = wordId(0);
    const word = tokenizer.tokenText(id); // " xx"
    const r = api.tokenInfo(word);
    expect(r).toMatchObject({ ids: [id], id, pieces: [word] });
    expect(r.other?.text).toBe(word.slice(1));
    const bare = api.tokenInfo(word.slice(1));
    expect(bare.other).toMatchObject({ text: word, id });
    // a long made-up word splits into several tokens and has no single id
    const split = api.tokenInfo('zqxjvkwpfh');
    expect(split.id).toBeNull();
    expect(split.ids.length).toBeGreaterThan(1);
    expect(split.pieces.join('')).toBe('zqxjvkwpfh');
  });

  it('gives the position matrix and the cosine of its rows', async () => {
    const api = await loaded();
    const p = api.positionMatrix();
    expect(p.positions).toBe(wpe.shape[0]);
    expect(Array.from(p.wpe)).toEqual(Array.from(wpe.data));
    expect(p.similarity[2 * p.positions + 7]).toBeCloseTo(cos(row(wpe, 2), row(wpe, 7)), 6);
    expect(p.similarity[3 * p.positions + 3]).toBeCloseTo(1, 6);
  });

  it('refuses bad ids, a bad count and an empty word with clear errors', async () => {
    const api = await loaded();
    expect(await code(() => api.neighbours(V, 5))).toBe('bad_token');
    expect(await code(() => api.neighbours(1.5, 5))).toBe('bad_token');
    expect(await code(() => api.neighbours(0, -1))).toBe('bad_argument');
    expect(await code(() => api.arithmetic(0, 1, -1))).toBe('bad_token');
    expect(await code(() => api.arithmetic(0, 1, 2, 1.5))).toBe('bad_argument');
    expect(await code(() => api.tokenInfo(''))).toBe('empty_text');
    const fresh = createEngineApi(serve);
    expect(await code(() => fresh.embeddingMap())).toBe('not_loaded');
  });
});
