import { describe, expect, it } from 'vitest';
import { forward } from '../../engine/gpt';
import { lensLogits, logitLens, topGuesses } from '../../engine/logit-lens';
import { norm, relativeChange, row } from '../../engine/residual';
import { errorCode, maxRelDiff, testModel } from './helpers';

const model = testModel('micro', {}, 11);
const C = model.config.n_embd;
const V = model.config.vocab_size;
const ids = model.tokenizer.encode('The cat sat on the mat.').slice(0, model.config.n_positions);
const T = ids.length;
const { logits, trace } = forward(model, ids, { trace: ['x0', 'res2'] });

// The lens written out as plain loops, independent of the kernels: layer norm, then a dot product
// with every row of wte, then softmax.
function plainLens(x: ArrayLike<number>): number[] {
  const g = model.params['ln_f.weight'];
  const b = model.params['ln_f.bias'];
  let mean = 0;
  for (let i = 0; i < C; i++) mean += x[i] / C;
  let variance = 0;
  for (let i = 0; i < C; i++) variance += (x[i] - mean) ** 2 / C;
  const y = Array.from({ length: C }, (_, i) => ((x[i] - mean) / Math.sqrt(variance + model.config.layer_norm_epsilon)) * g[i] + b[i]);
  const wte = model.params['wte.weight'];
  const z = Array.from({ length: V }, (_, v) => y.reduce((s, yi, i) => s + yi * wte[v * C + i], 0));
  const m = Math.max(...z);
  const e = z.map((zi) => Math.exp(zi - m));
  const sum = e.reduce((a, c) => a + c, 0);
  return e.map((ei) => ei / sum);
}

function stream(t: number): Float32Array {
  const s = new Float32Array((model.config.n_layer + 1) * C); // (L+1, C)
  s.set(row(trace.x0!.data, t, C), 0);
  trace.layers.forEach((layer, l) => s.set(row(layer.res2!.data, t, C), (l + 1) * C));
  return s;
}

describe('logit lens', () => {
  it('after the last block equals the model’s own logits, at every position', () => {
    for (let t = 0; t < T; t++) {
      const last = row(trace.layers[model.config.n_layer - 1].res2!.data, t, C);
      expect(maxRelDiff(lensLogits(model, last, 1), logits.subarray(t * V, (t + 1) * V))).toBeLessThan(1e-6);
    }
  });

  it('every row matches a plain-loop layer norm, head and softmax', () => {
    const t = T - 1;
    const s = stream(t);
    const rows = logitLens(model, s, 5);
    expect(rows).toHaveLength(model.config.n_layer + 1);
    rows.forEach((guesses, r) => {
      const p = plainLens(s.subarray(r * C, (r + 1) * C));
      const order = p.map((_, i) => i).sort((a, b) => p[b] - p[a] || a - b);
      expect(guesses.map((g) => g.id)).toEqual(order.slice(0, 5));
      guesses.forEach((g) => expect(g.p).toBeCloseTo(p[g.id], 5));
    });
  });

  it('top guesses are sorted, ties by id, and k larger than V gives V', () => {
    const flat = new Float32Array([0, 2, 2, 1]); // (1, 4)
    const [g] = topGuesses(flat, 1, 4, 10);
    expect(g.map((x) => x.id)).toEqual([1, 2, 3, 0]);
    expect(g.reduce((s, x) => s + x.p, 0)).toBeCloseTo(1, 6);
  });

  it('rejects a bad k and a vector of the wrong size', () => {
    expect(errorCode(() => topGuesses(new Float32Array(4), 1, 4, 0))).toBe('bad_argument');
    expect(errorCode(() => lensLogits(model, new Float32Array(C + 1), 1))).toBe('bad_shape');
  });
});

describe('residual measures', () => {
  it('norm, row and relative change', () => {
    expect(norm([3, 4])).toBe(5);
    expect(relativeChange([0, 0], [0, 0])).toBe(0);
    expect(relativeChange([1, 0], [0, 0])).toBe(Infinity);
    expect(relativeChange([3, 4], [0, 10])).toBeCloseTo(0.5, 12);
    expect(Array.from(row(new Float32Array([1, 2, 3, 4]), 1, 2))).toEqual([3, 4]);
    expect(errorCode(() => row(new Float32Array(4), 2, 2))).toBe('bad_position');
    expect(errorCode(() => row(new Float32Array(4), -1, 2))).toBe('bad_position');
  });

  it('res1 − input is attn.out and res2 − res1 is mlp.out (the stream only adds)', () => {
    const full = forward(model, ids, { trace: true }).trace;
    const l = 1;
    const before = full.layers[l - 1].res2!.data;
    const { res1, res2 } = full.layers[l];
    const d1 = res1!.data.map((v, i) => v - before[i]);
    const d2 = res2!.data.map((v, i) => v - res1!.data[i]);
    expect(maxRelDiff(d1, full.layers[l]['attn.out']!.data)).toBeLessThan(1e-5);
    expect(maxRelDiff(d2, full.layers[l]['mlp.out']!.data)).toBeLessThan(1e-5);
  });
});
