import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { makeConfig } from '../engine/config';
import { initParams } from '../engine/model';
import { TfjsTrainer, fastTrainOps } from './tfjs-train';
import type { Ops } from '../tests/reference/tfjs-gpt';
await tf.setBackend('wasm');
const config = makeConfig('tiny');
const B = 8, T = 128;
const flagOps: Ops = { ...fastTrainOps, linear: (x, w, b) => tf.fused.matMul({ a: x, b: w, bias: b }) as tf.Tensor2D, head: (h, wte) => tf.matMul(h, wte, false, true) };
const inputs = Int32Array.from({ length: B * T }, (_, i) => (i * 31) % 1024);
const targets = Int32Array.from({ length: B * T }, (_, i) => (i * 17) % 1024);
for (const [name, ops] of [['fast', fastTrainOps], ['flags', flagOps], ['fast', fastTrainOps], ['flags', flagOps]] as const) {
  const tr = new TfjsTrainer(config, initParams(config, 1), { batchSize: B, seqLen: T, lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1 }, ops);
  tr.step(inputs, targets);
  const t0 = performance.now();
  for (let i = 0; i < 3; i++) tr.step(inputs, targets);
  console.log(name, ((performance.now() - t0) / 3).toFixed(0), 'ms/step');
  tr.dispose();
}
// profile one step
const tr = new TfjsTrainer(config, initParams(config, 1), { batchSize: B, seqLen: T, lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1 });
tr.step(inputs, targets);
const prof = await tf.profile(() => { tr.step(inputs, targets); });
const by: Record<string, number> = {};
for (const k of prof.kernels) by[k.name] = (by[k.name] ?? 0) + (k.kernelTimeMs as number);
console.log(Object.entries(by).sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `${k} ${v.toFixed(1)}`).join('\n'));
