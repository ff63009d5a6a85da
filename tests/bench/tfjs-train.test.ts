// The tfjs training peer of `npm run bench -- train` must train the same model as ours, or its
// tokens/s would be a number about a different program. Its hand-written gradients (transposes made
// explicit, scatter-add for the embedding) are checked against plain tfjs autodiff, and a few of its
// steps against our trainer on the same batches.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { makeConfig } from '../../engine/config';
import { initParams } from '../../engine/model';
import { DataLoader } from '../../engine/train/data';
import { trainSteps } from '../../engine/train/train';
import { TfjsTrainer } from '../../bench/tfjs-train';
import { formatDiff, maxRelDiff } from '../reference/compare';
import { tfjsLossAndGrads } from '../reference/tfjs-gpt';

const config = makeConfig('micro', { n_positions: 16 });
const B = 3;
const T = 8;
const opts = { batchSize: B, seqLen: T, lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1 };
// a token stream with repeats, so the embedding gradient has to add several rows into one
const tokens = Int32Array.from({ length: 400 }, (_, i) => (i * 7 + (i >> 3)) % 40);

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('tfjs training peer (bench/tfjs-train.ts)', () => {
  it.each(['cpu', 'wasm'])('gradients on %s equal plain tfjs autodiff (1e-4)', async (backend) => {
    const params = initParams(config, 5);
    const inputs = new Int32Array(B * T);
    const targets = new Int32Array(B * T);
    new DataLoader(tokens, B, T, 1).batch(0, inputs, targets);
    await tf.setBackend('cpu');
    const rows = (a: Int32Array) => Array.from({ length: B }, (_, b) => Array.from(a.subarray(b * T, (b + 1) * T)));
    const ref = tfjsLossAndGrads(config, params, rows(inputs), rows(targets));
    expect(await tf.setBackend(backend)).toBe(true);
    const peer = new TfjsTrainer(config, params, opts);
    const { loss, grads } = tf.tidy(() => {
      const r = peer.lossAndGrads(inputs, targets);
      return { loss: r.loss.dataSync()[0], grads: Object.fromEntries(Object.entries(r.grads).map(([k, g]) => [k, g.dataSync() as Float32Array])) };
    });
    peer.dispose();
    expect(Math.abs(loss - ref.loss)).toBeLessThan(1e-5 * ref.loss);
    let worstRel = 0;
    for (const [name, g] of Object.entries(ref.grads)) {
      const d = maxRelDiff(grads[name], g);
      worstRel = Math.max(worstRel, d.rel);
      expect(d.rel, `${name}: ${formatDiff(d)}`).toBeLessThanOrEqual(1e-4);
    }
    console.log(`tfjs peer on ${backend}: loss ${loss} vs ${ref.loss}, worst gradient max rel ${worstRel.toExponential(2)}`);
  });

  it('its losses over 4 steps follow our trainer on the same init and batches', async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
    const ours = trainSteps(config, tokens, { batchSize: B, seqLen: T, steps: 3, warmup: 1, seed: 1 }).losses;
    const peer = new TfjsTrainer(config, initParams(config, 1), opts);
    const data = new DataLoader(tokens, B, T, 1);
    const inputs = new Int32Array(B * T);
    const targets = new Int32Array(B * T);
    const theirs = ours.map((_, step) => {
      data.batch(step, inputs, targets);
      return peer.step(inputs, targets);
    });
    peer.dispose();
    console.log(`losses, ours: ${ours.map((x) => x.toFixed(5)).join(' ')}; tfjs: ${theirs.map((x) => x.toFixed(5)).join(' ')}`);
    // the first loss is before any update; the later ones show the updates agree too
    for (let i = 0; i < ours.length; i++) expect(Math.abs(ours[i] - theirs[i])).toBeLessThan(1e-4 * ours[i]);
    expect(ours[ours.length - 1]).toBeLessThan(ours[0]);
  });
});
