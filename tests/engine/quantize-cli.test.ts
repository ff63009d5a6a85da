import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { heldoutLoss, heldoutSlice } from '../../engine/cli/eval';
import { sliceFile, slicePath } from '../../engine/cli/heldout-slice';
import { expectEngineError } from './helpers';

describe('held-out slice', () => {
  it('takes whole paragraphs while their characters (plus one each) fit', () => {
    expect(heldoutSlice(['abc', 'de', 'f'], 7)).toEqual(['abc', 'de']); // 4 + 3 = 7
    expect(heldoutSlice(['abc', 'de', 'f'], 6)).toEqual(['abc']);
    expect(heldoutSlice(['a long first paragraph'], 3)).toEqual(['a long first paragraph']); // at least one
    expectEngineError(() => heldoutSlice(['a'], 0), 'bad_argument');
  });

  it('the page\'s copy (src/lib/engine/heldout-slice.json) is the slice the CLI scores', () => {
    const shipped = JSON.parse(readFileSync(slicePath, 'utf8'));
    expect(shipped).toEqual(sliceFile(shipped.chars));
  });

  it('eval --quantize: the int4 model scores the slice worse than the fp32 one', async () => {
    const chars = 1500;
    const full = await heldoutLoss(undefined, undefined, undefined, { chars });
    const int4 = await heldoutLoss(undefined, undefined, undefined, { chars, precision: 'int4' });
    expect(full.chars).toBeLessThanOrEqual(chars);
    expect(int4.tokens).toBe(full.tokens);
    expect(int4.natsPerChar).toBeGreaterThan(full.natsPerChar);
  }, 60_000);
});
