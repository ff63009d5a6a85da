import { describe, expect, it } from 'vitest';
import { countParams, makeConfig } from '../../engine/config';
import { paramBreakdown } from '../../engine/param-count';

describe('parameter breakdown', () => {
  it('adds up to countParams for every preset', () => {
    for (const preset of ['micro', 'tiny', 'gpt2'] as const) {
      const c = makeConfig(preset);
      expect(paramBreakdown(c).total).toBe(countParams(c));
    }
  });

  it('GPT-2 small is 124,439,808 parameters, as its checkpoint holds', () => {
    expect(paramBreakdown(makeConfig('gpt2')).total).toBe(124_439_808);
  });

  it('attention is 4C² + 4C and the MLP 8C² + 5C per block, so the MLP is about two thirds', () => {
    const c = makeConfig('tiny');
    const C = c.n_embd;
    const b = paramBreakdown(c);
    expect(b.attention).toBe(4 * C * C + 4 * C);
    expect(b.mlp).toBe(8 * C * C + 5 * C);
    expect(b.mlp / b.perLayer).toBeGreaterThan(0.66);
    expect(b.mlp / b.perLayer).toBeLessThan(0.67);
  });

  it('GPT-3’s configuration (96 layers, d = 12,288, 2,048 positions) gives about 175 billion', () => {
    const t = paramBreakdown(makeConfig('gpt2', { n_embd: 12288, n_layer: 96, n_head: 96, n_positions: 2048 })).total;
    expect(t / 1e9).toBeGreaterThan(174);
    expect(t / 1e9).toBeLessThan(176);
  });
});
