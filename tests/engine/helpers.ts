// Small shared fixtures for the engine tests: a tiny tokenizer and random models.
import { makeConfig, type GPTConfig, type PresetName } from '../../engine/config';
import { randomModel, type Model } from '../../engine/model';
import { Tokenizer } from '../../engine/tokenizer';
import { EngineError } from '../../engine/errors';
import { expect } from 'vitest';

export const sampleText =
  'The cat sat on the mat. The dog sat on the log. A cat and a dog met on the mat and sat there all day.\n'.repeat(4);

export function tinyTokenizer(vocab = 300): Tokenizer {
  return Tokenizer.train(sampleText, vocab);
}

export function testModel(preset: PresetName = 'micro', overrides: Partial<GPTConfig> = {}, seed = 7): Model {
  const tok = tinyTokenizer();
  const config = makeConfig(preset, { vocab_size: tok.vocabSize, eos_token_id: tok.eotId, ...overrides });
  return randomModel(config, tok, seed);
}

// |a - b| / max(|a|, |b|, floor), worst element. The default floor is a tenth of b's largest finite
// magnitude, as tests/reference/compare.ts explains: float32 sums that cancel to almost nothing keep
// an absolute rounding error of the tensor's scale. Equal elements (-Infinity too) differ by 0.
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>, floor?: number): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  if (floor === undefined) {
    let scale = 0;
    for (let i = 0; i < b.length; i++) if (Number.isFinite(b[i])) scale = Math.max(scale, Math.abs(b[i]));
    floor = 0.1 * scale;
  }
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    const d = Math.abs(a[i] - b[i]) / Math.max(Math.abs(a[i]), Math.abs(b[i]), floor);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

// The code of the EngineError that f throws, or 'no error'. Anything else thrown fails the test.
export function errorCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    return (e as EngineError).code;
  }
  return 'no error';
}

export function expectEngineError(f: () => unknown, code: string): void {
  expect(errorCode(f)).toBe(code);
}
