// The peer for `npm run bench -- train`: the same GPT-2 trained in TensorFlow.js, forward pass from
// tests/reference/tfjs-gpt.ts, backward by tfjs autodiff, and the same update as ours (AdamW with
// decoupled weight decay on the matrices, global gradient-norm clipping). Written to be fast on
// tfjs-wasm, as a careful tfjs user would write it:
//   - every matmul, in the forward pass and in its gradient, is a plain (N, K) @ (K, M): tfjs-wasm
//     runs a matmul with a transposed operand several times slower, so the operand is transposed
//     explicitly first (a copy, linear in its size) and the product is a plain one;
//   - bias adds are fused into the matmuls;
//   - the embedding's gradient is a scatter-add of the output gradient into the rows of the ids
//     (tfjs-wasm has no kernel for gather's own gradient, and a one-hot matmul would cost as much as
//     the output head);
//   - the whole step (forward, backward, clip, update) runs in one tf.tidy, nothing leaves the
//     backend but the loss.
// B = batch, T = time, C = channels, V = vocab, N = B·T rows.
import * as tf from '@tensorflow/tfjs';
import type { GPTConfig } from '../engine/config';
import type { Params } from '../engine/gpt';
import { crossEntropyTf, gptForwardTf, toTensors, type Ops } from '../tests/reference/tfjs-gpt';

type Grad = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];
type Custom = (...args: tf.Tensor[]) => tf.Tensor;
// tf.customGrad's declared type takes one argument list shape; ours vary, so it is cast once here.
const customGrad = (f: (...args: never[]) => { value: tf.Tensor; gradFunc: Grad }) => tf.customGrad(f as never) as unknown as Custom;

const linear = customGrad((x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.fused.matMul({ a: x, b: w, bias: b }), // (N, OC)
    gradFunc: (dy, [x, w]) => [
      tf.matMul(dy, tf.transpose(w)), // dx (N, IC) = dy (N, OC) @ wᵀ (OC, IC)
      tf.matMul(tf.transpose(x), dy), // dw (IC, OC) = xᵀ (IC, N) @ dy (N, OC)
      tf.sum(dy, 0) // db (OC)
    ]
  };
});

const head = customGrad((h: tf.Tensor2D, wte: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([h, wte]);
  return {
    value: tf.matMul(h, tf.transpose(wte)), // (N, V) = h (N, C) @ wteᵀ (C, V)
    gradFunc: (dy, [h, wte]) => [
      tf.matMul(dy, wte), // dh (N, C) = dy (N, V) @ wte (V, C)
      tf.matMul(tf.transpose(dy), h) // dwte (V, C) = dyᵀ (V, N) @ h (N, C)
    ]
  };
});

export const fastTrainOps: Ops = {
  linear: (x, w, b) => linear(x, w, b) as tf.Tensor2D,
  head: (h, wte) => head(h, wte) as tf.Tensor2D,
  embed: (ids, wte) =>
    customGrad((w: tf.Tensor2D) => ({
      value: tf.gather(w, ids), // (N, C)
      // scatterND adds the updates of repeated indices, which is exactly the gradient of a gather
      gradFunc: (dy) => [tf.scatterND(tf.reshape(ids, [-1, 1]), dy, w.shape)]
    }))(wte) as tf.Tensor2D
};

export interface TfjsTrainOptions {
  batchSize: number; // B
  seqLen: number; // T
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number; // decoupled, on the matrices only (as engine/train/adamw.ts)
  gradClip: number; // max global gradient norm
}

const decays = (name: string) => /^(wte|wpe)\.weight$|\.c_(attn|proj|fc)\.weight$/.test(name);

export class TfjsTrainer {
  readonly vars: Record<string, tf.Variable> = {};
  private m: Record<string, tf.Variable> = {};
  private v: Record<string, tf.Variable> = {};
  private t = 0;

  constructor(readonly config: GPTConfig, params: Params, readonly opts: TfjsTrainOptions, readonly ops: Ops = fastTrainOps) {
    for (const [name, t] of Object.entries(toTensors(config, params))) {
      this.vars[name] = tf.variable(t, true, `train/${name}`);
      this.m[name] = tf.variable(tf.zerosLike(t), false);
      this.v[name] = tf.variable(tf.zerosLike(t), false);
      t.dispose();
    }
  }

  // Mean cross-entropy of a (B, T) batch and the gradient of every parameter, by our names.
  lossAndGrads(inputs: Int32Array, targets: Int32Array): { loss: tf.Scalar; grads: Record<string, tf.Tensor> } {
    const { batchSize: B, seqLen: T } = this.opts;
    const idx = tf.tensor2d(inputs, [B, T], 'int32');
    const tgt = tf.tensor2d(targets, [B, T], 'int32');
    const { value, grads } = tf.variableGrads(
      () => crossEntropyTf(gptForwardTf(this.config, this.vars, idx, { ops: this.ops }).logits, tgt),
      Object.values(this.vars)
    );
    const byName: Record<string, tf.Tensor> = {};
    for (const name of Object.keys(this.vars)) byName[name] = grads[`train/${name}`];
    return { loss: value, grads: byName };
  }

  // One update on a (B, T) batch; returns the batch's loss before the update.
  step(inputs: Int32Array, targets: Int32Array): number {
    const { lr, beta1, beta2, eps, weightDecay, gradClip } = this.opts;
    this.t++;
    const c1 = 1 - beta1 ** this.t;
    const c2 = 1 - beta2 ** this.t;
    const loss = tf.tidy(() => {
      const { loss, grads } = this.lossAndGrads(inputs, targets);
      const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
      const scale = tf.minimum(1, tf.div(gradClip, norm)); // shrink only when the norm exceeds the clip
      for (const [name, p] of Object.entries(this.vars)) {
        const g = tf.mul(grads[name], scale);
        const m = tf.add(tf.mul(beta1, this.m[name]), tf.mul(1 - beta1, g));
        const v = tf.add(tf.mul(beta2, this.v[name]), tf.mul(1 - beta2, tf.square(g)));
        this.m[name].assign(m);
        this.v[name].assign(v);
        let update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), eps));
        if (decays(name)) update = tf.add(update, tf.mul(weightDecay, p));
        p.assign(tf.sub(p, tf.mul(lr, update)));
      }
      return loss;
    });
    const value = loss.dataSync()[0];
    loss.dispose();
    return value;
  }

  dispose(): void {
    for (const r of [this.vars, this.m, this.v]) for (const t of Object.values(r)) t.dispose();
  }
}
