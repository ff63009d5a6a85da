// Quantization: the same parameters stored with fewer bits per number. Each format rounds every
// weight to a value it can write down; we keep the rounded values as float32 (the "dequantized"
// model), so the unchanged forward pass runs them and any change in loss is the rounding's doing.
//
//   fp32  4 bytes a number: the file as trained.
//   fp16  2 bytes: IEEE half precision, round to nearest, ties to even (11 significant bits).
//   int8  1 byte: each ROW of a matrix (as stored: (rows, cols) row-major) gets its own scale
//         s = max|w| / 127, and each weight becomes the integer q = round(w / s) in −127..127.
//   int4  half a byte: the same, with one scale per GROUP of 32 consecutive numbers of a row and
//         q in −7..7 (15 levels of the 16 codes: symmetric, so 0 stays exactly 0).
//
// Scales are stored as fp16 (2 bytes each), as llama.cpp's Q4_0 and Q8_0 store theirs; the weight
// is rounded against the stored scale, so |w − q·s| ≤ s/2 holds for the scale actually written.
// Only matrices are rounded to integers: vectors (biases, LayerNorm gains) are a fraction of a
// percent of the numbers and are kept in fp16 in the int8 and int4 files, as quantized checkpoints
// usually keep them at 16 bits or more.
import { EngineError } from './errors';
import { paramShapes, type GPTConfig } from './config';
import type { Params } from './gpt';

export const precisions = ['fp32', 'fp16', 'int8', 'int4'] as const;
export type Precision = (typeof precisions)[number];

export const INT4_GROUP = 32;
const qmaxOf = { int8: 127, int4: 7 } as const;
const FP16_MAX = 65504;
const FP16_MIN_NORMAL = 2 ** -14;
const FP16_MIN_SUBNORMAL = 2 ** -24;

export function isPrecision(p: unknown): p is Precision {
  return typeof p === 'string' && (precisions as readonly string[]).includes(p);
}

export function checkPrecision(p: unknown): Precision {
  if (!isPrecision(p)) throw new EngineError('bad_precision', `Unknown precision "${String(p)}": use ${precisions.join(', ')}.`);
  return p;
}

// round half to even, in float64
function roundEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 ? 2 * Math.round(v / 2) : r;
}

// The nearest fp16 value of x (ties to even); ±Infinity beyond fp16's range, NaN stays NaN.
// Computed with float64 arithmetic: within one binade fp16 values are evenly spaced by
// ulp = 2^(e − 10), and dividing by a power of two is exact.
export function f16round(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--; // log2 may be off by one next to a power of two
  else if (2 ** (e + 1) <= a) e++;
  const ulp = e < -14 ? FP16_MIN_SUBNORMAL : 2 ** (e - 10); // below 2^-14, evenly spaced subnormals
  const r = roundEven(a / ulp) * ulp;
  // 65520 is halfway between 65504 and the next step (65536, not representable): it and anything
  // above round to Infinity
  const out = r > FP16_MAX ? Infinity : r;
  return x < 0 ? -out : out;
}

export interface TensorError {
  name: string;
  shape: number[];
  stored: Precision; // how this tensor is written in the file (vectors of int files: fp16)
  bytes: number; // its numbers and scales in that format
  scales: number; // how many scales it carries
  rms: number; // root-mean-square of the rounding error w − ŵ
  relRms: number; // rms / root-mean-square of w (0 for an all-zero tensor)
  maxAbs: number; // largest |w − ŵ|
}

export interface QuantizedTensor extends TensorError {
  values: Float32Array; // ŵ, the rounded weights, in w's layout
  scaleValues: Float32Array | null; // per row (int8) or per group (int4), in row-major order
  blockSize: number; // numbers one scale covers: a row (int8), INT4_GROUP or less (int4), 0 otherwise
  qmax: number; // largest integer code (127 or 7), 0 for float formats
}

function checkFinite(name: string, data: Float32Array): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new EngineError('bad_weights', `"${name}" holds ${data[i]} at index ${i}: only finite weights can be quantized.`);
  }
}

// The scale for a block whose largest |w| is absmax: fp16, never so small that a weight would
// need a code beyond qmax (an fp16 subnormal loses precision, so the floor is the smallest normal).
function blockScale(name: string, absmax: number, qmax: number): number {
  if (absmax === 0) return 0;
  const s = f16round(absmax / qmax);
  if (!Number.isFinite(s)) throw new EngineError('out_of_range', `"${name}" has a weight of ${absmax}, too large for an fp16 scale.`);
  return Math.max(s, FP16_MIN_NORMAL);
}

// One tensor in one format. A 2-D shape is (rows, cols), row-major; anything else is a vector.
export function quantizeTensor(name: string, data: Float32Array, shape: readonly number[], precision: Precision): QuantizedTensor {
  checkPrecision(precision);
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new EngineError('bad_shape', `"${name}" has ${data.length} numbers but its shape [${shape.join(', ')}] holds ${n}.`);
  checkFinite(name, data);
  const isMatrix = shape.length === 2;
  const stored: Precision = precision === 'fp32' || precision === 'fp16' || isMatrix ? precision : 'fp16';
  const values = new Float32Array(n);
  let scaleValues: Float32Array | null = null;
  let blockSize = 0;
  let qmax = 0;
  let bytes: number;
  if (stored === 'fp32') {
    values.set(data);
    bytes = 4 * n;
  } else if (stored === 'fp16') {
    for (let i = 0; i < n; i++) {
      const h = f16round(data[i]);
      if (!Number.isFinite(h)) throw new EngineError('out_of_range', `"${name}" has a weight of ${data[i]} at index ${i}, beyond fp16's ±${FP16_MAX}.`);
      values[i] = h;
    }
    bytes = 2 * n;
  } else {
    const [rows, cols] = shape;
    qmax = qmaxOf[stored];
    const group = stored === 'int8' ? cols : INT4_GROUP; // numbers per scale (the last of a row may be short)
    const perRow = Math.ceil(cols / group);
    scaleValues = new Float32Array(rows * perRow);
    blockSize = Math.min(group, cols);
    bytes = 0;
    for (let r = 0; r < rows; r++) {
      for (let g = 0; g < perRow; g++) {
        const from = r * cols + g * group;
        const to = r * cols + Math.min(cols, (g + 1) * group);
        let absmax = 0;
        for (let i = from; i < to; i++) absmax = Math.max(absmax, Math.abs(data[i]));
        const s = blockScale(name, absmax, qmax);
        scaleValues[r * perRow + g] = s;
        for (let i = from; i < to; i++) {
          const q = s === 0 ? 0 : Math.max(-qmax, Math.min(qmax, roundEven(data[i] / s)));
          values[i] = q * s; // exact: an 8-bit integer times an 11-bit scale fits float32
        }
        // int4 packs two codes a byte; every block adds its fp16 scale
        bytes += (stored === 'int8' ? to - from : Math.ceil((to - from) / 2)) + 2;
      }
    }
  }
  let se = 0;
  let sw = 0;
  let maxAbs = 0;
  for (let i = 0; i < n; i++) {
    const d = data[i] - values[i];
    se += d * d;
    sw += data[i] * data[i];
    maxAbs = Math.max(maxAbs, Math.abs(d));
  }
  const rms = n ? Math.sqrt(se / n) : 0;
  return {
    name, shape: [...shape], stored, bytes, scales: scaleValues?.length ?? 0,
    rms, relRms: sw > 0 ? Math.sqrt(se / sw) : 0, maxAbs,
    values, scaleValues, blockSize, qmax
  };
}

export interface QuantizedModel {
  precision: Precision;
  params: Params; // ŵ for every parameter, float32, ready for the forward pass
  bytes: number; // every tensor's numbers and scales (the file's JSON header not counted)
  tensors: TensorError[]; // in paramShapes order
}

// Every parameter of a model in one format.
export function quantizeParams(config: GPTConfig, params: Params, precision: Precision): QuantizedModel {
  checkPrecision(precision);
  const out: Params = {};
  const tensors: TensorError[] = [];
  let bytes = 0;
  for (const [name, shape] of paramShapes(config)) {
    const data = params[name];
    if (!data) throw new EngineError('bad_model', `The model has no parameter "${name}".`);
    const q = quantizeTensor(name, data, shape, precision);
    out[name] = q.values;
    const { values: _v, scaleValues: _s, blockSize: _b, qmax: _q, ...error } = q;
    tensors.push(error);
    bytes += q.bytes;
  }
  return { precision, params: out, bytes, tensors };
}

// Bytes of a model of nParams numbers, all in matrices, in each format: what a large model's file
// weighs (their vectors are a vanishing share, so counting them as matrix entries changes nothing
// visible). int8 scales per row are negligible; int4's one fp16 scale per 32 numbers is not (4.5
// bits a weight instead of 4).
export function bytesPerParam(precision: Precision): number {
  checkPrecision(precision);
  return { fp32: 4, fp16: 2, int8: 1, int4: 0.5 + 2 / INT4_GROUP }[precision];
}

// The levels a block can take: q·s for q in −qmax..qmax.
export function levels(scale: number, qmax: number): number[] {
  return Array.from({ length: 2 * qmax + 1 }, (_, i) => (i - qmax) * scale);
}

// LoRA (Hu et al., 2021): instead of changing a (rows, cols) matrix W, train W + B·A with B
// (rows, r) and A (r, cols); the adapter stores r·(rows + cols) numbers.
export function loraParams(rows: number, cols: number, rank: number): number {
  for (const [what, v] of [['rows', rows], ['cols', cols], ['rank', rank]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new EngineError('bad_argument', `LoRA ${what} must be a whole number of at least 1, got ${v}.`);
  }
  return rank * (rows + cols);
}
