import { describe, expect, it } from 'vitest';
import { meanNats, tokenSurprise } from '../../engine/surprise';
import { EngineError } from '../../engine/errors';

describe('tokenSurprise', () => {
  it('uniform logits cost ln V for any target', () => {
    const V = 7;
    const s = tokenSurprise(new Float32Array(2 * V), [3, 0], V);
    expect(s[0]).toBeCloseTo(Math.log(V), 12);
    expect(s[1]).toBeCloseTo(Math.log(V), 12);
  });

  it('matches −log softmax written out by hand', () => {
    const z = new Float32Array([1, 2, 3]);
    const p = Math.exp(2) / (Math.exp(1) + Math.exp(2) + Math.exp(3));
    expect(tokenSurprise(z, [1], 3)[0]).toBeCloseTo(-Math.log(p), 6);
  });

  it('large scores do not overflow', () => {
    const s = tokenSurprise(new Float32Array([1000, 0]), [0, ], 2);
    expect(s[0]).toBeCloseTo(0, 10);
    expect(Number.isFinite(tokenSurprise(new Float32Array([1000, 0]), [1], 2)[0])).toBe(true);
  });

  it('no targets gives an empty answer and a NaN mean', () => {
    expect(tokenSurprise(new Float32Array(0), [], 5).length).toBe(0);
    expect(meanNats([])).toBeNaN();
  });

  it('a target outside the vocabulary or too few logits is an EngineError', () => {
    expect(() => tokenSurprise(new Float32Array(3), [3], 3)).toThrow(EngineError);
    expect(() => tokenSurprise(new Float32Array(3), [0, 1], 3)).toThrow(EngineError);
  });

  it('the mean is the cross-entropy', () => {
    expect(meanNats([1, 2, 3])).toBe(2);
  });
});
