// A training run small enough to watch: a 2-layer model on a slice of Brown, trained by the same
// Trainer and kernels as `npm run train`, a step at a time, so a page can draw it as it learns.
// No Node or browser APIs: the training chapter runs it in the engine worker, and the tests run
// the same recipe in Node and compare the first losses.
//
// Legend: B batch, T time, C channels, V vocab, nh heads.
import { parseConfig, type GPTConfig } from '../config';
import { EngineError } from '../errors';
import { forward } from '../gpt';
import { distribution, Rng, sample } from '../sampling';
import { Tokenizer } from '../tokenizer';
import { tokenStream } from './data';
import { getParams, trainForward, createTrainState, type TrainKernels, type TrainState } from './gpt-train';
import { Trainer, type TrainRecipe } from './train';

// static/data/brown-live.json, written by `npm run training-data`
export interface LivePack {
  source: string;
  tokenizer: object; // our tokenizer.json format: a small BPE trained on `train`
  train: string[]; // the training paragraphs (a slice of the Brown training split)
  heldout: string[]; // held-out paragraphs (from the held-out split) for the held-out curve
  sentence: string; // the fixed sentence whose attention pattern is drawn
  prompt: string; // what each sample starts from
}

export const liveRecipe: TrainRecipe = {
  name: 'brown-live',
  seed: 1,
  vocabSize: 512,
  nLayer: 2,
  nEmbd: 64,
  nHead: 4,
  nPositions: 64,
  batchSize: 4,
  seqLen: 64, // 256 tokens a step: one step stays short enough not to hold up other worker calls
  steps: 3000, // the learning-rate schedule's length; the page may stop anywhere before
  maxLr: 1e-2,
  minLr: 1e-3,
  warmupSteps: 30,
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.99,
  gradClip: 1,
  kernels: 'wasm-simd-fused'
};

// Bytes of WASM memory the run needs: a generous bound for the recipe above (training state,
// held-out state, optimizer moments), measured well under this.
export const liveMemoryBytes = 64 * 2 ** 20;

export function parseLivePack(json: unknown): LivePack {
  const p = json as Partial<LivePack> | null;
  if (!p || typeof p !== 'object' || !p.tokenizer || !Array.isArray(p.train) || !Array.isArray(p.heldout) || typeof p.sentence !== 'string' || typeof p.prompt !== 'string') {
    throw new EngineError('bad_data', 'The live-training data file is malformed: expected tokenizer, train, heldout, sentence and prompt.');
  }
  return p as LivePack;
}

export interface HeldoutPoint {
  step: number;
  loss: number; // mean nats per token over the fixed held-out windows
}

export class LiveRun {
  readonly tokenizer: Tokenizer;
  readonly config: GPTConfig;
  readonly trainer: Trainer;
  readonly trainTokens: number; // tokens in the training stream
  readonly #heldout: TrainState; // (B, T) for the held-out windows
  readonly #heldoutStream: Int32Array;
  readonly sentenceIds: number[];
  readonly promptIds: number[];

  constructor(
    readonly pack: LivePack,
    kernels: TrainKernels,
    readonly recipe: TrainRecipe = liveRecipe
  ) {
    this.tokenizer = Tokenizer.fromJSON(pack.tokenizer);
    const eot = this.tokenizer.eotId;
    this.config = parseConfig({
      vocab_size: this.tokenizer.vocabSize, n_positions: recipe.nPositions, n_embd: recipe.nEmbd, n_layer: recipe.nLayer,
      n_head: recipe.nHead, eos_token_id: eot
    });
    const encode = (t: string) => this.tokenizer.encode(t);
    const stream = tokenStream(pack.train, encode, eot);
    this.trainTokens = stream.length;
    this.trainer = new Trainer(this.config, recipe, stream, kernels);
    this.#heldout = createTrainState(this.config, recipe.batchSize, recipe.seqLen, kernels);
    this.#heldoutStream = tokenStream(pack.heldout, encode, eot);
    if (this.#heldoutStream.length < recipe.batchSize * recipe.seqLen + 1) {
      throw new EngineError('bad_data', `The held-out paragraphs make ${this.#heldoutStream.length} tokens; the held-out curve needs ${recipe.batchSize * recipe.seqLen + 1}.`);
    }
    this.sentenceIds = encode(pack.sentence).slice(0, recipe.nPositions);
    this.promptIds = [eot, ...encode(pack.prompt)];
  }

  get step(): number {
    return this.trainer.step;
  }

  // Tokens trained on so far.
  get tokensSeen(): number {
    return this.trainer.step * this.recipe.batchSize * this.recipe.seqLen;
  }

  next() {
    return this.trainer.next();
  }

  // The loss on B consecutive, non-overlapping windows from the start of the held-out stream (the
  // same windows every time, so the curve's changes are the model's), with the current weights.
  heldoutLoss(): HeldoutPoint {
    const s = this.#heldout;
    s.params.set(this.trainer.params);
    const { B, T } = s;
    const inputs = this.#heldoutStream.subarray(0, B * T);
    const targets = this.#heldoutStream.subarray(1, B * T + 1);
    return { step: this.step, loss: trainForward(s, inputs, targets) };
  }

  // A sample from the current weights: the prompt continued for `tokens` tokens at temperature
  // `temperature`, seeded, so a given step always writes the same sample.
  sample(tokens = 40, temperature = 0.8, seed = 7): { ids: number[]; text: string } {
    const weights = { config: this.config, params: getParams(this.trainer.state) };
    const rng = new Rng(seed);
    const ids = [...this.promptIds];
    const out: number[] = [];
    const first = forward(weights, ids, { lastOnly: true });
    let logits = first.logits;
    const cache = first.cache;
    for (let i = 0; i < tokens && ids.length < this.config.n_positions; i++) {
      const id = sample(distribution(logits, { temperature }), rng.next());
      if (id === this.config.eos_token_id) break;
      out.push(id);
      ids.push(id);
      logits = forward(weights, [id], { cache, lastOnly: true }).logits;
    }
    return { ids: out, text: this.tokenizer.decode(out) };
  }

  // One head's attention weights over the fixed sentence, (T, T) row by row.
  attention(layer: number, head: number): { pieces: string[]; weights: number[][] } {
    const { n_layer, n_head } = this.config;
    if (!Number.isInteger(layer) || layer < 0 || layer >= n_layer || !Number.isInteger(head) || head < 0 || head >= n_head) {
      throw new EngineError('bad_argument', `There is no head ${layer}.${head}: the live model has ${n_layer} layers of ${n_head} heads.`);
    }
    const weights = { config: this.config, params: getParams(this.trainer.state) };
    const ids = this.sentenceIds;
    const T = ids.length;
    const { trace } = forward(weights, ids, { trace: ['attn.weights'] });
    const w = trace.layers[layer]['attn.weights']!.data; // (nh, T, T)
    return {
      pieces: ids.map((id) => this.tokenizer.tokenText(id)),
      weights: Array.from({ length: T }, (_, i) => Array.from(w.subarray((head * T + i) * T, (head * T + i + 1) * T)))
    };
  }
}
