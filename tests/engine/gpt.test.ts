import { describe, expect, it } from 'vitest';
import { createCache, forward, layerTraceKeys, modelTraceKeys } from '../../engine/gpt';
import { EngineError } from '../../engine/errors';
import * as reference from '../../engine/kernels';
import { errorCode, maxRelDiff, testModel } from './helpers';

const model = testModel('micro', { n_positions: 32, n_embd: 16, n_head: 4 });
const { n_embd: C, n_head: nh, vocab_size: V, n_layer: L } = model.config;
const hs = C / nh;
const ids = model.tokenizer.encode('The cat sat on');
const T = ids.length;

describe('forward', () => {
  it('returns finite logits of shape (T, V)', () => {
    const { logits } = forward(model, ids);
    expect(logits.length).toBe(T * V);
    expect(logits.every(Number.isFinite)).toBe(true);
  });

  it('is deterministic', () => {
    expect(forward(model, ids).logits).toEqual(forward(model, ids).logits);
  });

  it('traces nothing unless asked', () => {
    const { trace } = forward(model, ids);
    expect(Object.keys(trace)).toEqual(['layers']);
    expect(trace.layers.every((l) => Object.keys(l).length === 0)).toBe(true);
  });

  it('traces every intermediate with the documented shapes', () => {
    const { trace, logits } = forward(model, ids, { trace: true });
    expect(trace.tok_emb).toMatchObject({ shape: [T, C] });
    expect(trace.pos_emb).toMatchObject({ shape: [T, C] });
    expect(trace.logits!.data).toEqual(logits);
    for (const k of modelTraceKeys) expect(trace[k], k).toBeDefined();
    expect(trace.layers.length).toBe(L);
    const shapes: Record<string, number[]> = {
      ln1: [T, C], q: [nh, T, hs], k: [nh, T, hs], v: [nh, T, hs], 'attn.scores': [nh, T, T],
      'attn.masked': [nh, T, T], 'attn.weights': [nh, T, T], 'attn.heads': [T, C], 'attn.out': [T, C],
      res1: [T, C],
      ln2: [T, C], 'mlp.pre': [T, 4 * C], 'mlp.act': [T, 4 * C], 'mlp.out': [T, C], res2: [T, C]
    };
    for (const layer of trace.layers) for (const k of layerTraceKeys) expect(layer[k]!.shape, k).toEqual(shapes[k]);
  });

  it('traces only the requested tensors', () => {
    const { trace } = forward(model, ids, { trace: ['attn.weights', 'x0'] });
    expect(trace.x0).toBeDefined();
    expect(trace.tok_emb).toBeUndefined();
    expect(Object.keys(trace.layers[0])).toEqual(['attn.weights']);
  });

  it('x0 is the sum of token and position embeddings, which are rows of wte and wpe', () => {
    const { trace } = forward(model, ids, { trace: ['tok_emb', 'pos_emb', 'x0'] });
    const wte = model.params['wte.weight'];
    const wpe = model.params['wpe.weight'];
    for (let t = 0; t < T; t++)
      for (let c = 0; c < C; c++) {
        expect(trace.tok_emb!.data[t * C + c]).toBe(wte[ids[t] * C + c]);
        expect(trace.pos_emb!.data[t * C + c]).toBe(wpe[t * C + c]);
        expect(trace.x0!.data[t * C + c]).toBe(Math.fround(wte[ids[t] * C + c] + wpe[t * C + c]));
      }
  });

  it('attention is causal: weights sum to 1 over the past and are 0 over the future', () => {
    const { trace } = forward(model, ids, { trace: ['attn.weights', 'attn.masked', 'attn.scores'] });
    for (const layer of trace.layers) {
      const w = layer['attn.weights']!.data;
      const m = layer['attn.masked']!.data;
      const s = layer['attn.scores']!.data;
      for (let h = 0; h < nh; h++)
        for (let i = 0; i < T; i++) {
          let sum = 0;
          for (let j = 0; j < T; j++) {
            const o = (h * T + i) * T + j;
            sum += w[o];
            if (j > i) {
              expect(w[o]).toBe(0);
              expect(m[o]).toBe(-Infinity);
              expect(Number.isFinite(s[o])).toBe(true); // raw scores exist before the mask
            } else expect(m[o]).toBe(s[o]);
          }
          expect(sum).toBeCloseTo(1, 6);
        }
    }
  });

  it('an earlier position never depends on later tokens', () => {
    const a = forward(model, ids).logits;
    const b = forward(model, [...ids.slice(0, 2), (ids[2] + 1) % V, ...ids.slice(3)]).logits;
    expect(a.subarray(0, 2 * V)).toEqual(b.subarray(0, 2 * V));
    expect(a.subarray(2 * V, 3 * V)).not.toEqual(b.subarray(2 * V, 3 * V));
  });

  it('the KV cache gives the same logits as a full forward, token by token', () => {
    const full = forward(model, ids, { trace: ['attn.weights'] });
    const cache = createCache(model.config);
    forward(model, ids.slice(0, 3), { cache });
    expect(cache.length).toBe(3);
    for (let t = 3; t < T; t++) {
      const step = forward(model, [ids[t]], { cache, trace: ['attn.weights'] });
      expect(maxRelDiff(step.logits, full.logits.subarray(t * V, (t + 1) * V))).toBeLessThan(1e-5);
      // the new token's attention row (nh, 1, t+1) equals row t of the full pass
      const row = step.trace.layers[0]['attn.weights']!;
      expect(row.shape).toEqual([nh, 1, t + 1]);
      for (let h = 0; h < nh; h++) {
        const ref = full.trace.layers[0]['attn.weights']!.data.subarray((h * T + t) * T, (h * T + t) * T + t + 1);
        expect(maxRelDiff(row.data.subarray(h * (t + 1), (h + 1) * (t + 1)), ref)).toBeLessThan(1e-5);
      }
    }
    expect(cache.length).toBe(T);
  });

  it('lastOnly returns the last row of the full logits', () => {
    const full = forward(model, ids).logits;
    expect(forward(model, ids, { lastOnly: true }).logits).toEqual(full.subarray((T - 1) * V));
  });
});

describe('forward rejects bad input', () => {
  const code = errorCode;
  it('empty prompt', () => expect(code(() => forward(model, []))).toBe('empty_prompt'));
  it('prompt longer than the context', () =>
    expect(code(() => forward(model, new Array(model.config.n_positions + 1).fill(1)))).toBe('context_overflow'));
  it('exactly the context length is fine', () =>
    expect(forward(model, new Array(model.config.n_positions).fill(1), { lastOnly: true }).logits.length).toBe(V));
  it('cache plus new tokens longer than the context', () => {
    const cache = createCache(model.config);
    forward(model, new Array(model.config.n_positions - 1).fill(1), { cache });
    expect(code(() => forward(model, [1, 2], { cache }))).toBe('context_overflow');
  });
  it('a pass that fails midway leaves the cache as it was', () => {
    const cache = createCache(model.config);
    forward(model, ids.slice(0, 2), { cache });
    const boom = () => {
      throw new Error('out of memory');
    };
    expect(() => forward(model, ids.slice(2, 4), { cache, kernels: { matmulForward: reference.matmulForward, matmulTransposedForward: boom } })).toThrow('out of memory');
    expect(cache.length).toBe(2);
    const next = forward(model, ids.slice(2, 4), { cache });
    expect(maxRelDiff(next.logits, forward(model, ids.slice(0, 4)).logits.subarray(2 * V))).toBeLessThan(1e-5);
  });
  it('token id out of the vocabulary', () => expect(code(() => forward(model, [V]))).toBe('bad_token'));
  it('negative or fractional token id', () => {
    expect(code(() => forward(model, [-1]))).toBe('bad_token');
    expect(code(() => forward(model, [1.5]))).toBe('bad_token');
  });
});
