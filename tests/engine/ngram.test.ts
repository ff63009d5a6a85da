// The character n-gram baselines: proper distributions, the add-one floor for unseen characters,
// and the expected ordering on real text.
import { describe, expect, it } from 'vitest';
import { brownSplit } from '../../engine/cli/corpus';
import { CharNgram, ngramBaselines, ngramNats, ngramProb, scoredChars } from '../../engine/ngram';

const train = ['the cat sat on the mat.', 'a dog sat on a log.', 'the cat and the dog.'];

describe('CharNgram', () => {
  const m = new CharNgram(train);

  it.each([1, 2, 3] as const)('order %i: P(c | context) sums to 1 over the vocabulary and the unknown symbol', (order) => {
    // every possible next character after the context "th": the known ones, "\\n" and one never seen
    const next = [...m.ids.keys()].filter((cp) => cp !== 10).map((cp) => String.fromCodePoint(cp));
    let sum = 0;
    for (const c of [...next, 'Z']) sum += ngramProb(m.estimates(['th' + c]), 2, order, 0.7, 0.6);
    sum += ngramProb(m.estimates(['th']), 2, order, 0.7, 0.6); // "\\n": the paragraph ends after "th"
    expect(sum).toBeCloseTo(1, 12);
  });

  it('a character never seen in training gets the add-one floor, not zero', () => {
    const e = m.estimates(['Q']);
    expect(e.p1[0]).toBeCloseTo(1 / (m.total + m.V), 15);
    expect(Number.isFinite(ngramNats(e, 3, 0.9, 0.9))).toBe(true);
  });

  it('unigram cross-entropy by hand on a two-paragraph text', () => {
    const tiny = new CharNgram(['ab', 'a']); // scored: a b \\n a \\n -> n(a) = 2, n(b) = 1, n(\\n) = 2; V = 4 with UNK
    const e = tiny.estimates(['ab']); // a, b, \\n
    const p = [(2 + 1) / 9, (1 + 1) / 9, (2 + 1) / 9];
    expect(ngramNats(e, 1, 0, 0)).toBeCloseTo(-p.reduce((s, x) => s + Math.log(x), 0) / 3, 12);
  });

  it('scoredChars counts code points plus one end per paragraph', () => {
    expect(scoredChars(['ab', '', 'é😀'])).toBe(3 + 1 + 3);
  });
});

describe('ngramBaselines', () => {
  it('on real English (a slice of the Brown split): trigram < bigram < unigram, λ within (0, 1)', () => {
    const { train: t, heldout } = brownSplit();
    const r = ngramBaselines(t.slice(0, 600), heldout.slice(0, 40));
    console.log(`Brown slice: unigram ${r.unigram.toFixed(3)}, bigram ${r.bigram.toFixed(3)}, trigram ${r.trigram.toFixed(3)} nats/char (λ2 ${r.lambda2}, λ3 ${r.lambda3})`);
    expect(r.trigram).toBeLessThan(r.bigram);
    expect(r.bigram).toBeLessThan(r.unigram);
    expect(r.lambda2).toBeGreaterThan(0);
    expect(r.lambda3).toBeLessThan(1);
    expect(r.chars).toBe(scoredChars(heldout.slice(0, 40)));
  });

  it('too little text is an error', () => {
    expect(() => ngramBaselines(['a'], ['b'])).toThrow(/at least 10/);
  });
});
