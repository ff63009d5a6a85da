import { describe, expect, it } from 'vitest';
import { entropy, firstScore, headScores, layerScores, leader, prevScore, selfScore, sharpness } from '../../engine/head-stats';
import { expectEngineError } from './helpers';

// A (T, T) causal weight matrix from a rule giving row i's weights over j = 0..i.
function pattern(T: number, row: (i: number) => number[]): Float32Array {
  const w = new Float32Array(T * T);
  for (let i = 0; i < T; i++) {
    const r = row(i);
    expect(r.length).toBe(i + 1);
    w.set(r, i * T);
  }
  return w;
}
const onehot = (n: number, at: number) => Array.from({ length: n }, (_, j) => (j === at ? 1 : 0));
const T = 6;

describe('head scores on hand-built patterns', () => {
  it('a previous-token head: prev 1, self 0, sharpness 1, entropy 0', () => {
    const w = pattern(T, (i) => onehot(i + 1, Math.max(0, i - 1)));
    expect(headScores(w, T)).toEqual({ prev: 1, self: 0, first: 1 / (T - 1), entropy: 0, sharpness: (T - 2) / (T - 1) });
    // (row 1's previous token is the first, which sharpness leaves out)
  });

  it('a self head: self 1, prev 0', () => {
    const w = pattern(T, (i) => onehot(i + 1, i));
    const s = headScores(w, T);
    expect(s.self).toBe(1);
    expect(s.prev).toBe(0);
    expect(s.first).toBe(0);
    expect(s.sharpness).toBe(1);
    expect(s.entropy).toBe(0);
  });

  it('a first-token (resting) head: first 1, sharpness 0', () => {
    const w = pattern(T, (i) => onehot(i + 1, 0));
    const s = headScores(w, T);
    expect(s.first).toBe(1);
    expect(s.sharpness).toBe(0);
    expect(s.prev).toBeCloseTo(1 / (T - 1), 7); // row 1's previous token is the first
  });

  it('a uniform head: entropy is the mean of log(i+1), weight 1/(i+1) everywhere', () => {
    const w = pattern(T, (i) => Array(i + 1).fill(1 / (i + 1)));
    let h = 0;
    let p = 0;
    for (let i = 1; i < T; i++) {
      h += Math.log(i + 1);
      p += 1 / (i + 1);
    }
    expect(entropy(w, T)).toBeCloseTo(h / (T - 1), 6);
    expect(prevScore(w, T)).toBeCloseTo(p / (T - 1), 6);
    expect(selfScore(w, T)).toBeCloseTo(p / (T - 1), 6);
    expect(firstScore(w, T)).toBeCloseTo(p / (T - 1), 6);
    expect(sharpness(w, T)).toBeCloseTo(p / (T - 1), 6);
  });

  it('row 0 (which can only look at itself) is left out of every mean', () => {
    const a = pattern(T, (i) => onehot(i + 1, Math.max(0, i - 1)));
    const b = a.slice();
    b[0] = 0.5; // a different row 0 changes nothing
    expect(headScores(b, T)).toEqual(headScores(a, T));
  });

  it('two tokens: one row to average', () => {
    const w = new Float32Array([1, 0, 0.25, 0.75]);
    const s = headScores(w, 2);
    expect(s.prev).toBe(0.25);
    expect(s.first).toBe(0.25);
    expect(s.self).toBe(0.75);
    expect(s.sharpness).toBe(0.75);
    expect(s.entropy).toBeCloseTo(-(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75)), 7);
  });

  it('one token is too short; a wrong length is a shape error', () => {
    expectEngineError(() => headScores(new Float32Array([1]), 1), 'too_short');
    expectEngineError(() => headScores(new Float32Array(5), 2), 'bad_shape');
    expectEngineError(() => layerScores(new Float32Array(7), 2, 2), 'bad_shape');
  });
});

describe('layerScores and leader', () => {
  it('scores each head of an (nh, T, T) array and finds the leader', () => {
    const prev = pattern(T, (i) => onehot(i + 1, Math.max(0, i - 1)));
    const self = pattern(T, (i) => onehot(i + 1, i));
    const both = new Float32Array(2 * T * T);
    both.set(self, 0);
    both.set(prev, T * T);
    const layer = layerScores(both, 2, T);
    expect(layer[0].self).toBe(1);
    expect(layer[1].prev).toBe(1);
    const scores = [layer, layerScores(new Float32Array(2 * T * T), 2, T)]; // a second layer of all-zero rows
    expect(leader(scores, 'prev')).toEqual({ layer: 0, head: 1, value: 1 });
    expect(leader(scores, 'self')).toEqual({ layer: 0, head: 0, value: 1 });
    expect(leader(scores, 'entropy', true)).toEqual({ layer: 0, head: 0, value: 0 }); // ties: the earlier head
  });

  it('no heads is an error', () => {
    expectEngineError(() => leader([], 'prev'), 'no_heads');
  });
});
