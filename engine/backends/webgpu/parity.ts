// How a backend is checked against the CPU reference, in Node (tests/engine/backends.test.ts) and
// in Chromium (the /dev/parity page): the same tensors, compared the same way.
import type { Runner } from '../../backend';
import type { GPTConfig } from '../../config';
import { createCache, forward, type Trace, type TracedTensor, type Weights } from '../../gpt';
import { initParams } from '../../model';
import { Rng } from '../../sampling';

// The largest difference allowed, relative to the largest magnitude in the reference tensor.
// Float32 kernels that sum in a different order than the reference differ by a few units in the
// 7th digit; 1e-4 leaves room for that and none for a wrong index or a missing term.
export const parityTolerance = 1e-4;

// GPT-2's initialisation sets every bias to 0 and every LayerNorm gain to 1, which would leave a
// kernel that forgets a bias or a gain unnoticed. A parity model has them all random.
export function parityModel(config: GPTConfig, seed: number): Weights {
  const params = initParams(config, seed);
  const rng = new Rng(seed + 1);
  for (const [name, data] of Object.entries(params)) {
    const gain = /ln_\d\.weight$|ln_f\.weight$/.test(name);
    if (!gain && !name.endsWith('.bias')) continue;
    for (let i = 0; i < data.length; i++) data[i] = (gain ? 1 : 0) + 0.1 * rng.normal();
  }
  return { config, params };
}

export function randomIds(n: number, vocab: number, seed: number): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => Math.floor(rng.next() * vocab));
}

export interface TensorDiff {
  key: string; // 'logits', 'x0', or 'h.2.attn.weights'
  shape: string; // the shape of the tensor that was compared
  maxAbs: number; // largest |got - want| over finite entries
  rel: number; // maxAbs / largest |want|; Infinity when shapes or infinities disagree
}

export function diffTensor(key: string, got: TracedTensor | undefined, want: TracedTensor): TensorDiff {
  const shape = want.shape.join('x');
  if (!got || got.shape.join('x') !== shape || got.data.length !== want.data.length) {
    return { key, shape: `${got?.shape.join('x') ?? 'missing'} vs ${shape}`, maxAbs: Infinity, rel: Infinity };
  }
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < want.data.length; i++) {
    const a = got.data[i];
    const b = want.data[i];
    if (!Number.isFinite(b) || !Number.isFinite(a)) {
      if (a !== b) return { key, shape, maxAbs: Infinity, rel: Infinity }; // -Infinity of the mask must match exactly
      continue;
    }
    maxAbs = Math.max(maxAbs, Math.abs(a - b));
    scale = Math.max(scale, Math.abs(b));
  }
  return { key, shape, maxAbs, rel: scale > 0 ? maxAbs / scale : maxAbs };
}

// Every tensor of the reference trace, and the logits, against the backend's; a tensor the
// backend traced that the reference did not is a difference too.
export function diffTraces(got: { logits: Float32Array; trace: Trace }, want: { logits: Float32Array; trace: Trace }): TensorDiff[] {
  const diffs = [diffTensor('logits', { shape: [got.logits.length], data: got.logits }, { shape: [want.logits.length], data: want.logits })];
  const extra = (key: string) => diffs.push({ key, shape: 'not in the reference', maxAbs: Infinity, rel: Infinity });
  for (const [key, t] of Object.entries(want.trace)) {
    if (key !== 'layers') diffs.push(diffTensor(key, (got.trace as unknown as Record<string, TracedTensor | undefined>)[key], t as TracedTensor));
  }
  for (const key of Object.keys(got.trace)) if (!(key in want.trace)) extra(key);
  if (got.trace.layers.length !== want.trace.layers.length) {
    diffs.push({ key: 'layers', shape: `${got.trace.layers.length} vs ${want.trace.layers.length}`, maxAbs: Infinity, rel: Infinity });
  }
  want.trace.layers.forEach((layer, l) => {
    for (const [key, t] of Object.entries(layer)) diffs.push(diffTensor(`h.${l}.${key}`, got.trace.layers[l]?.[key as keyof typeof layer], t));
    for (const key of Object.keys(got.trace.layers[l] ?? {})) if (!(key in layer)) extra(`h.${l}.${key}`);
  });
  return diffs;
}

export function worst(diffs: TensorDiff[]): TensorDiff {
  return diffs.reduce((a, b) => (b.rel > a.rel ? b : a));
}

export interface ParityCase {
  name: string;
  passes: number; // forward passes in the case
  diffs: TensorDiff[]; // every tensor of every pass
}

// The scenario both the Node suite and the Chromium page run on a runner: full traces for prompts
// of one token, a few and many; a prompt fed as prefix then continuation over the KV cache; and
// token-by-token decoding, the single-row path. Each pass is compared with gpt.ts's on the CPU.
export async function parityScenario(runner: Runner, model: Weights): Promise<ParityCase[]> {
  const { vocab_size: V, n_positions: S } = model.config;
  const cases: ParityCase[] = [];
  for (const [i, n] of [1, 7, Math.min(S, 24)].entries()) {
    const ids = randomIds(n, V, 200 + i);
    cases.push({ name: `a prompt of ${n} token${n === 1 ? '' : 's'}`, passes: 1, diffs: diffTraces(await runner.forward(ids, { trace: true }), forward(model, ids, { trace: true })) });
  }
  const ids = randomIds(Math.min(S, 16), V, 300);
  const cut = Math.floor(ids.length / 2);
  let cache = runner.createCache();
  let ref = createCache(model.config);
  const split: TensorDiff[] = [];
  for (const part of [ids.slice(0, cut), ids.slice(cut)]) {
    split.push(...diffTraces(await runner.forward(part, { cache, trace: true }), forward(model, part, { cache: ref, trace: true })));
  }
  cases.push({ name: `${cut} tokens, then ${ids.length - cut} more over the KV cache`, passes: 2, diffs: split });
  cache = runner.createCache();
  ref = createCache(model.config);
  const decode: TensorDiff[] = [];
  const steps = ids.slice(0, 5);
  for (const id of steps) {
    decode.push(...diffTraces(await runner.forward([id], { cache, trace: true, lastOnly: true }), forward(model, [id], { cache: ref, trace: true, lastOnly: true })));
  }
  cases.push({ name: `decoding ${steps.length} tokens one at a time`, passes: steps.length, diffs: decode });
  return cases;
}
