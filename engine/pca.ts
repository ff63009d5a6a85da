// Principal component analysis of the rows of a matrix: the few directions along which a cloud of
// points spreads the most. The embedding map uses it to draw V token embeddings of C numbers each
// on a page of two dimensions while keeping as much of their spread as two axes can hold.
//
// How: centre the rows, form the (C, C) covariance matrix in Float64, then find its top eigenvectors
// one at a time by power iteration (multiply a vector by the matrix until its direction stops
// changing), removing each one found from the matrix before looking for the next (deflation).
// For the few components a map needs this is simpler than a full eigendecomposition and as exact.
//
// Legend: N = rows (points), C = columns (dimensions of each point), k = components kept.
import { EngineError } from './errors';

export interface PCAOptions {
  maxIterations?: number; // per component; default 20,000
  tolerance?: number; // stop when |A·v − λv| ≤ tolerance·λ; default 1e-12
  seed?: number; // of the start vectors, so the same matrix always gives the same answer
  onRows?: (done: number, total: number) => void; // the covariance, the slow part, as it goes: every 1,024 rows
}

export interface PCAResult {
  rows: number; // N
  cols: number; // C
  k: number;
  mean: Float64Array; // (C) the centre of the cloud
  components: Float64Array; // (k, C) unit vectors, orthogonal, largest variance first
  variances: Float64Array; // (k) the spread along each: the covariance's eigenvalues
  totalVariance: number; // the spread along all C axes: the trace of the covariance
  explained: number[]; // (k) variances / totalVariance: the share of the spread each axis keeps
  projected: Float64Array; // (N, k) each row's coordinates along the components
  iterations: number[]; // (k) power iterations each component took
  converged: boolean[]; // (k) whether each met the tolerance within maxIterations
}

function fail(message: string): never {
  throw new EngineError('bad_pca', `Cannot compute the principal components: ${message}`);
}

// Covariance divides by N (the spread of these very points, not an estimate for a population);
// the explained ratios do not depend on that choice.
export function pca(data: ArrayLike<number>, rows: number, cols: number, k = 2, opts: PCAOptions = {}): PCAResult {
  const { maxIterations = 20_000, tolerance = 1e-12, seed = 1, onRows } = opts;
  if (!Number.isInteger(rows) || rows < 2) fail(`it needs at least 2 rows, got ${rows}.`);
  if (!Number.isInteger(cols) || cols < 1) fail(`it needs at least 1 column, got ${cols}.`);
  if (data.length !== rows * cols) fail(`${rows} × ${cols} needs ${rows * cols} numbers, got ${data.length}.`);
  if (!Number.isInteger(k) || k < 1 || k > cols) fail(`the number of components must be a whole number from 1 to ${cols}, got ${k}.`);
  if (!Number.isInteger(maxIterations) || maxIterations < 1) fail(`maxIterations must be a whole number of at least 1, got ${maxIterations}.`);
  if (!(tolerance > 0)) fail(`the tolerance must be positive, got ${tolerance}.`);

  const mean = new Float64Array(cols); // (C)
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = data[r * cols + c];
      if (!Number.isFinite(v)) fail(`row ${r}, column ${c} is ${Number.isNaN(v) ? 'not a number' : 'infinite'}.`);
      mean[c] += v;
    }
  }
  for (let c = 0; c < cols; c++) mean[c] /= rows;

  // the upper triangle first, then mirrored: half the multiplications
  const cov = new Float64Array(cols * cols); // (C, C)
  const d = new Float64Array(cols); // (C) one centred row
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) d[c] = data[r * cols + c] - mean[c];
    for (let i = 0; i < cols; i++) {
      const di = d[i];
      if (di === 0) continue;
      const row = i * cols;
      for (let j = i; j < cols; j++) cov[row + j] += di * d[j];
    }
    if (onRows && ((r + 1) % 1024 === 0 || r + 1 === rows)) onRows(r + 1, rows);
  }
  let totalVariance = 0;
  for (let i = 0; i < cols; i++) {
    for (let j = i; j < cols; j++) {
      const v = cov[i * cols + j] / rows;
      cov[i * cols + j] = v;
      cov[j * cols + i] = v;
    }
    totalVariance += cov[i * cols + i];
  }
  if (!(totalVariance > 0)) fail('every row is the same point, so there is no spread to analyse.');

  const components = new Float64Array(k * cols); // (k, C)
  const variances = new Float64Array(k); // (k)
  const iterations: number[] = [];
  const converged: boolean[] = [];
  const rng = lcg(seed);
  const v = new Float64Array(cols); // (C) the current guess
  const w = new Float64Array(cols); // (C) A·v

  for (let comp = 0; comp < k; comp++) {
    for (let c = 0; c < cols; c++) v[c] = rng() - 0.5;
    orthogonalise(v, components, comp, cols);
    if (!normalise(v)) v[comp] = 1; // the random start fell inside the found components: unlikely
    let lambda = 0;
    let it = 0;
    let done = false;
    while (it < maxIterations) {
      it++;
      multiply(w, cov, v, cols);
      // the search stays out of the directions already found: deflation removed them only up to
      // their own rounding, which would otherwise bring back a little of the largest one
      orthogonalise(w, components, comp, cols);
      lambda = dot(v, w); // the Rayleigh quotient: the variance along v
      // the residual says how far v is from an eigenvector (0 when it is one)
      let res = 0;
      for (let c = 0; c < cols; c++) res += (w[c] - lambda * v[c]) ** 2;
      if (Math.sqrt(res) <= tolerance * Math.max(Math.abs(lambda), totalVariance * 1e-15)) {
        done = true;
        break;
      }
      // after deflation a matrix of rank < k has nothing left (only rounding): every direction is
      // an eigenvector of variance 0
      if (it > 10 && Math.sqrt(dot(w, w)) <= totalVariance * 1e-13) {
        lambda = 0;
        done = true;
        break;
      }
      v.set(w);
      if (!normalise(v)) {
        // A·v vanished: what is left of the matrix has no spread in any new direction
        lambda = 0;
        done = true;
        break;
      }
    }
    // one sign for each axis, so the same matrix always draws the same way up: its largest entry
    // (the first of equals) is positive
    let big = 0;
    for (let c = 1; c < cols; c++) if (Math.abs(v[c]) > Math.abs(v[big]) + 1e-12) big = c;
    const sign = v[big] < 0 ? -1 : 1;
    for (let c = 0; c < cols; c++) components[comp * cols + c] = sign * v[c];
    variances[comp] = Math.max(0, lambda);
    iterations.push(it);
    converged.push(done);
    // deflation: take this direction's variance out of the matrix
    for (let i = 0; i < cols; i++) {
      for (let j = 0; j < cols; j++) cov[i * cols + j] -= lambda * v[i] * v[j];
    }
  }

  const projected = new Float64Array(rows * k); // (N, k)
  for (let r = 0; r < rows; r++) {
    for (let comp = 0; comp < k; comp++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += (data[r * cols + c] - mean[c]) * components[comp * cols + c];
      projected[r * k + comp] = s;
    }
  }

  return {
    rows,
    cols,
    k,
    mean,
    components,
    variances,
    totalVariance,
    explained: Array.from(variances, (x) => x / totalVariance),
    projected,
    iterations,
    converged
  };
}

function multiply(out: Float64Array, m: Float64Array, v: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    let s = 0;
    const row = i * n;
    for (let j = 0; j < n; j++) s += m[row + j] * v[j];
    out[i] = s;
  }
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

// v minus its parts along the first `count` rows of `basis` (Gram–Schmidt)
function orthogonalise(v: Float64Array, basis: Float64Array, count: number, n: number): void {
  for (let b = 0; b < count; b++) {
    let s = 0;
    for (let c = 0; c < n; c++) s += v[c] * basis[b * n + c];
    for (let c = 0; c < n; c++) v[c] -= s * basis[b * n + c];
  }
}

// scales v to length 1; false when it is (numerically) zero
function normalise(v: Float64Array): boolean {
  const len = Math.sqrt(dot(v, v));
  if (!(len > 1e-300)) return false;
  for (let c = 0; c < v.length; c++) v[c] /= len;
  return true;
}

// a small seeded generator for the start vectors (numbers in [0, 1))
function lcg(seed: number): () => number {
  let s = (seed >>> 0) || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
