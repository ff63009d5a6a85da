// Cosine similarity over the rows of an embedding matrix: which tokens point the same way as a
// given one (nearest neighbours), the vector arithmetic a − b + c, and the similarity of every row
// with every other (the position figure's T × T map). Sums in Float64.
//
// Legend: N = rows (tokens or positions), C = columns (channels).
import { EngineError } from './errors';

export interface Match {
  id: number; // the row
  cosine: number; // cos(query, row) in [−1, 1]
}

// The length of every row: (N)
export function rowNorms(m: ArrayLike<number>, rows: number, cols: number): Float64Array {
  checkMatrix(m, rows, cols);
  const norms = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += m[r * cols + c] ** 2;
    norms[r] = Math.sqrt(s);
  }
  return norms;
}

// cos(a, b) = a·b / (|a| |b|). Undefined for a zero vector: an error, never a NaN.
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new EngineError('bad_vector', `Cannot compare vectors of ${a.length} and ${b.length} numbers.`);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  if (!(aa > 0) || !(bb > 0)) throw new EngineError('zero_vector', 'The cosine of a vector of zeros is undefined: it points nowhere.');
  return ab / Math.sqrt(aa * bb);
}

export interface NearestOptions {
  exclude?: Iterable<number>; // rows never returned (the query itself, the inputs of a − b + c)
  norms?: Float64Array; // rowNorms(m), when the caller keeps them
}

// The k rows most similar to `query` by cosine, most similar first (ties: the lower id first).
// Rows of length 0 have no direction and are skipped.
export function nearest(m: ArrayLike<number>, rows: number, cols: number, query: ArrayLike<number>, k: number, opts: NearestOptions = {}): Match[] {
  checkMatrix(m, rows, cols);
  if (query.length !== cols) throw new EngineError('bad_vector', `The query has ${query.length} numbers, the rows have ${cols}.`);
  if (!Number.isInteger(k) || k < 0) throw new EngineError('bad_argument', `The number of neighbours must be a whole number of at least 0, got ${k}.`);
  const norms = opts.norms ?? rowNorms(m, rows, cols);
  let qq = 0;
  for (let c = 0; c < cols; c++) qq += query[c] * query[c];
  if (!Number.isFinite(qq)) throw new EngineError('bad_vector', 'The query vector holds a number that is not finite.');
  if (!(qq > 0)) throw new EngineError('zero_vector', 'The query vector is all zeros, so it has no direction to compare: the cosine is undefined.');
  const qn = Math.sqrt(qq);
  const skip = new Set(opts.exclude ?? []);
  const all: Match[] = [];
  for (let r = 0; r < rows; r++) {
    if (skip.has(r) || !(norms[r] > 0)) continue;
    let s = 0;
    for (let c = 0; c < cols; c++) s += query[c] * m[r * cols + c];
    all.push({ id: r, cosine: s / (qn * norms[r]) });
  }
  all.sort((a, b) => b.cosine - a.cosine || a.id - b.id);
  return all.slice(0, k);
}

// a − b + c over rows a, b and c: (C)
export function analogyVector(m: ArrayLike<number>, rows: number, cols: number, a: number, b: number, c: number): Float64Array {
  checkMatrix(m, rows, cols);
  for (const [name, id] of [['a', a], ['b', b], ['c', c]] as const) {
    if (!Number.isInteger(id) || id < 0 || id >= rows) throw new EngineError('bad_token', `Token ${name} (${id}) is not an id in [0, ${rows}).`);
  }
  const v = new Float64Array(cols);
  for (let j = 0; j < cols; j++) v[j] = m[a * cols + j] - m[b * cols + j] + m[c * cols + j];
  return v;
}

// cos(row i, row j) for every pair: (N, N), symmetric, 1 on the diagonal (0 where a row is zero).
export function cosineMatrix(m: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const norms = rowNorms(m, rows, cols);
  const out = new Float32Array(rows * rows); // (N, N)
  for (let i = 0; i < rows; i++) {
    for (let j = i; j < rows; j++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += m[i * cols + c] * m[j * cols + c];
      const d = norms[i] * norms[j];
      const v = d > 0 ? s / d : 0;
      out[i * rows + j] = v;
      out[j * rows + i] = v;
    }
  }
  return out;
}

function checkMatrix(m: ArrayLike<number>, rows: number, cols: number): void {
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(cols) || cols < 1 || m.length !== rows * cols) {
    throw new EngineError('bad_matrix', `A ${rows} × ${cols} matrix needs ${rows * cols} numbers, got ${m.length}.`);
  }
}
