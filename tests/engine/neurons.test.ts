import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultModelDir, loadModelDir } from '../../engine/cli/common';
import { createRunner } from '../../engine/backend';
import { forward } from '../../engine/gpt';
import { fingerprint, packNeurons, sampleWindows, topActivations, unpackNeuron, type NeuronsFile } from '../../engine/neurons';
import { errorCode, testModel } from './helpers';

describe('top activations', () => {
  const model = testModel('micro', {}, 5);
  const F = 4 * model.config.n_embd;
  const windows = [model.tokenizer.encode('The cat sat on the mat.'), model.tokenizer.encode('A dog met a cat there.')].map((w) => w.slice(0, 16));
  const traceOf = async (ids: readonly number[]) => forward(model, ids, { trace: ['mlp.act'] }).trace;

  it('keeps each neuron’s k largest activations, largest first, as a brute-force sort finds them', async () => {
    const k = 3;
    const best = await topActivations(model.config, windows, k, traceOf);
    for (let l = 0; l < model.config.n_layer; l++) {
      const all: { w: number; t: number; act: number; f: number }[] = [];
      windows.forEach((ids, w) => {
        const act = forward(model, ids, { trace: ['mlp.act'] }).trace.layers[l]['mlp.act']!.data; // (T, 4C)
        for (let t = 0; t < ids.length; t++) for (let f = 0; f < F; f++) all.push({ w, t, act: act[t * F + f], f });
      });
      for (const f of [0, 7, F - 1]) {
        const want = all.filter((e) => e.f === f).sort((a, b) => b.act - a.act || a.w - b.w || a.t - b.t).slice(0, k);
        expect(best[l][f].map((e) => [e.window, e.t, e.act])).toEqual(want.map((e) => [e.w, e.t, e.act]));
      }
    }
  });

  it('packs and unpacks; an unknown neuron is a clear error', async () => {
    const best = await topActivations(model.config, windows, 2, traceOf);
    const file = packNeurons('m', fingerprint(model.config, model.params), 'test', 2, windows, best);
    const back = unpackNeuron(file, 1, 3);
    expect(back.map((e) => [e.window, e.t])).toEqual(best[1][3].map((e) => [e.window, e.t]));
    back.forEach((e, i) => expect(e.act).toBeCloseTo(best[1][3][i].act, 4));
    expect(errorCode(() => unpackNeuron(file, 9, 0))).toBe('no_neuron');
  });

  it('the fingerprint changes when one weight changes', () => {
    const a = fingerprint(model.config, model.params);
    model.params['h.1.mlp.c_fc.weight'][5] += 1e-3;
    expect(fingerprint(model.config, model.params)).not.toBe(a);
    model.params['h.1.mlp.c_fc.weight'][5] -= 1e-3;
  });

  it('the sample skips short paragraphs and spreads over the list', () => {
    const paras = Array.from({ length: 10 }, (_, i) => (i % 2 ? 'short' : `paragraph ${i} `.repeat(20)));
    const w = sampleWindows(paras, (s) => Array.from(s, (c) => c.charCodeAt(0)), 3, 12);
    expect(w.length).toBeGreaterThan(0);
    w.forEach((ids) => expect(ids.length).toBe(12));
    expect(errorCode(() => sampleWindows([], () => [], 3, 12))).toBe('empty_sample');
  });
});

// The file the site ships must describe the shipped model: same weights, and a few neurons'
// lists recomputed here from the sample it names.
describe('shipped neurons.json', () => {
  const dir = defaultModelDir();
  const path = join(dir, 'neurons.json');
  it('exists, is small, and matches the model (else run npm run neurons)', async () => {
    expect(existsSync(path), `${path} is missing: run npm run neurons`).toBe(true);
    const text = readFileSync(path, 'utf8');
    expect(text.length).toBeLessThan(1.5e6);
    const file = JSON.parse(text) as NeuronsFile;
    const model = loadModelDir(dir);
    expect(file.fingerprint, 'neurons.json was computed for other weights: run npm run neurons').toBe(fingerprint(model.config, model.params));
    const F = 4 * model.config.n_embd;
    expect(file.layers).toHaveLength(model.config.n_layer);
    file.layers.forEach((layer) => expect(layer).toHaveLength(F));
    const check = [[0, 0], [1, 100], [model.config.n_layer - 1, F - 1]];
    // the WASM CPU runner (checked against forward() in its own tests) keeps this to seconds
    const runner = await createRunner(model, { backend: 'cpu' });
    const best = await topActivations(model.config, file.windows, file.k, async (ids) => (await runner.forward(ids, { trace: ['mlp.act'], lastOnly: true })).trace);
    for (const [l, f] of check) {
      const stored = unpackNeuron(file, l, f);
      expect(stored.map((e) => [e.window, e.t])).toEqual(best[l][f].map((e) => [e.window, e.t]));
      stored.forEach((e, i) => expect(Math.abs(e.act - best[l][f][i].act)).toBeLessThan(1e-3));
    }
  }, 180_000);
});
