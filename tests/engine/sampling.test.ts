import { describe, expect, it } from 'vitest';
import { distribution, logSumExp, MIN_TEMPERATURE, Rng, sample, softmaxWithTemperature } from '../../engine/sampling';
import { EngineError } from '../../engine/errors';

// the worked example of the curriculum: logits 4.2, 2.8, 2.3, 1.9, 0.8, 1.2
const logits = Float32Array.from([4.2, 2.8, 2.3, 1.9, 0.8, 1.2]);

describe('temperature', () => {
  it('T = 1 is the plain softmax (0.63 to the first in the worked example)', () => {
    const p = softmaxWithTemperature(logits, 1);
    expect(p[0]).toBeCloseTo(0.63, 2);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('T = 0 is exactly greedy: the argmax, with probability 1', () => {
    const d = distribution(logits, { temperature: 0 });
    expect(d.probs[0]).toBe(1);
    expect([...d.kept]).toEqual([0]);
    expect(d.keptMass).toBe(1);
    expect(d.probs.every((p, i) => i === 0 || p === 0)).toBe(true);
    // whatever position the maximum holds
    const shuffled = Float32Array.from([0.3, -2, 7.5, 7.25, 1]);
    expect([...distribution(shuffled, { temperature: 0 }).kept]).toEqual([2]);
    expect(softmaxWithTemperature(shuffled, 0)[2]).toBe(1);
  });

  it('T = 0 with top-k and top-p still keeps only the argmax', () => {
    expect([...distribution(logits, { temperature: 0, topK: 3, topP: 0.5 }).kept]).toEqual([0]);
  });

  it('T -> 0 is exactly greedy', () => {
    for (const T of [MIN_TEMPERATURE / 2, 1e-9, Number.MIN_VALUE]) {
      const d = distribution(logits, { temperature: T });
      expect(d.probs[0]).toBe(1);
      expect(d.kept).toEqual(Int32Array.from([0]));
    }
  });

  it('tiny but non-greedy T gives no NaN or Infinity, even with huge logit gaps', () => {
    for (const T of [MIN_TEMPERATURE, 0.01, 0.1]) {
      const d = distribution(Float32Array.from([1e30, -1e30, 0, 3.4e38]), { temperature: T });
      expect(d.probs.every(Number.isFinite)).toBe(true);
      expect(d.probs[3]).toBe(1);
    }
  });

  it('high T flattens towards uniform', () => {
    const p = softmaxWithTemperature(logits, 1e6);
    for (const x of p) expect(x).toBeCloseTo(1 / 6, 5);
    const hot = softmaxWithTemperature(logits, 2);
    expect(hot[0]).toBeLessThan(softmaxWithTemperature(logits, 1)[0]);
  });

  it('ties for the max under greedy go to the lowest id', () => {
    expect(distribution(Float32Array.from([1, 3, 3]), { temperature: 1e-9 }).kept[0]).toBe(1);
    for (const tied of [[1, 3, 3], [5, 0, 5, 5], [-1, -1]]) {
      const d = distribution(Float32Array.from(tied), { temperature: 0 });
      expect([...d.kept], String(tied)).toEqual([tied.indexOf(Math.max(...tied))]);
    }
  });

  it('NaN or infinite logits are an error, not a NaN distribution', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      expect(() => distribution(Float32Array.from([1, bad]), { temperature: 1 }), String(bad)).toThrow(EngineError);
    }
    expect(() => distribution(new Float32Array(0), { temperature: 1 })).toThrow(EngineError);
  });
});

describe('logSumExp', () => {
  it('is the log of the sum of e^(z/T), and e^(z_i/T - logSumExp) is softmax', () => {
    for (const T of [0.5, 1, 1.7]) {
      const direct = Math.log([...logits].reduce((s, z) => s + Math.exp(z / T), 0));
      expect(logSumExp(logits, T)).toBeCloseTo(direct, 12);
      const p = softmaxWithTemperature(logits, T);
      for (let i = 0; i < 6; i++) expect(Math.exp(logits[i] / T - logSumExp(logits, T))).toBeCloseTo(p[i], 12);
    }
  });
  it('stays finite where the sum itself would overflow', () => {
    const v = logSumExp(Float32Array.from([20, 19]), 0.01);
    expect(Number.isFinite(v)).toBe(true);
    expect(v).toBeCloseTo(2000, 6);
  });
  it('refuses T = 0 (the sum of e^(z/0) is no number), negative and NaN', () => {
    for (const T of [0, -1, NaN]) expect(() => logSumExp(logits, T), String(T)).toThrow(EngineError);
  });
});

describe('top-k and top-p', () => {
  it('top-k keeps the k most likely and renormalises', () => {
    const d = distribution(logits, { temperature: 1, topK: 2 });
    expect([...d.kept]).toEqual([0, 1]);
    expect(d.probs[0] + d.probs[1]).toBeCloseTo(1, 6);
    expect(d.probs[2]).toBe(0);
    const p = softmaxWithTemperature(logits, 1);
    expect(d.keptMass).toBeCloseTo(p[0] + p[1], 6);
  });

  it('top-k larger than the vocabulary keeps everything', () => {
    expect(distribution(logits, { temperature: 1, topK: 100 }).kept.length).toBe(6);
  });

  it('top-p keeps the smallest set whose mass reaches p, and reports it', () => {
    const p = softmaxWithTemperature(logits, 1);
    const d = distribution(logits, { temperature: 1, topP: 0.8 });
    expect([...d.kept]).toEqual([0, 1, 2]);
    expect(d.keptMass).toBeCloseTo(p[0] + p[1] + p[2], 6);
    expect(d.keptMass).toBeGreaterThanOrEqual(0.8);
    expect(p[0] + p[1]).toBeLessThan(0.8);
  });

  it('top-p = 1 keeps everything; tiny top-p keeps one', () => {
    expect(distribution(logits, { temperature: 1, topP: 1 }).kept.length).toBe(6);
    expect(distribution(logits, { temperature: 1, topP: 1e-9 }).kept.length).toBe(1);
  });

  it('top-k and top-p together: the smaller set wins', () => {
    expect(distribution(logits, { temperature: 1, topK: 2, topP: 0.99 }).kept.length).toBe(2);
  });
});

describe('bad sampling options', () => {
  const code = (opts: object) => {
    try {
      distribution(logits, opts as never);
    } catch (e) {
      return (e as EngineError).code;
    }
    return 'none';
  };
  it('temperature negative, NaN, Infinity, missing or not a number', () => {
    for (const t of [-1, -1e-12, -Infinity, NaN, Infinity, undefined, '0.5']) expect(code({ temperature: t }), String(t)).toBe('bad_temperature');
  });
  it('temperature 0 is accepted (greedy)', () => {
    expect(code({ temperature: 0 })).toBe('none');
  });
  it('the refusal says what was wrong in words: NaN is "no number"', () => {
    expect(() => distribution(logits, { temperature: NaN })).toThrow('at least 0 (0 is greedy), got no number');
    expect(() => distribution(logits, { temperature: -0.5 })).toThrow('got -0.5');
  });
  it('top-k < 1 or fractional', () => {
    for (const k of [0, -3, 1.5]) expect(code({ temperature: 1, topK: k })).toBe('bad_top_k');
  });
  it('top-p outside (0, 1]', () => {
    for (const p of [0, -0.1, 1.01, NaN]) expect(code({ temperature: 1, topP: p })).toBe('bad_top_p');
  });
});

describe('seeded sampling', () => {
  it('the same seed gives the same draws; another seed does not', () => {
    const draw = (seed: number) => {
      const rng = new Rng(seed);
      const d = distribution(logits, { temperature: 1 });
      return Array.from({ length: 50 }, () => sample(d, rng.next()));
    };
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
  });

  it('draw frequencies follow the distribution', () => {
    const rng = new Rng(42);
    const d = distribution(logits, { temperature: 1 });
    const counts = new Array(6).fill(0);
    const n = 20000;
    for (let i = 0; i < n; i++) counts[sample(d, rng.next())]++;
    for (let i = 0; i < 6; i++) expect(Math.abs(counts[i] / n - d.probs[i])).toBeLessThan(0.015);
  });

  it('never samples outside the kept set', () => {
    const rng = new Rng(3);
    const d = distribution(logits, { temperature: 5, topK: 3 });
    for (let i = 0; i < 2000; i++) expect([0, 1, 2]).toContain(sample(d, rng.next()));
  });

  it('u at the very top of [0, 1) still picks a kept token', () => {
    const d = distribution(logits, { temperature: 1, topK: 2 });
    expect([0, 1]).toContain(sample(d, 1 - Number.EPSILON));
  });

  it('seeds must be whole numbers in [0, 2^32): no silent aliasing of 1.7 to 1 or 2^32 to 0', () => {
    for (const seed of [1.7, -1, 2 ** 32, NaN]) expect(() => new Rng(seed), String(seed)).toThrow(EngineError);
    expect(new Rng(2 ** 32 - 1).next()).toBeGreaterThanOrEqual(0);
  });

  it('Rng.next is in [0, 1)', () => {
    const rng = new Rng(0);
    for (let i = 0; i < 10000; i++) {
      const u = rng.next();
      expect(u >= 0 && u < 1).toBe(true);
    }
  });
});
