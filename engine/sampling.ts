// From logits to a chosen token: temperature, top-k, top-p (nucleus), and a seeded random number
// generator so that the same seed always gives the same text.
import { EngineError } from './errors';

export interface SamplingOptions {
  temperature: number; // ≥ 0; 0 is greedy (always the most likely token), 1 the model's own distribution
  topK?: number; // keep the k most likely tokens (integer ≥ 1); default: all
  topP?: number; // keep the smallest set whose probability reaches p, in (0, 1]; default 1
}

export interface Distribution {
  probs: Float32Array; // (V) after temperature, top-k and top-p; zero outside the kept set
  kept: Int32Array; // ids of the kept tokens, most likely first
  keptMass: number; // probability the kept set had before it was renormalised to 1
  full: Float64Array; // (V) after temperature alone, before top-k and top-p cut it
  order: Int32Array; // (V) every id, most likely first (ties by id); kept is its first kept.length
}

// At or below this temperature the distribution is exactly greedy, the limit T -> 0 of
// softmax(z / T): a one-hot on the argmax (the lowest id among equal maxima). T = 0 itself means
// greedy, rather than a division by zero. Above it, exp() of the max-subtracted logits only
// underflows, which is harmless, so no temperature yields NaN or Infinity.
export const MIN_TEMPERATURE = 1e-3;

// what a bad value was, in words: NaN is "no number"
const shown = (v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? 'no number' : String(v));

export function checkSampling(opts: SamplingOptions): void {
  const { temperature, topK, topP } = opts;
  if (typeof temperature !== 'number' || !(temperature >= 0) || !Number.isFinite(temperature)) {
    throw new EngineError('bad_temperature', `Temperature must be a finite number of at least 0 (0 is greedy), got ${shown(temperature)}.`);
  }
  if (topK !== undefined && (!Number.isInteger(topK) || topK < 1)) {
    throw new EngineError('bad_top_k', `top-k must be a whole number of at least 1, got ${shown(topK)}.`);
  }
  if (topP !== undefined && (typeof topP !== 'number' || !(topP > 0 && topP <= 1))) {
    throw new EngineError('bad_top_p', `top-p must be in (0, 1], got ${shown(topP)}.`);
  }
}

// softmax(z / T) computed in float64 with the max subtracted, so no T produces NaN or Infinity.
export function softmaxWithTemperature(logits: Float32Array, temperature: number): Float64Array {
  const V = logits.length;
  const out = new Float64Array(V);
  let max = -Infinity;
  let arg = 0;
  for (let i = 0; i < V; i++) {
    if (!Number.isFinite(logits[i])) {
      throw new EngineError('nan_logits', `The model produced ${logits[i]} for token ${i}: its parameters are broken or overflow float32.`);
    }
    if (logits[i] > max) [max, arg] = [logits[i], i];
  }
  if (temperature < MIN_TEMPERATURE) {
    out[arg] = 1;
    return out;
  }
  let sum = 0;
  for (let i = 0; i < V; i++) sum += out[i] = Math.exp((logits[i] - max) / temperature);
  for (let i = 0; i < V; i++) out[i] /= sum;
  return out;
}

// log Σ_j e^{z_j / T}: the log of softmax's denominator, the sum a reader would add up by hand. As a
// log (with the max taken out first) it stays finite for any T > 0, where the sum itself can
// overflow float64 (e^{z/T} with z = 20 and T = 0.02 is e^1000).
export function logSumExp(logits: Float32Array, temperature: number): number {
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new EngineError('bad_temperature', `The sum of e^(z/T) needs a positive finite temperature, got ${shown(temperature)}.`);
  }
  let max = -Infinity;
  for (const z of logits) if (z > max) max = z;
  let sum = 0;
  for (const z of logits) sum += Math.exp((z - max) / temperature);
  return max / temperature + Math.log(sum);
}

export function distribution(logits: Float32Array, opts: SamplingOptions): Distribution {
  checkSampling(opts);
  if (logits.length === 0) throw new EngineError('nan_logits', 'There are no logits to sample from: the vocabulary is empty.');
  const V = logits.length;
  const p = softmaxWithTemperature(logits, opts.temperature);
  // sort ids by probability, ties by id, so the kept set is well defined
  const order = Int32Array.from({ length: V }, (_, i) => i).sort((a, b) => p[b] - p[a] || a - b);
  let n = Math.min(opts.topK ?? V, V);
  while (n > 1 && p[order[n - 1]] === 0) n--; // a token with probability 0 (greedy, underflow) is never kept
  const topP = opts.topP ?? 1;
  if (topP < 1) {
    let mass = 0;
    for (let i = 0; i < n; i++) {
      mass += p[order[i]];
      if (mass >= topP) {
        n = i + 1;
        break;
      }
    }
  }
  let keptMass = 0;
  for (let i = 0; i < n; i++) keptMass += p[order[i]];
  const probs = new Float32Array(V);
  for (let i = 0; i < n; i++) probs[order[i]] = p[order[i]] / keptMass;
  return { probs, kept: order.slice(0, n), keptMass: Math.min(keptMass, 1), full: p, order };
}

// Draw one id from a distribution with a uniform number u in [0, 1).
export function sample(dist: Distribution, u: number): number {
  let c = 0;
  for (const id of dist.kept) {
    c += dist.probs[id];
    if (u < c) return id;
  }
  return dist.kept[dist.kept.length - 1]; // u landed in float rounding slack at the top
}

// mulberry32: a small, fast, well-mixed 32-bit generator. Same seed, same sequence, everywhere.
export class Rng {
  private state: number;
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
      throw new EngineError('bad_seed', `The seed must be a whole number from 0 to ${2 ** 32 - 1}, got ${seed}.`);
    }
    this.state = seed;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  // standard normal, Box-Muller
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}
