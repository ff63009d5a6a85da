// The training recipes, in one place. `shipped` is the model the site runs: `npm run train`
// reproduces it bit for bit from these numbers (same seed, same data order, same kernels).
//
// Why this size: the budget is about 30 minutes of one CPU core, where our WASM SIMD trainer runs
// this config at about 2,300-2,500 tokens/s (600-1,800 when the machine is shared), so about 3.7M
// tokens fit: 1.7 passes over the Brown training split (2.16M tokens at vocab 1024). The shipped
// run took 26.5 minutes on a quiet 2-core machine and reached 1.4455 nats/char held out, 29% below
// the character trigram (an earlier run of 2,000 steps reached 1.575). 4 layers of 4 heads at
// n_embd 128 (0.94M parameters, 3.8 MB of f32) is the `tiny` preset the site's figures are drawn
// for; a narrower model would see more tokens in the same time but leaves fewer, blurrier heads
// to look at. Context 128 tokens (~340 characters) covers most Brown sentences.
import type { TrainRecipe } from './train';

export const shipped: TrainRecipe = {
  name: 'brown-tiny',
  seed: 1337,
  vocabSize: 1024,
  nLayer: 4,
  nEmbd: 128,
  nHead: 4,
  nPositions: 128,
  batchSize: 8,
  seqLen: 128,
  steps: 3600, // 3600 · 8 · 128 = 3.69M tokens, about 1.7 passes over the training split
  maxLr: 2e-3,
  minLr: 2e-4,
  warmupSteps: 100,
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.99, // small batches: a longer memory for the squared gradients (nanoGPT's choice for its small runs)
  gradClip: 1
};

// A sub-minute run for the tests: a small model on part of the corpus, enough steps to see the
// loss fall well below its starting value (ln V).
export const quick: TrainRecipe = {
  name: 'brown-quick',
  seed: 1,
  vocabSize: 512,
  nLayer: 2,
  nEmbd: 32,
  nHead: 2,
  nPositions: 32,
  batchSize: 8,
  seqLen: 32,
  steps: 150,
  maxLr: 1e-2,
  minLr: 1e-3,
  warmupSteps: 5,
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.99,
  gradClip: 1
};
