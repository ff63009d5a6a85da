import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LiveRun, liveMemoryBytes, parseLivePack } from '../../engine/train/live';
import { fusedKernels } from '../../engine/train/gpt-train';
import { EngineError } from '../../engine/errors';

const pack = parseLivePack(JSON.parse(readFileSync('static/data/brown-live.json', 'utf8')));

describe('LiveRun (the training chapter’s live run)', () => {
  it('two runs of the recipe give the same first losses, starting near ln V', async () => {
    const a = new LiveRun(pack, await fusedKernels(liveMemoryBytes));
    const b = new LiveRun(pack, await fusedKernels(liveMemoryBytes));
    const la = [a.next().loss, a.next().loss];
    const lb = [b.next().loss, b.next().loss];
    expect(la).toEqual(lb);
    expect(Math.abs(la[0] - Math.log(a.config.vocab_size))).toBeLessThan(0.5);
    expect(a.tokensSeen).toBe(2 * a.recipe.batchSize * a.recipe.seqLen);
  }, 60_000);

  it('held-out loss, a sample and a head’s attention rows (each a distribution over earlier tokens)', async () => {
    const run = new LiveRun(pack, await fusedKernels(liveMemoryBytes));
    expect(Number.isFinite(run.heldoutLoss().loss)).toBe(true);
    expect(run.sample(5).ids.length).toBeLessThanOrEqual(5);
    const { pieces, weights } = run.attention(1, 3);
    expect(weights.length).toBe(pieces.length);
    weights.forEach((row, i) => {
      expect(row.slice(0, i + 1).reduce((s, w) => s + w, 0)).toBeCloseTo(1, 5);
      expect(row.slice(i + 1).every((w) => w === 0)).toBe(true);
    });
    expect(() => run.attention(2, 0)).toThrow(EngineError);
  }, 60_000);

  it('a malformed pack is an EngineError', () => {
    expect(() => parseLivePack({ train: [] })).toThrow(EngineError);
  });
});
