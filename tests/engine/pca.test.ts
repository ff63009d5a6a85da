import { describe, expect, it } from 'vitest';
import { pca } from '../../engine/pca';
import { expectEngineError } from './helpers';

// An independent answer: the covariance matrix written out plainly, and all its eigenvalues and
// eigenvectors by cyclic Jacobi rotations (a different method from the power iteration under test).
function covariance(data: number[][]): number[][] {
  const n = data.length;
  const c = data[0].length;
  const mean = Array.from({ length: c }, (_, j) => data.reduce((s, row) => s + row[j], 0) / n);
  return Array.from({ length: c }, (_, i) =>
    Array.from({ length: c }, (_, j) => data.reduce((s, row) => s + (row[i] - mean[i]) * (row[j] - mean[j]), 0) / n)
  );
}

function jacobiEigen(m: number[][]): { values: number[]; vectors: number[][] } {
  const n = m.length;
  const a = m.map((row) => [...row]);
  const v: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p][q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(a[p][q]) < 1e-300) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k][p];
          const akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p][k];
          const aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[y][y] - a[x][x]);
  return { values: order.map((i) => a[i][i]), vectors: order.map((i) => v.map((row) => row[i])) };
}

function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 48271) % 2147483647 + 2147483647) % 2147483647;
    return s / 2147483647;
  };
}

const flat = (rows: number[][]) => Float32Array.from(rows.flat());
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, x, i) => s + x * b[i], 0);

describe('pca', () => {
  it('finds the axes of a cross of four points by hand: variances 2 and 0.5, 80% and 20%', () => {
    // (±2, 0) and (0, ±1): the mean is 0, the x spread is (4 + 4) / 4 = 2, the y spread (1 + 1) / 4
    const r = pca(flat([[2, 0], [-2, 0], [0, 1], [0, -1]]), 4, 2, 2);
    expect(Array.from(r.mean)).toEqual([0, 0]);
    expect(r.totalVariance).toBeCloseTo(2.5, 12);
    expect(r.variances[0]).toBeCloseTo(2, 12);
    expect(r.variances[1]).toBeCloseTo(0.5, 12);
    expect(r.explained[0]).toBeCloseTo(0.8, 12);
    expect(r.explained[1]).toBeCloseTo(0.2, 12);
    // the sign rule makes each axis's largest entry positive
    expect(r.components[0]).toBeCloseTo(1, 10);
    expect(r.components[1]).toBeCloseTo(0, 10);
    expect(r.components[2]).toBeCloseTo(0, 10);
    expect(r.components[3]).toBeCloseTo(1, 10);
    const coords = Array.from(r.projected, (x) => Math.round(x * 1e9) / 1e9 + 0);
    expect(coords).toEqual([2, 0, -2, 0, 0, 1, 0, -1]);
    expect(r.converged).toEqual([true, true]);
  });

  it('centres the cloud and finds a tilted axis: points on the diagonal through (5, 5)', () => {
    // spread ±3 along (1, 1)/√2 and ±1 across it, around (5, 5)
    const s = Math.SQRT1_2;
    const pts = [[3, 0], [-3, 0], [0, 1], [0, -1]].map(([u, w]) => [5 + s * (u - w), 5 + s * (u + w)]);
    const r = pca(flat(pts), 4, 2, 2);
    expect(r.mean[0]).toBeCloseTo(5, 6);
    expect(r.mean[1]).toBeCloseTo(5, 6);
    expect(r.variances[0]).toBeCloseTo(4.5, 5); // (9 + 9) / 4
    expect(r.variances[1]).toBeCloseTo(0.5, 5);
    expect(r.explained[0]).toBeCloseTo(0.9, 6);
    expect(Math.abs(r.components[0])).toBeCloseTo(s, 6);
    expect(Math.abs(r.components[1])).toBeCloseTo(s, 6);
    expect(Math.sign(r.components[0])).toBe(Math.sign(r.components[1]));
  });

  it('agrees with a brute-force eigendecomposition of the covariance on a random 60 × 7 matrix', () => {
    const rand = seeded(12345);
    // uneven scales per column so the eigenvalues are well apart, plus some correlation
    const scales = [3, 0.5, 2, 1, 0.2, 1.5, 0.8];
    const data = Array.from({ length: 60 }, () => {
      const row = scales.map((sc) => sc * (rand() - 0.5) + 1);
      row[1] += 0.7 * row[0];
      row[4] -= 0.3 * row[2];
      return row;
    });
    const f32 = flat(data);
    // the test's covariance from the same float32 numbers the PCA sees
    const asSeen = Array.from({ length: 60 }, (_, r) => Array.from(f32.subarray(r * 7, r * 7 + 7)));
    const cov = covariance(asSeen);
    const { values, vectors } = jacobiEigen(cov);
    const total = cov.reduce((s, row, i) => s + row[i], 0);
    const r = pca(f32, 60, 7, 3);
    expect(r.totalVariance).toBeCloseTo(total, 10);
    for (let c = 0; c < 3; c++) {
      expect(r.variances[c] / values[c]).toBeCloseTo(1, 9);
      expect(r.explained[c]).toBeCloseTo(values[c] / total, 10);
      // the same direction up to sign
      const comp = r.components.subarray(c * 7, c * 7 + 7);
      expect(Math.abs(dot(comp, vectors[c]))).toBeCloseTo(1, 8);
    }
    // orthonormal components
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) {
        const d = dot(r.components.subarray(a * 7, a * 7 + 7), r.components.subarray(b * 7, b * 7 + 7));
        expect(d).toBeCloseTo(a === b ? 1 : 0, 10);
      }
    }
    // the projected coordinates have mean 0 and the component's variance
    for (let c = 0; c < 3; c++) {
      const xs = Array.from({ length: 60 }, (_, i) => r.projected[i * 3 + c]);
      const m = xs.reduce((s, x) => s + x, 0) / 60;
      expect(m).toBeCloseTo(0, 10);
      expect(xs.reduce((s, x) => s + (x - m) ** 2, 0) / 60 / r.variances[c]).toBeCloseTo(1, 9);
    }
  });

  it('keeps all of the spread when k equals the number of columns', () => {
    const rand = seeded(99);
    const data = Float32Array.from({ length: 20 * 4 }, () => rand());
    const r = pca(data, 20, 4, 4);
    expect(r.explained.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 9);
    for (let c = 1; c < 4; c++) expect(r.variances[c]).toBeLessThanOrEqual(r.variances[c - 1] * (1 + 1e-9));
  });

  it('gives the same answer every time (seeded start, sign rule)', () => {
    const rand = seeded(7);
    const data = Float32Array.from({ length: 30 * 5 }, () => rand());
    const a = pca(data, 30, 5, 2);
    const b = pca(data, 30, 5, 2);
    expect(Array.from(a.projected)).toEqual(Array.from(b.projected));
  });

  it('gives a zero-variance axis for points on one line (rank below k)', () => {
    const r = pca(flat([[0, 0], [1, 2], [2, 4], [3, 6]]), 4, 2, 2);
    expect(r.explained[0]).toBeCloseTo(1, 10);
    expect(r.variances[1]).toBeCloseTo(0, 10);
    expect(r.converged).toEqual([true, true]);
    expect(Math.abs(dot(r.components.subarray(0, 2), r.components.subarray(2, 4)))).toBeLessThan(1e-9);
  });

  it('reports the covariance rows as it sums them, every 1,024 and the last, and the answer is the same', () => {
    const rows = 2500;
    const data = Float32Array.from({ length: rows * 3 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);
    const seen: [number, number][] = [];
    const r = pca(data, rows, 3, 2, { onRows: (done, total) => seen.push([done, total]) });
    expect(seen).toEqual([[1024, rows], [2048, rows], [2500, rows]]);
    expect(r.explained).toEqual(pca(data, rows, 3, 2).explained);
  });

  it('refuses bad input with a clear error', () => {
    expectEngineError(() => pca(flat([[1, 2]]), 1, 2), 'bad_pca'); // one row has no spread
    expectEngineError(() => pca(flat([[1, 2], [3, 4]]), 2, 2, 3), 'bad_pca'); // k > C
    expectEngineError(() => pca(flat([[1, 2], [3, 4]]), 2, 2, 0), 'bad_pca');
    expectEngineError(() => pca(new Float32Array(5), 2, 2), 'bad_pca'); // length mismatch
    expectEngineError(() => pca(flat([[1, NaN], [3, 4]]), 2, 2), 'bad_pca');
    expectEngineError(() => pca(flat([[1, Infinity], [3, 4]]), 2, 2), 'bad_pca');
    expectEngineError(() => pca(flat([[1, 2], [1, 2], [1, 2]]), 3, 2), 'bad_pca'); // all the same point
  });
});
