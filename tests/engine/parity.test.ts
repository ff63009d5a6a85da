// Parity with an independent implementation: our forward pass (engine/gpt.ts) against the GPT-2
// written separately in TensorFlow.js (tests/reference/tfjs-gpt.ts), on the same weights. Every
// traced tensor (embeddings, ln, q, k, v, raw, masked and softmaxed scores, attention and MLP
// outputs, both residuals, ln_f, logits) must agree to a max relative difference of 1e-4.
//
// On which weights: GPT-2's initialisation has every bias 0 and every LayerNorm gain 1, and its
// small weights make attention nearly uniform, so a forward pass that dropped a bias, a gain or
// the mask would pass on it. These tests run on busy weights instead (every parameter, biases and
// gains too, moved by 0.2·N(0, 1): attention rows are peaked, which the test checks) and on the
// shipped trained model.
//
// Relative difference: see tests/reference/compare.ts (elementwise, with a floor of a tenth of the
// tensor's largest magnitude, and why).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeConfig, type GPTConfig } from '../../engine/config';
import { createCache, forward, type Weights } from '../../engine/gpt';
import { readFileSync } from 'node:fs';
import { loadModel, initParams } from '../../engine/model';
import { Rng } from '../../engine/sampling';
import { formatDiff, maxRelDiff, worst, type Diff } from '../reference/compare';
import { TfjsDecoder, tfjsForward, tfjsLossAndGrads, tfjsTrace } from '../reference/tfjs-gpt';

// Busy weights make large activations (scores of order 20, residuals of 30), and float32 rounding
// grows with them through the layers: the worst tensor measured differs by 3.1e-5 (tiny preset,
// full context, last layer's attention weights), the shipped model by 7.4e-6. A dropped bias, gain
// or mask moves values by 1e-2 or more.
const TOLERANCE = 1e-4;

// rows r0..r0+n of every head of an attention tensor (nh, T, T)
function headRows(a: Float32Array, nh: number, T: number, r0: number, n: number): Float32Array {
  const out = new Float32Array(nh * n * T);
  for (let h = 0; h < nh; h++) out.set(a.subarray((h * T + r0) * T, (h * T + r0 + n) * T), h * n * T);
  return out;
}

function report(label: string, logits: Diff, att?: Diff) {
  console.log(`parity ${label}: logits ${formatDiff(logits)}` + (att ? `; attention ${formatDiff(att)}` : ''));
}

function randomIds(n: number, V: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % V;
  });
}

// the shipped model's size class, and a small one whose ratios of heads to channels differ
const configs: [string, GPTConfig][] = [
  ['tiny preset (4 layers, 4 heads)', makeConfig('tiny')],
  ['3 layers, 2 heads, C 48', makeConfig('micro', { vocab_size: 97, n_positions: 24, n_embd: 48, n_layer: 3, n_head: 2 })]
];

// Every parameter moved by 0.2·N(0, 1), biases and gains included (as train.test.ts's busyParams):
// attention rows come out peaked, and a missing bias or gain moves values by percents.
function busyWeights(config: GPTConfig, seed: number, scale = 0.2): Weights {
  const params = initParams(config, seed);
  const rng = new Rng(seed + 100);
  for (const x of Object.values(params)) for (let i = 0; i < x.length; i++) x[i] += scale * rng.normal();
  return { config, params };
}

// The model the site ships, read as the site reads it (static/models/index.json names it).
function shippedModel() {
  const dir = `static/models/${JSON.parse(readFileSync('static/models/index.json', 'utf8')).default}`;
  return loadModel({
    config: readFileSync(`${dir}/config.json`, 'utf8'),
    safetensors: new Uint8Array(readFileSync(`${dir}/model.safetensors`)),
    tokenizer: readFileSync(`${dir}/tokenizer.json`, 'utf8')
  });
}

// One tensor of ours against tfjs's: the same shape, -Infinity (the mask) in the same places, the
// finite values within the relative difference of compare.ts.
function diffTensor(ours: { shape: number[]; data: Float32Array } | undefined, ref: { shape: number[]; data: Float32Array }): Diff {
  if (!ours || ours.shape.join() !== ref.shape.join()) return { rel: Infinity, abs: Infinity, scale: 0 };
  const a = ours.data.slice();
  const b = ref.data.slice();
  for (let i = 0; i < b.length; i++) {
    if (Number.isFinite(a[i]) && Number.isFinite(b[i])) continue;
    if (a[i] !== b[i]) return { rel: Infinity, abs: Infinity, scale: 0 };
    a[i] = b[i] = 0;
  }
  return maxRelDiff(a, b);
}

// Every tensor of tfjs's trace against ours, worst first; a key tfjs traced that we did not fails.
function diffAll(ours: ReturnType<typeof forward>, ref: ReturnType<typeof tfjsTrace>): [string, Diff][] {
  const out: [string, Diff][] = [];
  for (const [key, t] of Object.entries(ref.trace)) if (key !== 'layers') out.push([key, diffTensor((ours.trace as never)[key], t as never)]);
  ref.trace.layers.forEach((layer, l) => {
    for (const [key, t] of Object.entries(layer)) out.push([`h.${l}.${key}`, diffTensor(ours.trace.layers[l]?.[key as 'q'], t!)]);
  });
  return out.sort((x, y) => y[1].rel - x[1].rel);
}

// how peaked attention is: the mean over rows (past the first few) of the row's largest weight
function meanRowMax(att: Float32Array, nh: number, T: number): number {
  let sum = 0;
  let n = 0;
  for (let h = 0; h < nh; h++) {
    for (let i = Math.min(3, T - 1); i < T; i++) {
      sum += Math.max(...att.subarray((h * T + i) * T, (h * T + i) * T + i + 1));
      n++;
    }
  }
  return sum / n;
}

beforeAll(async () => {
  await tf.setBackend('cpu'); // plain float32 JavaScript: deterministic
});

// Every traced tensor of one full pass, ours against tfjs's.
function checkTrace(model: Weights, label: string, ids: number[]) {
  const ours = forward(model, ids, { trace: true });
  const ref = tfjsTrace(model.config, model.params, ids);
  const diffs = diffAll(ours, ref);
  const [worstKey, worstDiff] = diffs[0];
  console.log(`parity ${label} (T=${ids.length}): ${diffs.length} tensors, worst ${worstKey} ${formatDiff(worstDiff)}`);
  expect(diffs.length).toBe(5 + 14 * model.config.n_layer);
  for (const [key, d] of diffs) expect(d.rel, key).toBeLessThanOrEqual(TOLERANCE);
  expect(maxRelDiff(ours.logits, ref.logits).rel).toBeLessThanOrEqual(TOLERANCE);
  return ours;
}

describe.each(configs)('forward parity with tfjs: %s', (_, config) => {
  const model = busyWeights(config, 7);
  const V = config.vocab_size;
  const nh = config.n_head;

  const checkFull = (label: string, ids: number[]) => checkTrace(model, label, ids);

  it('the weights are busy: biases and gains far from 0 and 1, attention far from uniform', () => {
    const ln = model.params['h.0.ln_1.weight'];
    expect(Math.max(...ln.map((g) => Math.abs(g - 1)))).toBeGreaterThan(0.3);
    expect(Math.max(...model.params['h.0.attn.c_attn.bias'].map(Math.abs))).toBeGreaterThan(0.3);
    const T = Math.min(config.n_positions, 16);
    const att = forward(model, randomIds(T, V, 5), { trace: ['attn.weights'] }).trace.layers[0]['attn.weights']!.data;
    const peak = meanRowMax(att, nh, T);
    console.log(`busy weights: mean largest attention weight per row ${peak.toFixed(3)} (uniform over the rows would be ≤ ${(1 / 4).toFixed(3)})`);
    expect(peak).toBeGreaterThan(0.5);
  });

  it('single token prompt (T = 1: attention is one weight of 1)', () => checkFull('one token', [3 % V]));
  it('short prompts of random ids', () => {
    for (const [i, n] of [2, 5, 11].entries()) checkFull(`random prompt ${i}`, randomIds(n, V, 100 + i));
  });
  it('a prompt of one token repeated (ties in every score row)', () => checkFull('repeated token', Array(9).fill(5 % V)));
  it('full-context prompt (T = n_positions: the last position embedding is used)', () => {
    checkFull('full context', randomIds(config.n_positions, V, 42));
  });

  it('KV-cache path: prefix, then the rest, equals the tfjs full forward', () => {
    const ids = randomIds(Math.min(config.n_positions, 20), V, 9);
    const ref = tfjsForward(config, model.params, ids);
    const T = ids.length;
    for (const split of [1, 7, T - 1]) {
      const cache = createCache(config);
      forward(model, ids.slice(0, split), { cache });
      const rest = forward(model, ids.slice(split), { cache, trace: ['attn.weights'] }); // logits (T - split, V)
      const logits = maxRelDiff(rest.logits, ref.logits.subarray(split * V));
      // ours: (nh, T - split, T) rows of the new tokens over all keys; tfjs: the same rows of (nh, T, T)
      const att = worst(ref.attention.map((a, l) => maxRelDiff(rest.trace.layers[l]['attn.weights']!.data, headRows(a, nh, T, split, T - split))));
      report(`cache ${split} + ${T - split}`, logits, att);
      expect(cache.length).toBe(T);
      expect(logits.rel).toBeLessThanOrEqual(TOLERANCE);
      expect(att.rel).toBeLessThanOrEqual(TOLERANCE);
    }
  });

  it('one token at a time through the KV cache equals the full forward at every position', () => {
    const ids = randomIds(Math.min(config.n_positions, 12), V, 11);
    const ref = tfjsForward(config, model.params, ids);
    const cache = createCache(config);
    const ours = new Float32Array(ids.length * V); // (T, V), row t from the step that fed token t
    ids.forEach((id, t) => ours.set(forward(model, [id], { cache }).logits, t * V));
    const d = maxRelDiff(ours, ref.logits);
    report(`token by token (T=${ids.length})`, d);
    expect(d.rel).toBeLessThanOrEqual(TOLERANCE);
  });

  // The benchmark times tfjs through TfjsDecoder; it must compute the same model as the reference.
  it('the benchmark\'s tfjs KV-cache decoder equals the tfjs full forward', async () => {
    const ids = randomIds(Math.min(config.n_positions, 16), V, 13);
    const ref = tfjsForward(config, model.params, ids);
    const dec = new TfjsDecoder(config, model.params);
    const split = 6;
    const first = await dec.forward(ids.slice(0, split)); // last position of the prefix, (V)
    const a = tf.tidy(() => {
      const r = dec.forwardTensors(ids.slice(split));
      return { logits: r.logits.dataSync() as Float32Array, att: r.attention.map((t) => t.dataSync() as Float32Array) };
    });
    dec.dispose();
    const T = ids.length;
    const logits = worst([maxRelDiff(first, ref.logits.subarray((split - 1) * V, split * V)), maxRelDiff(a.logits, ref.logits.subarray(split * V))]);
    const att = worst(ref.attention.map((r, l) => maxRelDiff(a.att[l], headRows(r, nh, T, split, T - split))));
    report(`tfjs decoder ${split} + ${T - split}`, logits, att);
    expect(logits.rel).toBeLessThanOrEqual(TOLERANCE);
    expect(att.rel).toBeLessThanOrEqual(TOLERANCE);
  });
});

describe('forward parity with tfjs: the shipped model', () => {
  const model = shippedModel();
  const tok = model.tokenizer;

  it('every traced tensor on a sentence of the corpus kind', () => {
    checkTrace(model, 'shipped model, a sentence', tok.encode('The jury said the city had no money for the new school, and the mayor agreed.'));
  });
  it('every traced tensor at full context (T = n_positions)', () => {
    const ids = tok.encode('It was a cold night in the town, and the men of the county came in from the fields. '.repeat(40)).slice(0, model.config.n_positions);
    expect(ids.length).toBe(model.config.n_positions);
    checkTrace(model, 'shipped model, full context', ids);
  });
});

// The training engineer's gradient check holds our backward pass against tfjsLossAndGrads, so the
// reference gradients are checked here on their own: the loss against our forward pass, and each
// tensor's largest gradient entry against a central finite difference of the tfjs loss.
describe('tfjs reference loss and gradients', () => {
  const config = makeConfig('micro');
  const params = initParams(config, 3);
  const inputs = [randomIds(6, config.vocab_size, 1), randomIds(6, config.vocab_size, 2)]; // (B, T)
  const targets = [randomIds(6, config.vocab_size, 3), randomIds(6, config.vocab_size, 4)]; // (B, T)

  it('the loss is the mean cross-entropy of our logits over every (b, t)', () => {
    const { loss } = tfjsLossAndGrads(config, params, inputs, targets);
    const V = config.vocab_size;
    let sum = 0;
    inputs.forEach((ids, b) => {
      const { logits } = forward({ config, params }, ids); // (T, V)
      ids.forEach((_, t) => {
        const row = logits.subarray(t * V, (t + 1) * V);
        const max = Math.max(...row);
        const lse = max + Math.log(row.reduce((a, z) => a + Math.exp(z - max), 0));
        sum += lse - row[targets[b][t]];
      });
    });
    const ours = sum / (inputs.length * inputs[0].length);
    console.log(`tfjs reference loss ${loss.toFixed(6)}, ours ${ours.toFixed(6)}`);
    expect(Math.abs(loss - ours)).toBeLessThan(1e-5 * ours);
  });

  // Along the unit direction u = g / |g| of each tensor's gradient, the loss must change at the rate
  // |g|: (L(θ + h·u) − L(θ − h·u)) / 2h = g·u = |g|. Moving along the whole gradient, not one entry,
  // keeps the change far above the float32 rounding of the loss (~5e-7), and a gradient filed under
  // the wrong name, transposed or scaled would not match.
  it('every parameter\'s gradient matches a finite difference along it', () => {
    const { grads } = tfjsLossAndGrads(config, params, inputs, targets);
    let worstRel = 0;
    for (const [name, g] of Object.entries(grads)) {
      expect(g.length).toBe(params[name].length);
      const norm = Math.sqrt(g.reduce((a, x) => a + x * x, 0));
      const at = (step: number) => {
        const p = { ...params, [name]: params[name].map((x, i) => x + (step * g[i]) / norm) };
        return tfjsLossAndGrads(config, p, inputs, targets).loss;
      };
      // a step that moves the loss by ~1e-4, 200 float32 ulps of it, within [1e-3, 0.1]
      const h = Math.min(0.1, Math.max(1e-3, 1e-4 / norm));
      const fd = (at(h) - at(-h)) / (2 * h);
      const rel = Math.abs(fd - norm) / norm;
      worstRel = Math.max(worstRel, rel);
      expect(rel, `${name}: |g| ${norm}, finite difference ${fd}`).toBeLessThan(2e-2);
    }
    console.log(`tfjs reference gradients vs finite differences: worst relative difference ${worstRel.toExponential(2)} over ${Object.keys(grads).length} tensors`);
  });
});
