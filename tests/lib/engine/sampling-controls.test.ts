import { describe, expect, it } from 'vitest';
import { generationSettings, temperatureLabel } from '../../../src/lib/engine/sampling-controls';
import { checkSampling, distribution } from '../../../engine/sampling';

const controls = { temperature: 0.8, topK: 5, topP: 0.9, seed: 3, maxTokens: 10 };

describe('generationSettings', () => {
  it('passes the reader’s numbers through unchanged', () => {
    expect(generationSettings(controls, 8)).toEqual({ ...controls, topN: 8 });
  });
  it('sends a temperature of 0 as 0, which the engine takes as greedy', () => {
    const s = generationSettings({ ...controls, temperature: 0 }, 8);
    expect(s.temperature).toBe(0);
    expect(() => checkSampling(s)).not.toThrow();
    expect([...distribution(Float32Array.from([0.5, 2, 1]), s).kept]).toEqual([1]);
  });
  it('an empty top-k box means no top-k', () => {
    expect(generationSettings({ ...controls, topK: null }, 8).topK).toBeUndefined();
    expect(generationSettings({ ...controls, topK: undefined }, 8).topK).toBeUndefined();
  });
  it('an empty seed or length box is NaN, for the engine to reject, never a default', () => {
    const s = generationSettings({ ...controls, seed: null, maxTokens: undefined }, 8);
    expect(s.seed).toBeNaN();
    expect(s.maxTokens).toBeNaN();
  });
});

describe('temperatureLabel', () => {
  it('says that 0 is greedy', () => expect(temperatureLabel(0)).toBe('0 (greedy)'));
  it('shows two decimals otherwise', () => expect(temperatureLabel(0.8)).toBe('0.80'));
});
