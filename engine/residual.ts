// Measures of the residual stream at one token: what each sublayer of a block reads and adds, and
// how large the stream grows from layer to layer. Plain arithmetic over traced (T, C) tensors.
import { EngineError } from './errors';

// Euclidean length of a vector.
export function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

// Row t of a (T, C) tensor.
export function row(data: Float32Array, t: number, C: number): Float32Array {
  if (!Number.isInteger(t) || t < 0 || (t + 1) * C > data.length) {
    throw new EngineError('bad_position', `Token position ${t} is outside the text (0 to ${data.length / C - 1}).`);
  }
  return data.subarray(t * C, (t + 1) * C);
}

// How much an added vector changes the stream it is added to: ‖added‖ / ‖stream before‖.
// 0 when both are zero, Infinity for a non-zero addition to a zero stream.
export function relativeChange(added: ArrayLike<number>, before: ArrayLike<number>): number {
  const a = norm(added);
  const b = norm(before);
  if (b === 0) return a === 0 ? 0 : Infinity;
  return a / b;
}
