// The pieces the attention figures show must be the model's own arithmetic: each one recomputed
// here from a traced forward pass equals what the pass traced.
import { describe, expect, it } from 'vitest';
import { blendValues, headMatrix, headRow, headSlice, headVector, patternShare, scaledDot, softmaxSteps, strongestHead } from '../../engine/attention-view';
import { forward } from '../../engine/gpt';
import { expectEngineError, testModel } from './helpers';

const model = testModel('micro');
const { n_head: nh, n_embd: C } = model.config;
const hs = C / nh;
const ids = model.tokenizer.encode('The cat sat on the mat.');
const T = ids.length;
const { trace } = forward(model, ids, { trace: ['q', 'k', 'v', 'attn.scores', 'attn.masked', 'attn.weights', 'attn.heads'] });

describe('softmaxSteps', () => {
  it('reproduces every traced row of attention weights from the masked scores', () => {
    for (const layer of trace.layers)
      for (let h = 0; h < nh; h++)
        for (let i = 0; i < T; i++) {
          const s = softmaxSteps(headRow(layer['attn.masked']!, h, i));
          const w = headRow(layer['attn.weights']!, h, i);
          for (let j = 0; j < T; j++) expect(Math.abs(s.weights[j] - w[j])).toBeLessThan(1e-6);
          expect(s.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
        }
  });

  it('keeps the exponentials at most 1 (the largest is exactly 1) and gives masked keys 0', () => {
    const s = softmaxSteps([2, -1, -Infinity, 0.5]);
    expect(s.max).toBe(2);
    expect(Array.from(s.exps)).toEqual([1, Math.exp(-3), 0, Math.exp(-1.5)]);
    expect(s.sum).toBeCloseTo(1 + Math.exp(-3) + Math.exp(-1.5), 14);
    expect(s.weights[2]).toBe(0);
  });

  it('stays finite for huge scores, where a plain exp would overflow', () => {
    const s = softmaxSteps([1000, 999]);
    expect(s.weights[0]).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
  });

  it('refuses a row with every key masked, NaN or +∞', () => {
    expectEngineError(() => softmaxSteps([-Infinity, -Infinity]), 'all_masked');
    expectEngineError(() => softmaxSteps([]), 'all_masked');
    expectEngineError(() => softmaxSteps([0, NaN]), 'bad_score');
    expectEngineError(() => softmaxSteps([Infinity, 0]), 'bad_score');
  });
});

describe('scaledDot', () => {
  it('equals every traced raw score, above the diagonal too: score(i, j) = q_i · k_j / √d_k', () => {
    for (const layer of trace.layers)
      for (let h = 0; h < nh; h++)
        for (let i = 0; i < T; i++) {
          const scores = headRow(layer['attn.scores']!, h, i);
          for (let j = 0; j < T; j++) {
            const d = scaledDot(headVector(layer.q!, h, i), headVector(layer.k!, h, j));
            expect(d.terms.length).toBe(hs);
            expect(Math.abs(d.score - scores[j])).toBeLessThan(1e-5 * Math.max(1, Math.abs(scores[j])));
            expect(d.dot).toBeCloseTo(d.terms.reduce((a, b) => a + b, 0), 12);
          }
        }
  });

  it('refuses vectors of different or zero length', () => {
    expectEngineError(() => scaledDot([1, 2], [1]), 'bad_shape');
    expectEngineError(() => scaledDot([], []), 'bad_shape');
  });
});

describe('blendValues', () => {
  it('equals each head’s slice of attn.heads: the weighted sum of value vectors', () => {
    for (const layer of trace.layers)
      for (let h = 0; h < nh; h++) {
        const v = layer.v!.data.subarray(h * T * hs, (h + 1) * T * hs); // (T, hs)
        for (let i = 0; i < T; i++) {
          const out = blendValues(headRow(layer['attn.weights']!, h, i), v, hs);
          const want = headSlice(layer['attn.heads']!, h, i, nh);
          for (let d = 0; d < hs; d++) expect(Math.abs(out[d] - want[d])).toBeLessThan(1e-5);
        }
      }
  });

  it('refuses values that do not match the weights', () => {
    expectEngineError(() => blendValues([0.5, 0.5], [1, 2, 3], 2), 'bad_shape');
    expectEngineError(() => blendValues([1], [1], 0), 'bad_shape');
  });
});

describe('patternShare and strongestHead', () => {
  it('finds a previous-token head and a first-token head, with the even-spread baseline', () => {
    const n = 4;
    const prev = new Float32Array(n * n); // each query on the token before it
    const first = new Float32Array(n * n); // each query on token 0
    prev[0] = first[0] = 1;
    for (let i = 1; i < n; i++) {
      prev[i * n + i - 1] = 1;
      first[i * n] = 1;
    }
    expect(patternShare(prev, n, 'previous').share).toBe(1);
    expect(patternShare(prev, n, 'first').share).toBeCloseTo(1 / 3, 7); // query 1's previous token is token 0
    expect(patternShare(first, n, 'previous').share).toBeCloseTo(1 / 3, 7);
    expect(patternShare(first, n, 'first').even).toBeCloseTo((1 / 2 + 1 / 3 + 1 / 4) / 3, 12);
    const layers = [
      { shape: [2, n, n], data: Float32Array.from([...first, ...prev]) },
      { shape: [2, n, n], data: Float32Array.from([...first, ...first]) }
    ];
    expect(strongestHead(layers, 'previous')).toMatchObject({ layer: 0, head: 1, share: 1 });
    expect(strongestHead(layers, 'first')).toMatchObject({ layer: 0, head: 0, share: 1 });
  });

  it('on the traced model, names the head whose share is the largest', () => {
    const layers = trace.layers.map((l) => l['attn.weights']!);
    const best = strongestHead(layers, 'previous');
    for (const t of layers) for (let h = 0; h < nh; h++) expect(patternShare(headMatrix(t, h), T, 'previous').share).toBeLessThanOrEqual(best.share);
  });

  it('refuses a one-token text, a wrong size and a non-square matrix', () => {
    expectEngineError(() => patternShare([1], 1, 'previous'), 'too_short');
    expectEngineError(() => patternShare([1, 0, 0], 2, 'previous'), 'bad_shape');
    expectEngineError(() => strongestHead([{ shape: [1, 2, 3], data: new Float32Array(6) }], 'first'), 'bad_shape');
    expectEngineError(() => strongestHead([], 'first'), 'bad_shape');
  });
});

describe('indexing', () => {
  it('refuses heads and positions out of range, and data that does not fill its shape', () => {
    const w = trace.layers[0]['attn.weights']!;
    expectEngineError(() => headRow(w, nh, 0), 'bad_index');
    expectEngineError(() => headRow(w, 0, T), 'bad_index');
    expectEngineError(() => headRow(w, 0, -1), 'bad_index');
    expectEngineError(() => headVector(trace.layers[0].q!, 0, 1.5), 'bad_index');
    expectEngineError(() => headRow({ shape: [2, 2, 2], data: new Float32Array(7) }, 0, 0), 'bad_shape');
    expectEngineError(() => headSlice(trace.layers[0]['attn.heads']!, 0, 0, 3), 'bad_shape');
  });
});
