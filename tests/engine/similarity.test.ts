import { describe, expect, it } from 'vitest';
import { analogyVector, cosine, cosineMatrix, nearest, rowNorms } from '../../engine/similarity';
import { expectEngineError } from './helpers';

// four 2-d rows: east, north-east, north, west
const m = Float32Array.from([1, 0, 1, 1, 0, 2, -3, 0]);

describe('cosine', () => {
  it('is 1 for the same direction, 0 at right angles, −1 opposite, whatever the lengths', () => {
    expect(cosine([1, 0], [5, 0])).toBe(1);
    expect(cosine([1, 0], [0, 2])).toBe(0);
    expect(cosine([1, 0], [-3, 0])).toBe(-1);
    expect(cosine([1, 0], [1, 1])).toBeCloseTo(Math.SQRT1_2, 15);
  });

  it('refuses a zero vector and vectors of different lengths', () => {
    expectEngineError(() => cosine([0, 0], [1, 0]), 'zero_vector');
    expectEngineError(() => cosine([1, 0], [1, 0, 0]), 'bad_vector');
  });
});

describe('nearest', () => {
  it('orders rows by cosine, not by distance, and leaves out the excluded', () => {
    expect(Array.from(rowNorms(m, 4, 2))).toEqual([1, Math.SQRT2, 2, 3]);
    const r = nearest(m, 4, 2, [1, 0.1], 4);
    expect(r.map((x) => x.id)).toEqual([0, 1, 2, 3]);
    expect(r[0].cosine).toBeCloseTo(1 / Math.sqrt(1.01), 12);
    expect(nearest(m, 4, 2, [1, 0], 2, { exclude: [0] }).map((x) => x.id)).toEqual([1, 2]);
  });

  it('breaks ties by the lower id, and skips rows of zeros', () => {
    const tie = Float32Array.from([0, 0, 2, 0, 1, 0]);
    expect(nearest(tie, 3, 2, [1, 0], 3)).toEqual([{ id: 1, cosine: 1 }, { id: 2, cosine: 1 }]);
  });

  it('refuses a zero query, a bad k and a query of the wrong size', () => {
    expectEngineError(() => nearest(m, 4, 2, [0, 0], 2), 'zero_vector');
    expectEngineError(() => nearest(m, 4, 2, [1, 0], -1), 'bad_argument');
    expectEngineError(() => nearest(m, 4, 2, [1, 0, 0], 2), 'bad_vector');
    expectEngineError(() => nearest(m, 5, 2, [1, 0], 2), 'bad_matrix');
  });
});

describe('analogyVector', () => {
  it('is a − b + c', () => {
    // north-east − east + west = (1, 1) − (1, 0) + (−3, 0) = (−3, 1)
    expect(Array.from(analogyVector(m, 4, 2, 1, 0, 3))).toEqual([-3, 1]);
    expectEngineError(() => analogyVector(m, 4, 2, 1, 0, 4), 'bad_token');
  });
});

describe('cosineMatrix', () => {
  it('holds every pair once each way, with 1 on the diagonal', () => {
    const s = cosineMatrix(m, 4, 2);
    expect(s.length).toBe(16);
    for (let i = 0; i < 4; i++) {
      expect(s[i * 4 + i]).toBeCloseTo(1, 6);
      for (let j = 0; j < 4; j++) {
        expect(s[i * 4 + j]).toBe(s[j * 4 + i]);
        expect(s[i * 4 + j]).toBeCloseTo(cosine(m.subarray(i * 2, i * 2 + 2), m.subarray(j * 2, j * 2 + 2)), 6);
      }
    }
    expect(s[0 * 4 + 3]).toBeCloseTo(-1, 6);
  });
});
