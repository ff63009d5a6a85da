// The Tokens chapter's worker calls, run in Node against the shipped tokenizer and gpt-tokenizer.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encode as r50k } from 'gpt-tokenizer/encoding/r50k_base';
import { encode as cl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { decode as o200kDecode, encode as o200k } from 'gpt-tokenizer/encoding/o200k_base';
import { createEngineApi } from '../../../src/lib/engine/api';
import { cutChars, maxStepMerges, maxTokenizeChars, maxTrainChars } from '../../../src/lib/engine/tokens';
import { Tokenizer, type MergeStep } from '../../../engine/tokenizer';
import { EngineError } from '../../../engine/errors';

const index = JSON.parse(readFileSync('static/models/index.json', 'utf8')) as { default: string };
const dir = join('static/models', index.default);
const base = `https://example.test/models/${index.default}`;
const ours = Tokenizer.fromJSON(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));

async function loaded() {
  const api = createEngineApi(async (url) => new Response(new Uint8Array(readFileSync(join(dir, url.slice(base.length + 1))))));
  await api.load(base);
  return api;
}

const noSpecial = { disallowedSpecial: new Set<string>() };
const texts = ['Hello, world!', ' cat cat', '👨‍👩‍👧‍👦 naïve 你好 مرحبا မင်္ဂလာပါ e\u0301', 'say <|endoftext|> twice'];

describe('tokenize', () => {
  it('gives each tokenizer’s own ids, with bytes that spell the text', async () => {
    const api = await loaded();
    const reference = { ours: (s: string) => ours.encode(s), r50k_base: (s: string) => r50k(s, noSpecial), cl100k_base: (s: string) => cl100k(s, noSpecial), o200k_base: (s: string) => o200k(s, noSpecial) };
    for (const text of texts) {
      for (const [name, encode] of Object.entries(reference)) {
        const t = await api.tokenize(text, name as keyof typeof reference);
        expect(t.ids).toEqual(encode(text));
        expect(new TextDecoder().decode(Uint8Array.from(t.bytes.flat()))).toBe(text);
        expect(t.cut).toBe(0);
        expect(t.chars).toBe(Array.from(text).length);
      }
    }
  }, 60_000);

  it('shows a token that holds part of a character as bytes, never as U+FFFD', async () => {
    const api = await loaded();
    const t = await api.tokenize('👨‍👩‍👧‍👦', 'o200k_base');
    expect(t.pieces.join('')).not.toContain('\uFFFD');
    expect(o200kDecode(t.ids)).toBe('👨‍👩‍👧‍👦');
    const partial = t.pieces.filter((p) => p.includes('<0x'));
    expect(partial.length).toBeGreaterThan(0); // the family emoji does not fit one token
  }, 60_000);

  it('cuts a long text and says how much', async () => {
    const api = await loaded();
    const t = await api.tokenize('ab'.repeat(maxTokenizeChars), 'ours');
    expect(t.chars).toBe(maxTokenizeChars);
    expect(t.cut).toBe(maxTokenizeChars);
  });

  it('rejects an unknown encoding', async () => {
    const api = await loaded();
    await expect(api.tokenize('x', 'p50k' as 'ours')).rejects.toMatchObject({ code: 'bad_encoding' });
  });
});

it('countTokens counts as gpt-tokenizer does', async () => {
  const api = await loaded();
  expect(await api.countTokens(texts, 'cl100k_base')).toEqual(texts.map((s) => cl100k(s, noSpecial).length));
  expect(await api.countTokens(texts, 'ours')).toEqual(texts.map((s) => ours.encode(s).length));
}, 60_000);

it('cutChars never splits a surrogate pair', () => {
  expect(cutChars('a👍b', 2)).toEqual({ text: 'a👍', chars: 2, cut: 1 });
  expect(cutChars('', 5)).toEqual({ text: '', chars: 0, cut: 0 });
});

describe('bpeTrain and bpeEncode', () => {
  const text = 'the cat and the hat sat on the mat; the cat ate the hat. '.repeat(5);

  it('makes Tokenizer.train’s merges and encodes with the first k in learned order', async () => {
    const api = await loaded();
    const trained: MergeStep[] = [];
    Tokenizer.train(text, 256 + 30 + 1, { onMerge: (s) => trained.push(s) });
    const progress: number[] = [];
    const r = api.bpeTrain(text, 30, (done) => progress.push(done));
    expect(r.merges).toEqual(trained.map((s) => s.pair));
    expect(r.steps.map((s) => s.count)).toEqual(trained.map((s) => s.count));
    expect(r.steps[0].top[0].pair).toEqual(r.steps[0].pair);
    expect(r.steps[0].top[0].pieces.join('')).toBe(r.steps[0].piece);
    expect(r.bytes).toBe(new TextEncoder().encode(text).length);
    const [k0, kAll] = [api.bpeEncode(r.merges, 0, [text])[0], api.bpeEncode(r.merges, r.merges.length, [text])[0]];
    expect(k0.total).toBe(r.bytes);
    const full = new Tokenizer(trained);
    expect(kAll.total).toBe(full.encode(text).length);
    expect(kAll.ids).toEqual(full.encode(text).slice(0, kAll.ids.length));
    expect(kAll.total).toBeLessThan(k0.total);
  });

  it('refuses more merges than the stepper shows, and a k past them', async () => {
    const api = await loaded();
    expect(() => api.bpeTrain(text, maxStepMerges + 1)).toThrow(EngineError);
    const r = api.bpeTrain(text, 5);
    expect(r.merges).toHaveLength(5);
    expect(() => api.bpeEncode(r.merges, 6, [text])).toThrow(EngineError);
  });

  it('cuts a long training text', async () => {
    const api = await loaded();
    const r = api.bpeTrain('x'.repeat(maxTrainChars + 10), 3);
    expect(r.cut).toBe(10);
    expect(r.chars).toBe(maxTrainChars);
  });
});
