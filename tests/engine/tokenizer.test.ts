import { brownSplit } from '../../engine/cli/corpus';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { EngineError } from '../../engine/errors';
import { expectEngineError } from './helpers';
import { endOfText, gpt2Pattern, maxVocabSize, Tokenizer, type MergeStep } from '../../engine/tokenizer';

const utf8 = new TextEncoder();

// A small mixed-script corpus, so the test tokenizer has merges inside multi-byte characters too.
const corpus = [
  'The cat sat on the mat. The cat ate the rat; the rat ran, and the cat ran after it.',
  "It's what they've said: we'll see, I'm sure you'd agree. Numbers: 12, 123, 2024, 3.14159!",
  '你好，世界。我们的模型是一个小型变换器，我们的模型在浏览器里运行。',
  'မင်္ဂလာပါ မင်္ဂလာပါ ကမ္ဘာ',
  'مرحبا بالعالم مرحبا بكم',
  'שלום עולם שלום לכם',
  'café café naïve naïve 👍👍 😀😀 👨‍👩‍👧‍👦 👨‍👩‍👧‍👦',
  '    indented code\n\tand tabs\n\n  and spaces   at the end   \n'
].join('\n');


// Textbook BPE written the slow, obvious way (recount every pair at every step), for comparing
// against the incremental trainer and the heap-based encoder.
function referenceTrain(text: string, vocabSize: number): MergeStep[] {
  const chunks = [...text.matchAll(new RegExp(gpt2Pattern, 'gu'))].map((m) => [...utf8.encode(m[0])]);
  const merges: MergeStep[] = [];
  while (256 + merges.length + 1 < vocabSize) {
    const counts = new Map<string, number>();
    for (const c of chunks) for (let i = 0; i + 1 < c.length; i++) counts.set(`${c[i]},${c[i + 1]}`, (counts.get(`${c[i]},${c[i + 1]}`) ?? 0) + 1);
    let best: [number, number] | null = null;
    let bestCount = 1;
    for (const [key, count] of counts) {
      const [a, b] = key.split(',').map(Number) as [number, number];
      const lower = best !== null && (a < best[0] || (a === best[0] && b < best[1]));
      if (count > bestCount || (count === bestCount && lower)) {
        best = [a, b];
        bestCount = count;
      }
    }
    if (best === null) break;
    const id = 256 + merges.length;
    for (const c of chunks) mergeAll(c, best, id);
    merges.push({ pair: best, id, count: bestCount });
  }
  return merges;
}

function mergeAll(ids: number[], [a, b]: [number, number], id: number) {
  for (let i = 0; i + 1 < ids.length; i++) if (ids[i] === a && ids[i + 1] === b) ids.splice(i, 2, id);
}

function referenceEncode(tok: Tokenizer, text: string): number[] {
  const ranks = new Map(tok.merges.map((m, r) => [`${m.pair[0]},${m.pair[1]}`, r]));
  const out: number[] = [];
  for (const m of text.matchAll(new RegExp(gpt2Pattern, 'gu'))) {
    const ids = [...utf8.encode(m[0])];
    for (;;) {
      let best = Infinity;
      for (let i = 0; i + 1 < ids.length; i++) best = Math.min(best, ranks.get(`${ids[i]},${ids[i + 1]}`) ?? Infinity);
      if (best === Infinity) break;
      mergeAll(ids, tok.merges[best].pair, 256 + best);
    }
    out.push(...ids);
  }
  return out;
}

let tok: Tokenizer;
beforeAll(() => {
  tok = Tokenizer.train(corpus, 600);
});

describe('round trip', () => {
  it('empty string encodes to [] and [] decodes to the empty string', () => {
    expect(tok.encode('')).toEqual([]);
    expect(tok.decode([])).toBe('');
    expect(tok.decodeBytes([])).toEqual(new Uint8Array(0));
  });

  it.each([
    ['ZWJ family emoji', '👨‍👩‍👧‍👦 and 🏳️‍🌈 and 👍🏽'],
    ['CJK', '你好，世界。日本語のテキスト。한국어 텍스트'],
    ['Burmese', 'မင်္ဂလာပါ'],
    ['Arabic', 'مرحبا بالعالم، كيف حالك؟'],
    ['Hebrew', 'שָׁלוֹם עוֹלָם'],
    ['combining marks', 'e\u0301 a\u0300\u0316 Z\u0351\u0360\u0489a\u0334l\u0338g\u035Co'],
    ['NUL and control characters', '\u0000a\u0001\u0007\b\u001b[0m\u007f\u0085\u2028\u2029\uFEFF'],
    ['whitespace runs', '  a   \n\n\t b  \r\n\u00a0\u3000 '],
    ['astral code points', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𐍈 \u{10FFFF}'],
    ['U+FFFD itself', '\uFFFD'],
    ['a leading byte order mark', '\uFEFFhello'],
    ['the special string as plain text', `a${endOfText}b`]
  ])('%s', (_name, s) => {
    const ids = tok.encode(s);
    expect(tok.decode(ids)).toBe(s);
    expect(ids).toEqual(referenceEncode(tok, s));
  });

  it('1 MB of mixed text', () => {
    const s = corpus.repeat(Math.ceil(2 ** 20 / corpus.length)).slice(0, 2 ** 20);
    expect(tok.decode(tok.encode(s))).toBe(s.toWellFormed());
  });

  it('1 MB single chunk (CJK has no spaces)', () => {
    const s = '我们的模型是一个小型变换器'.repeat(80_000);
    const ids = tok.encode(s);
    expect(ids.length).toBeLessThan(utf8.encode(s).length);
    expect(tok.decode(ids)).toBe(s);
  });

  it('property: graphemes, binary code points and full Unicode', () => {
    const roundTrips = (s: string) => tok.decode(tok.encode(s)) === s;
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), roundTrips), { numRuns: 4000 });
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), roundTrips), { numRuns: 3000 });
    fc.assert(fc.property(fc.string({ unit: 'grapheme-composite', maxLength: 20 }), roundTrips), { numRuns: 1000 });
  });

  it('property: allowSpecial round trips too', () => {
    const text = fc.array(fc.oneof(fc.string({ unit: 'grapheme' }), fc.constant(endOfText)), { maxLength: 6 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, (s) => tok.decode(tok.encode(s, { allowSpecial: true })) === s),
      { numRuns: 1000 }
    );
  });

  it('property: encoding by heap equals textbook rank-by-rank merging', () => {
    // Letters from the corpus, so that long chains of merges fire.
    const unit = fc.constantFrom(...'The cat sat on mat.rnd你好我们的模型 ', 'မင်္ဂလာပါ', 'שלום', '👨‍👩‍👧‍👦');
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 60 }), (s) => {
        expect(tok.encode(s)).toEqual(referenceEncode(tok, s));
      }),
      { numRuns: 1500 }
    );
  });
});

describe('lone surrogates', () => {
  it('become U+FFFD, as TextEncoder makes them', () => {
    expect(tok.decode(tok.encode('a\uD800b'))).toBe('a\uFFFDb');
    expect(tok.decode(tok.encode('\uDC00'))).toBe('\uFFFD');
    expect(tok.decode(tok.encode('\uDC00\uD83D'))).toBe('\uFFFD\uFFFD'); // reversed pair
    expect(tok.decode(tok.encode('\uD83D\uDE00'))).toBe('😀'); // a real pair is kept
    expect(tok.encode('x\uD800y')).toEqual(tok.encode('x\uFFFDy'));
  });

  it('property: decode(encode(s)) === s.toWellFormed() over raw UTF-16 code units', () => {
    const unit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 30 }), (s) => tok.decode(tok.encode(s)) === s.toWellFormed()),
      { numRuns: 1500 }
    );
  });
});

describe('training', () => {
  it('records merges in order with counts, ties to the lowest pair, stops when no pair repeats', () => {
    // aaabdaaabac: (a,a) occurs 4 times. Then (a,b) and (aa,a) tie at 2 and the lower ids win.
    const steps: MergeStep[] = [];
    const t = Tokenizer.train('aaabdaaabac', 1000, { onMerge: (s) => steps.push(s) });
    const expected = [
      { pair: [97, 97], id: 256, count: 4 },
      { pair: [97, 98], id: 257, count: 2 },
      { pair: [256, 257], id: 258, count: 2 }
    ];
    expect(t.merges).toEqual(expected);
    expect(steps).toEqual(expected);
    expect(t.vocabSize).toBe(260);
    expect(t.eotId).toBe(259);
    expect(t.encode('aaabdaaabac')).toEqual([258, 100, 258, 97, 99]);
    expect(t.tokenText(258)).toBe('aaab');
  });

  it('matches the textbook trainer merge for merge', () => {
    expect(tok.merges).toEqual(referenceTrain(corpus, 600));
  });

  it('encoding the training text uses the merges', () => {
    const ids = tok.encode(corpus);
    expect(ids.length).toBeLessThan(utf8.encode(corpus).length / 2);
    expect(ids).toContain(tok.merges[0].id);
    // Every Burmese letter starts with the bytes E1 80, which makes them the most common pair here.
    expect(tok.tokenText(tok.merges[0].id)).toBe('<0xE1><0x80>');
  });

  it('stops early on a small text: every merge occurred at least twice', () => {
    expect(tok.vocabSize).toBeLessThan(600);
    expect(tok.vocabSize).toBe(256 + tok.merges.length + 1);
    for (const m of tok.merges) expect(m.count).toBeGreaterThanOrEqual(2);
  });

  it('is deterministic', () => {
    expect(Tokenizer.train(corpus, 500).toJSON()).toEqual(Tokenizer.train(corpus, 500).toJSON());
  });

  it('merges never cross chunk boundaries: a space only ever starts a word token', () => {
    for (const m of tok.merges) {
      const text = tok.tokenText(m.id);
      if (/\p{L}/u.test(text)) expect(text.trimStart()).not.toMatch(/\s/u);
    }
  });

  it('<|endoftext|> in training text is a document boundary, not bytes to learn', () => {
    const t = Tokenizer.train(`the cat${endOfText}`.repeat(50), 400);
    for (const m of t.merges) expect(t.tokenText(m.id)).not.toMatch(/[<|>]/);
    expect(t.encode(`the cat${endOfText}the cat`, { allowSpecial: true })).toEqual([...t.encode('the cat'), t.eotId, ...t.encode('the cat')]);
  });

  it('vocabSize 257 learns nothing', () => {
    const t = Tokenizer.train(corpus, 257);
    expect(t.merges).toEqual([]);
    expect(t.vocabSize).toBe(257);
    expect(t.eotId).toBe(256);
    expect(t.encode('hi')).toEqual([104, 105]);
  });

  it.each([256, 0, -1, 300.5, NaN, Infinity, maxVocabSize + 1, '300' as unknown as number])('rejects vocabSize %s', (v) => {
    expectEngineError(() => Tokenizer.train(corpus, v), 'bad_argument');
  });
});

describe('padded', () => {
  it('grows the vocabulary to the size asked, keeps the learned merges first, and every token is new bytes', () => {
    const big = tok.padded(2000);
    expect(big.vocabSize).toBe(2000);
    expect(big.merges.slice(0, tok.merges.length)).toEqual(tok.merges);
    const seen = new Set<string>();
    for (let id = 0; id < big.vocabSize; id++) seen.add(Array.from(big.tokenBytes(id)).join(','));
    expect(seen.size).toBe(big.vocabSize);
    for (const m of big.merges.slice(tok.merges.length)) expect(m.count).toBe(0);
    // padding merges that text can reach change its ids, and still round-trip it
    expect(big.decode(big.encode(corpus))).toBe(corpus);
    const reloaded = Tokenizer.fromJSON(JSON.stringify(big.toJSON()));
    expect(reloaded.encode(corpus)).toEqual(big.encode(corpus));
    expect(tok.padded(tok.vocabSize).merges).toEqual(tok.merges);
  });

  it('pads a tokenizer that learned nothing, and refuses sizes below its own or out of range', () => {
    const bare = Tokenizer.train(corpus, 257).padded(300);
    expect(bare.vocabSize).toBe(300);
    expect(bare.merges[0].pair).toEqual([0, 97]); // the first byte, then a letter
    expect(bare.merges[0].count).toBe(null); // no learned merge had a count to follow
    for (const v of [tok.vocabSize - 1, 1.5, maxVocabSize + 1]) expectEngineError(() => tok.padded(v), 'bad_argument');
  });
});

describe('chunks and special tokens', () => {
  it('" cat" and "cat" are different tokens', () => {
    const t = Tokenizer.train('cat cat cat cat cat\ncat\ncat\ncat', 300);
    const [withSpace] = t.encode(' cat');
    const [bare] = t.encode('cat');
    expect(t.encode(' cat')).toHaveLength(1);
    expect(t.encode('cat')).toHaveLength(1);
    expect(withSpace).not.toBe(bare);
    expect(t.encode('cat cat')).toEqual([bare, withSpace]);
  });

  it('the special string is plain bytes unless allowSpecial', () => {
    const s = `one${endOfText}two`;
    expect(tok.encode(s)).not.toContain(tok.eotId);
    expect(tok.encode(s, { allowSpecial: true })).toEqual([...tok.encode('one'), tok.eotId, ...tok.encode('two')]);
    expect(tok.encode(endOfText, { allowSpecial: true })).toEqual([tok.eotId]);
    expect(tok.decode([tok.eotId])).toBe(endOfText);
    expect(tok.tokenText(tok.eotId)).toBe(endOfText);
    expect(tok.eotId).toBe(tok.vocabSize - 1);
  });
});

describe('token display and decode errors', () => {
  it('tokenText escapes bytes that are not a complete UTF-8 sequence', () => {
    expect(tok.tokenText(65)).toBe('A');
    expect(tok.tokenText(0xe2)).toBe('<0xE2>');
    expect(tok.tokenText(0x80)).toBe('<0x80>');
    expect(tok.tokenText(0)).toBe('\u0000');
    const bom = Tokenizer.train('\uFEFF\uFEFF', 300);
    expect(bom.encode('\uFEFF')).toHaveLength(1);
    expect(bom.tokenText(bom.encode('\uFEFF')[0])).toBe('\uFEFF'); // a BOM is text here, not dropped
    // Some merged token in the corpus holds a whole multi-byte character; it is shown as is.
    const whole = tok.merges.map((m) => tok.tokenText(m.id)).filter((s) => /[^\x00-\x7f]/.test(s) && !s.includes('<0x'));
    expect(whole.length).toBeGreaterThan(0);
    const partial = tok.merges.map((m) => tok.tokenText(m.id)).filter((s) => s.includes('<0x'));
    expect(partial.length).toBeGreaterThan(0);
  });

  it('tokenBytes returns a copy', () => {
    const b = tok.tokenBytes(tok.merges[0].id);
    b[0] = 0;
    expect(tok.tokenBytes(tok.merges[0].id)[0]).not.toBe(0);
  });

  it('the first id past the vocabulary is rejected', () => {
    expectEngineError(() => tok.decode([tok.vocabSize]), 'bad_token');
    expect(tok.decode([tok.vocabSize - 1])).toBe(endOfText);
  });

  it('a token cut inside a character decodes to U+FFFD, not an exception', () => {
    expect(tok.decode([0xe2, 0x82])).toBe('\uFFFD');
  });

  it.each([-1, 1.5, NaN, Infinity, 1e9])('decode rejects id %s', (id) => {
    expectEngineError(() => tok.decode([104, id]), 'bad_token');
    expectEngineError(() => tok.tokenText(id), 'bad_token');
  });
});

describe('JSON', () => {
  it('round trip gives identical encodings', () => {
    const json = tok.toJSON();
    expect(json.type).toBe('byte-bpe');
    expect(json.version).toBe(1);
    expect(json.pattern).toBe(gpt2Pattern);
    expect(json.special).toEqual({ [endOfText]: tok.eotId });
    for (const back of [Tokenizer.fromJSON(json), Tokenizer.fromJSON(JSON.stringify(json))]) {
      expect(back.toJSON()).toEqual(json);
      expect(back.merges).toEqual(tok.merges);
      expect(back.encode(corpus)).toEqual(tok.encode(corpus));
      expect(back.encode(`x${endOfText}y`, { allowSpecial: true })).toEqual(tok.encode(`x${endOfText}y`, { allowSpecial: true }));
    }
  });

  it('keeps a custom pattern', () => {
    const t = Tokenizer.fromJSON({ ...Tokenizer.train('ab ab', 257).toJSON(), pattern: '\\S+|\\s+' });
    expect(t.pattern).toBe('\\S+|\\s+');
    expect(t.decode(t.encode('a b  c'))).toBe('a b  c');
  });

  const good = () => JSON.parse(JSON.stringify(Tokenizer.train('aaabdaaabac', 1000).toJSON()));
  it.each<[string, (j: any) => unknown]>([
    ['not JSON', () => '{"type": "byte-bpe",'],
    ['null', () => null],
    ['an array', () => []],
    ['wrong type', (j) => ({ ...j, type: 'wordpiece' })],
    ['unknown version', (j) => ({ ...j, version: 2 })],
    ['unknown key', (j) => ({ ...j, extra: 1 })],
    ['missing pattern', (j) => ({ ...j, pattern: undefined })],
    ['invalid pattern', (j) => ({ ...j, pattern: '(' })],
    ['merges not an array', (j) => ({ ...j, merges: 'aa' })],
    ['a merge that is not a pair', (j) => ({ ...j, merges: [[97, 97], [97], [256, 257]] })],
    ['a merge using an id not yet defined', (j) => ({ ...j, merges: [[97, 97], [97, 258], [256, 257]] })],
    ['a negative id', (j) => ({ ...j, merges: [[-1, 97], [97, 98], [256, 257]] })],
    ['a fractional id', (j) => ({ ...j, merges: [[97.5, 97], [97, 98], [256, 257]] })],
    ['a string id', (j) => ({ ...j, merges: [['97', 97], [97, 98], [256, 257]] })],
    ['a repeated merge', (j) => ({ ...j, merges: [[97, 97], [97, 97], [256, 257]] })],
    ['counts of the wrong length', (j) => ({ ...j, counts: [4, 2] })],
    ['a bad count', (j) => ({ ...j, counts: [4, -2, 2] })],
    ['special with the wrong id', (j) => ({ ...j, special: { [endOfText]: 258 } })],
    ['special missing', (j) => ({ ...j, special: undefined })],
    ['an extra special token', (j) => ({ ...j, special: { [endOfText]: 259, '<|pad|>': 260 } })]
  ])('rejects a corrupt file: %s', (_name, corrupt) => {
    const bad = corrupt(good());
    expectEngineError(() => Tokenizer.fromJSON(bad as object), 'bad_tokenizer');
  });
});

// Real English, through the same cleaning the shipped model's tokenizer is trained on.
describe('real English', () => {
  it('a 1024 vocabulary trained on the Brown corpus round-trips it and compresses it', () => {
    const text = brownSplit().train.join('\n').slice(0, 2_000_000);
    const t = Tokenizer.train(text, 1024);
    expect(t.vocabSize).toBe(1024);
    const ids = t.encode(text);
    expect(t.decode(ids)).toBe(text);
    // common words become single tokens, so English packs several bytes into each token
    expect(text.length / ids.length).toBeGreaterThan(2.5);
    expect(t.encode(' the')).toHaveLength(1);
  }, 60_000);
});

describe('a hostile tokenizer file', () => {
  it('a chain of merges whose tokens grow by a byte each is refused before it exhausts memory', () => {
    const n = 12_000; // token i is i + 2 bytes long: about 72 MB in all
    const merges: [number, number][] = [[97, 97]];
    for (let i = 1; i < n; i++) merges.push([256 + i - 1, 97]);
    const json = { type: 'byte-bpe', version: 1, pattern: gpt2Pattern, merges, counts: merges.map(() => 1), special: { [endOfText]: 256 + n } };
    expectEngineError(() => Tokenizer.fromJSON(json), 'bad_tokenizer');
  });
});

// Every branch of the UTF-8 check behind tokenText (Unicode's table 3-7 of well-formed sequences),
// on tokens built to hold exactly the bytes in question. The documented rule: tokenText shows a
// well-formed sequence as its character and every other byte as <0xNN>, one byte at a time, then
// goes on from the next byte; decode joins the tokens' bytes first and lets TextDecoder put one
// U+FFFD per maximal ill-formed subpart, so a character split across tokens comes back whole.
describe('invalid UTF-8 in tokens', () => {
  // A tokenizer whose merges build each byte sequence left to right: ((b0 b1) b2) b3 ...
  function tokensFor(seqs: number[][]): { tok: Tokenizer; ids: number[] } {
    const merges: [number, number][] = [];
    const made = new Map<string, number>();
    const ids = seqs.map((seq) => {
      let id = seq[0];
      for (let k = 1; k < seq.length; k++) {
        const key = `${id},${seq[k]}`;
        if (!made.has(key)) {
          merges.push([id, seq[k]]);
          made.set(key, 256 + merges.length - 1);
        }
        id = made.get(key)!;
      }
      return id;
    });
    const tok = Tokenizer.fromJSON({ type: 'byte-bpe', version: 1, pattern: gpt2Pattern, merges, special: { [endOfText]: 256 + merges.length } });
    return { tok, ids };
  }
  const hex = (b: number) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
  const escaped = (seq: number[]) => seq.map(hex).join('');

  // [bytes, tokenText, decode]: the edges of each range, valid just inside and refused just outside
  const cases: [string, number[], string, string][] = [
    ['C0: a two-byte overlong form of NUL', [0xc0, 0x80], escaped([0xc0, 0x80]), '\uFFFD\uFFFD'],
    ['C1: a two-byte overlong form of U+007F', [0xc1, 0xbf], escaped([0xc1, 0xbf]), '\uFFFD\uFFFD'],
    ['C2 80: the first two-byte character', [0xc2, 0x80], '\u0080', '\u0080'],
    ['DF BF: the last two-byte character', [0xdf, 0xbf], '\u07ff', '\u07ff'],
    ['C2 41: a lead byte without its continuation', [0xc2, 0x41], '<0xC2>A', '\uFFFDA'],
    ['E0 80 80: a three-byte overlong form', [0xe0, 0x80, 0x80], escaped([0xe0, 0x80, 0x80]), '\uFFFD\uFFFD\uFFFD'],
    ['E0 9F BF: overlong, just below U+0800', [0xe0, 0x9f, 0xbf], escaped([0xe0, 0x9f, 0xbf]), '\uFFFD\uFFFD\uFFFD'],
    ['E0 A0 80: U+0800, the first three-byte character', [0xe0, 0xa0, 0x80], '\u0800', '\u0800'],
    ['ED 9F BF: U+D7FF, just below the surrogates', [0xed, 0x9f, 0xbf], '\ud7ff', '\ud7ff'],
    ['ED A0 80: the surrogate U+D800', [0xed, 0xa0, 0x80], escaped([0xed, 0xa0, 0x80]), '\uFFFD\uFFFD\uFFFD'],
    ['ED BF BF: the surrogate U+DFFF', [0xed, 0xbf, 0xbf], escaped([0xed, 0xbf, 0xbf]), '\uFFFD\uFFFD\uFFFD'],
    ['EE 80 80: U+E000, just above the surrogates', [0xee, 0x80, 0x80], '\ue000', '\ue000'],
    ['E2 82 41: a bad third byte', [0xe2, 0x82, 0x41], '<0xE2><0x82>A', '\uFFFDA'],
    ['F0 80 80 80: a four-byte overlong form', [0xf0, 0x80, 0x80, 0x80], escaped([0xf0, 0x80, 0x80, 0x80]), '\uFFFD'.repeat(4)],
    ['F0 8F BF BF: overlong, just below U+10000', [0xf0, 0x8f, 0xbf, 0xbf], escaped([0xf0, 0x8f, 0xbf, 0xbf]), '\uFFFD'.repeat(4)],
    ['F0 90 80 80: U+10000, the first four-byte character', [0xf0, 0x90, 0x80, 0x80], '\u{10000}', '\u{10000}'],
    ['F0 9F 98 41: a bad fourth byte', [0xf0, 0x9f, 0x98, 0x41], '<0xF0><0x9F><0x98>A', '\uFFFDA'],
    ['F4 8F BF BF: U+10FFFF, the last character', [0xf4, 0x8f, 0xbf, 0xbf], '\u{10ffff}', '\u{10ffff}'],
    ['F4 90 80 80: above U+10FFFF', [0xf4, 0x90, 0x80, 0x80], escaped([0xf4, 0x90, 0x80, 0x80]), '\uFFFD'.repeat(4)],
    ['F5 80 80 80: a lead byte no character has', [0xf5, 0x80, 0x80, 0x80], escaped([0xf5, 0x80, 0x80, 0x80]), '\uFFFD'.repeat(4)],
    ['FF FE: never in UTF-8', [0xff, 0xfe], escaped([0xff, 0xfe]), '\uFFFD\uFFFD'],
    ['C0 E2 82 AC: a bad byte, then a whole character', [0xc0, 0xe2, 0x82, 0xac], '<0xC0>€', '\uFFFD€'],
    ['20 E2 82: a token that ends mid-character', [0x20, 0xe2, 0x82], ' <0xE2><0x82>', ' \uFFFD'],
    ['F0 9F 98: four-byte character cut after three', [0xf0, 0x9f, 0x98], '<0xF0><0x9F><0x98>', '\uFFFD']
  ];
  const { tok, ids } = tokensFor(cases.map((c) => c[1]));

  it.each(cases.map((c, i) => [c[0], i] as const))('%s', (_, i) => {
    const [, bytes, shown, decoded] = cases[i];
    expect([...tok.tokenBytes(ids[i])]).toEqual(bytes);
    expect(tok.tokenText(ids[i])).toBe(shown);
    expect(tok.decode([ids[i]])).toBe(decoded);
  });

  it('every byte F5..FF alone, and every C0/C1 pair, is shown as bytes', () => {
    const lone = Array.from({ length: 0xff - 0xf5 + 1 }, (_, k) => 0xf5 + k);
    for (const b of lone) expect(tok.tokenText(b)).toBe(hex(b));
    for (const lead of [0xc0, 0xc1]) {
      for (let c = 0x80; c <= 0xbf; c++) expect(tokensFor([[lead, c]]).tok.tokenText(256)).toBe(hex(lead) + hex(c));
    }
  });

  it('a character split across two tokens: each shown as bytes, decoded together whole', () => {
    const split = tokensFor([[0x20, 0xe2, 0x82], [0xac, 0x21]]);
    const [head, tail] = split.ids;
    expect(split.tok.tokenText(head)).toBe(' <0xE2><0x82>');
    expect(split.tok.tokenText(tail)).toBe('<0xAC>!');
    expect(split.tok.decode([head, tail])).toBe(' €!');
    expect(split.tok.decode([head])).toBe(' \uFFFD');
  });
});
