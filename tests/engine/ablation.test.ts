// Switching heads off: the forward pass's `ablate` option against hand-made models that do the
// same by editing weights, and the measures of how far the next-token distribution moved.
import { describe, expect, it } from 'vitest';
import { createFastCpuRunner } from '../../engine/backends/cpu';
import { forward, type Weights } from '../../engine/gpt';
import { describeAblation, klDivergence, parseAblations, totalVariation } from '../../engine/ablation';
import { softmaxWithTemperature } from '../../engine/sampling';
import { expectEngineError, maxRelDiff, testModel } from './helpers';

const model = testModel('micro', { n_positions: 32, n_embd: 16, n_head: 4, n_layer: 3 });
const { n_embd: C, n_head: nh, n_layer: L } = model.config;
const hs = C / nh;
const ids = model.tokenizer.encode('The cat sat on the mat.');
const T = ids.length;

// the model with some of its parameters replaced
function edited(change: (p: Record<string, Float32Array>) => void): Weights {
  const params = Object.fromEntries(Object.entries(model.params).map(([k, v]) => [k, v.slice()]));
  change(params);
  return { config: model.config, params };
}

// Zeroing rows h*hs..(h+1)*hs of c_proj.weight (C, C), which multiply head h's slice of the
// attention output, is the same as zeroing that slice.
const withoutHead = (layer: number, head: number) =>
  edited((p) => p[`h.${layer}.attn.c_proj.weight`].fill(0, head * hs * C, (head + 1) * hs * C));
// c_proj all zero, bias too: the attention branch adds nothing to the residual stream.
const withoutAttention = (layer: number) =>
  edited((p) => {
    p[`h.${layer}.attn.c_proj.weight`].fill(0);
    p[`h.${layer}.attn.c_proj.bias`].fill(0);
  });

describe('forward with heads switched off', () => {
  it('ablating nothing is the normal forward, bit for bit (logits and every traced tensor)', () => {
    const a = forward(model, ids, { trace: true });
    for (const ablate of [[], undefined]) {
      const b = forward(model, ids, { trace: true, ablate });
      expect(b.logits).toEqual(a.logits);
      expect(b.trace).toEqual(a.trace);
    }
  });

  it('ablating head h of layer l equals zeroing the rows of c_proj.weight that read it', () => {
    for (let l = 0; l < L; l++)
      for (let h = 0; h < nh; h++) {
        const a = forward(model, ids, { ablate: [{ layer: l, head: h }] });
        const b = forward(withoutHead(l, h), ids);
        expect(a.logits, `layer ${l} head ${h}`).toEqual(b.logits);
      }
  });

  it('ablation changes the logits, and the head still computes its weights', () => {
    const a = forward(model, ids, { trace: ['attn.weights'] });
    const b = forward(model, ids, { trace: ['attn.weights'], ablate: [{ layer: 1, head: 2 }] });
    expect(maxRelDiff(a.logits, b.logits)).toBeGreaterThan(1e-4);
    expect(b.trace.layers[1]['attn.weights']).toEqual(a.trace.layers[1]['attn.weights']); // only what flows out is cut
    expect(b.trace.layers[0]['attn.weights']).toEqual(a.trace.layers[0]['attn.weights']); // earlier layers untouched
  });

  it("head 'all' equals removing the layer's attention branch (attn.out is zero)", () => {
    for (let l = 0; l < L; l++) {
      const a = forward(model, ids, { ablate: [{ layer: l, head: 'all' }], trace: ['attn.out', 'res1', 'x0'] });
      const b = forward(withoutAttention(l), ids);
      expect(a.logits).toEqual(b.logits);
      expect(a.trace.layers[l]['attn.out']!.data.every((v) => v === 0)).toBe(true);
      if (l === 0) expect(a.trace.layers[0].res1!.data).toEqual(a.trace.x0!.data);
    }
  });

  it('several ablations at once: two heads of different layers', () => {
    const a = forward(model, ids, { ablate: [{ layer: 0, head: 1 }, { layer: 2, head: 3 }] });
    const b = forward(
      edited((p) => {
        p['h.0.attn.c_proj.weight'].fill(0, 1 * hs * C, 2 * hs * C);
        p['h.2.attn.c_proj.weight'].fill(0, 3 * hs * C, 4 * hs * C);
      }),
      ids
    );
    expect(a.logits).toEqual(b.logits);
  });

  it('the KV cache carries the ablated pass: prompt then one token equals one full ablated pass', () => {
    const ablate = [{ layer: 1, head: 0 }];
    const V = model.config.vocab_size;
    const full = forward(model, ids, { ablate });
    const { cache } = forward(model, ids.slice(0, -1), { ablate });
    const { logits } = forward(model, ids.slice(-1), { ablate, cache });
    expect(maxRelDiff(logits, full.logits.subarray((T - 1) * V))).toBeLessThan(1e-5);
  });

  it('the fast CPU runner (WASM matmuls) ablates the same way', async () => {
    const fast = await createFastCpuRunner(model);
    const ablated = await fast.forward(ids, { ablate: [{ layer: 2, head: 1 }] });
    const byWeights = await (await createFastCpuRunner(withoutHead(2, 1))).forward(ids);
    expect(ablated.logits).toEqual(byWeights.logits);
    expect((await fast.forward(ids, { ablate: [] })).logits).toEqual((await fast.forward(ids)).logits);
  });

  it('a head or layer that does not exist is a bad_ablation error', () => {
    for (const bad of [{ layer: L, head: 0 }, { layer: -1, head: 0 }, { layer: 0, head: nh }, { layer: 0.5, head: 0 }, { layer: 0, head: 1.5 }, { layer: 0, head: 'some' }]) {
      expectEngineError(() => forward(model, ids, { ablate: [bad as never] }), 'bad_ablation');
    }
  });
});

describe('how far a distribution moved', () => {
  const p = [0.5, 0.25, 0.25];
  const q = [0.25, 0.25, 0.5];

  it('KL divergence: by hand, zero for equal, infinite when q rules out a token of p', () => {
    expect(klDivergence(p, q)).toBeCloseTo(0.5 * Math.log(2) + 0.25 * Math.log(0.5), 12);
    expect(klDivergence(p, p)).toBe(0);
    expect(klDivergence(p, [0.5, 0.5, 0])).toBe(Infinity);
    expect(klDivergence([1, 0], [0.5, 0.5])).toBeCloseTo(Math.log(2), 12); // p's zeros cost nothing
  });

  it('total variation: half the L1 distance, between 0 and 1', () => {
    expect(totalVariation(p, q)).toBeCloseTo(0.25, 12);
    expect(totalVariation(p, p)).toBe(0);
    expect(totalVariation([1, 0], [0, 1])).toBe(1);
  });

  it('on real logits: an ablated distribution differs from the full one', () => {
    const V = model.config.vocab_size;
    const last = (l: Float32Array) => softmaxWithTemperature(l.subarray((T - 1) * V), 1);
    const before = last(forward(model, ids).logits);
    const after = last(forward(model, ids, { ablate: [{ layer: 0, head: 'all' }] }).logits);
    expect(klDivergence(before, after)).toBeGreaterThan(0);
    expect(totalVariation(before, after)).toBeGreaterThan(0);
  });

  it('different lengths are a shape error', () => {
    expectEngineError(() => klDivergence([1], [0.5, 0.5]), 'bad_shape');
    expectEngineError(() => totalVariation([], []), 'bad_shape');
  });
});

describe('parseAblations (the CLI flag --ablate)', () => {
  it('reads LAYER.HEAD and LAYER.all, comma-separated', () => {
    expect(parseAblations('1.2', model.config)).toEqual([{ layer: 1, head: 2 }]);
    expect(parseAblations('0.all, 2.3', model.config)).toEqual([{ layer: 0, head: 'all' }, { layer: 2, head: 3 }]);
    expect(describeAblation({ layer: 0, head: 'all' })).toBe('layer 0, all heads');
    expect(describeAblation({ layer: 2, head: 3 })).toBe('layer 2, head 3');
  });

  it('refuses what is not a head of this model', () => {
    for (const bad of ['', '1', '1.', 'a.b', '1.2.3', `${L}.0`, `0.${nh}`, '-1.0']) expectEngineError(() => parseAblations(bad, model.config), 'bad_ablation');
  });
});
