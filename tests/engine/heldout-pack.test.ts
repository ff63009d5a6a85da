import { describe, expect, it } from 'vitest';
import { CharNgram, ngramBaselines } from '../../engine/ngram';
import { packModel, parseHeldoutPack, scoreNgrams, type HeldoutPack } from '../../engine/heldout-pack';
import { EngineError } from '../../engine/errors';

const train = Array.from({ length: 40 }, (_, i) => `the cat ${i % 3 ? 'sat on the mat' : 'ran to the dog'}, and é ${i}.`);
const heldout = ['the dog sat on the cat.', 'a new word: zebra 🦓'];

describe('n-gram counts round trip', () => {
  it('a model rebuilt from its counts has the same counts', () => {
    const a = new CharNgram(train);
    const b = CharNgram.fromCounts(JSON.parse(JSON.stringify(a.toCounts())));
    expect(b.V).toBe(a.V);
    expect(b.total).toBe(a.total);
    expect([...b.ids]).toEqual([...a.ids]);
    expect(b.n1).toEqual(a.n1);
    expect(b.n2).toEqual(a.n2);
    expect(b.n3).toEqual(a.n3);
  });

  it('scoring the pack gives ngramBaselines’ numbers exactly', () => {
    const base = ngramBaselines(train, heldout);
    const pack: HeldoutPack = { source: 'test', lambda2: base.lambda2, lambda3: base.lambda3, counts: new CharNgram(train).toCounts(), heldout };
    const s = scoreNgrams(packModel(parseHeldoutPack(pack)), pack, heldout);
    expect(s.unigram).toBe(base.unigram);
    expect(s.bigram).toBe(base.bigram);
    expect(s.trigram).toBe(base.trigram);
    expect(s.chars).toBe(base.chars);
  });

  it('malformed counts and packs are EngineErrors', () => {
    expect(() => CharNgram.fromCounts({ chars: [65], trigrams: [] })).toThrow(EngineError);
    expect(() => CharNgram.fromCounts({ chars: [10, 65], trigrams: [1] })).toThrow(EngineError);
    expect(() => CharNgram.fromCounts({ chars: [10, 65], trigrams: [999, 1] })).toThrow(EngineError);
    expect(() => parseHeldoutPack({ lambda2: 0.5 })).toThrow(EngineError);
  });

  it('no paragraphs to score is an EngineError', () => {
    const pack: HeldoutPack = { source: 'test', lambda2: 0.5, lambda3: 0.5, counts: new CharNgram(train).toCounts(), heldout };
    expect(() => scoreNgrams(packModel(pack), pack, [])).toThrow(EngineError);
  });
});
