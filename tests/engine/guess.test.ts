import { describe, expect, it } from 'vitest';
import { guessChoices, guessSteps, readerNats } from '../../engine/guess';

describe('guess', () => {
  // V = 4, T = 3: row 0 predicts token 1, row 1 predicts token 2
  const logits = new Float32Array([0, 1, 2, 3, /* row 1 */ 3, 0, 0, 0, /* row 2, unused */ 9, 9, 9, 9]);
  const ids = [2, 1, 0];

  it('gives the softmax probability of each truth and the top k in order', () => {
    const steps = guessSteps(logits, ids, 4, 3);
    expect(steps.map((s) => s.position)).toEqual([1, 2]);
    const z = [0, 1, 2, 3].map(Math.exp);
    const sum = z.reduce((a, b) => a + b, 0);
    expect(steps[0].truth).toBe(1);
    expect(steps[0].pTruth).toBeCloseTo(z[1] / sum, 12);
    expect(steps[0].top.map((c) => c.id)).toEqual([3, 2, 1]);
    expect(steps[0].top[0].p).toBeCloseTo(z[3] / sum, 12);
    expect(steps[1].pTruth).toBeCloseTo(Math.exp(3) / (Math.exp(3) + 3), 12);
  });

  it('shows the truth among n distinct choices, the same for the same seed', () => {
    const [s] = guessSteps(logits, ids, 4, 4);
    const a = guessChoices(s, 3, 7);
    expect(a).toHaveLength(3);
    expect(a).toContain(1);
    expect(new Set(a).size).toBe(3);
    expect(guessChoices(s, 3, 7)).toEqual(a);
    const orders = new Set(Array.from({ length: 20 }, (_, seed) => guessChoices(s, 3, seed).join()));
    expect(orders.size).toBeGreaterThan(1);
  });

  it('scores the reader by the stated rule and refuses bad input', () => {
    expect(readerNats(5, 5, 4)).toBeCloseTo(-Math.log(0.97), 12);
    expect(readerNats(4, 5, 4)).toBeCloseTo(-Math.log(0.01), 12);
    expect(() => readerNats(1, 1, 1)).toThrow(/at least 2/);
    expect(() => guessSteps(logits, ids, 4, 0)).toThrow(/k must be/);
    expect(() => guessSteps(logits.subarray(0, 4), ids, 4, 2)).toThrow(/logits/);
  });
});
