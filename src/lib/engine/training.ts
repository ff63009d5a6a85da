// The training chapter's questions to the engine: how surprised the model is by each token of a
// text (the loss, token by token), the n-gram baselines against the model on held-out text, and a
// small model trained live in this worker.
import { checkTokens } from '../../../engine/gpt';
import { tokenSurprise } from '../../../engine/surprise';
import { guessSteps, type GuessStep } from '../../../engine/guess';
import { EngineError } from '../../../engine/errors';
import { packModel, parseHeldoutPack, scoreNgrams, type HeldoutPack } from '../../../engine/heldout-pack';
import type { CharNgram } from '../../../engine/ngram';
import { scoredChars } from '../../../engine/ngram';
import { tokenStream } from '../../../engine/train/data';
import { StreamScorer } from '../../../engine/train/evaluate';
import { createTrainState, setParams, trainForward, trainStateFloats, wasmKernels, type TrainState } from '../../../engine/train/gpt-train';
import { fusedKernels } from '../../../engine/train/gpt-train';
import { LiveRun, liveMemoryBytes, parseLivePack, type HeldoutPoint } from '../../../engine/train/live';
import type { StepResult, TrainRecipe } from '../../../engine/train/train';
import type { GPTConfig } from '../../../engine/config';
import type { EngineContext, PassTiming } from './api';

export interface LiveInfo {
  recipe: TrainRecipe;
  config: GPTConfig;
  nParams: number;
  trainTokens: number; // tokens in the training slice
  paragraphs: number; // training paragraphs in the slice
  step: number;
}

export interface LiveSnapshot {
  step: number;
  sample?: { text: string }; // the prompt's continuation at this step
  attention?: { layer: number; head: number; pieces: string[]; weights: number[][] }; // (T, T)
}

export interface LiveProgress {
  steps: StepResult[]; // the steps just taken, in order
  heldout: HeldoutPoint[]; // held-out losses measured during them
  snapshots: LiveSnapshot[];
  step: number; // steps done in all
  tokens: number; // tokens trained on in all
  trainMs: number; // time spent in training steps in all
}

export interface LiveOptions {
  heldoutEvery: number; // measure the held-out loss every this many steps
  sampleEvery: number; // write a sample and redraw the head every this many steps
  layer: number;
  head: number;
}

export interface HeldoutScore {
  paragraphs: number; // how many held-out paragraphs were scored (from the first)
  of: number; // held-out paragraphs in all
  chars: number; // characters scored: code points plus one end per paragraph
  tokens: number; // tokens the model predicted
  model: number; // the Transformer, nats per character
  natsPerToken: number;
  unigram: number; // the character n-grams, nats per character
  bigram: number;
  trigram: number;
  ms: number; // the model's scoring time
}

export type TextScore = Omit<HeldoutScore, 'paragraphs' | 'of' | 'ms'>;

// Give the worker's message loop a turn, so that other calls get in between two batches.
const yieldToOthers = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export interface TextSurprise {
  ids: number[]; // the text's tokens, each one predicted from <|endoftext|> and the tokens before it
  pieces: string[];
  nats: number[]; // (T) −log P(token | before), nats
  cut: number; // tokens past the context, left out
  pass: PassTiming | null; // null when there was nothing to run
}

export interface TextGuesses {
  ids: number[]; // the sentence's tokens; the first is given, each later one is guessed
  pieces: string[];
  steps: (GuessStep & { pieces: string[] })[]; // per guessed position; pieces: top's tokens as text
  cut: number; // tokens past the context, left out
  pass: PassTiming | null; // null when there was nothing to run
}

// static/data/brown-heldout.json (its URL from the page), parsed.
export async function downloadHeldoutPack(url: string): Promise<HeldoutPack> {
  const response = await fetch(url).catch((e) => {
    throw new EngineError('download_failed', `Could not download the held-out text: ${e instanceof Error ? e.message : String(e)}.`);
  });
  if (!response.ok) throw new EngineError('download_failed', `Could not download the held-out text: the server answered ${response.status}.`);
  return parseHeldoutPack(await response.json());
}

// A training state for scoring B windows of the full context with the training forward pass, as
// `npm run eval` scores, in WASM memory sized to it (with room for the kernels' own packing
// buffers; at least `least`, what the shipped model has always had). Past 1 GiB (GPT-2 small's
// would take over 5 GiB) the figure says so in words instead of failing an allocation.
const scoringLimit = 2 ** 30;
export async function scoringState(config: GPTConfig, B: number, least: number): Promise<TrainState> {
  const need = 4 * trainStateFloats(config, B, config.n_positions) + 48 * 2 ** 20;
  const bytes = Math.max(least, Math.ceil(need / 65536) * 65536);
  if (bytes > scoringLimit) {
    const gb = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
    throw new EngineError(
      'too_large',
      `Scoring text as npm run eval does runs the model's training forward pass, whose buffers for this model (context ${config.n_positions.toLocaleString('en')}, ` +
        `vocabulary ${config.vocab_size.toLocaleString('en')}) would take ${gb(bytes)}, more than the ${gb(scoringLimit)} this page gives it. ` +
        `The other figures run on this model; this one needs a smaller one.`
    );
  }
  return createTrainState(config, B, config.n_positions, await wasmKernels(bytes));
}

export function createTrainingApi(ctx: EngineContext) {
  const packs = new Map<string, Promise<{ pack: HeldoutPack; ngram: CharNgram }>>();
  function heldoutPack(url: string) {
    let p = packs.get(url);
    if (!p) {
      p = (async () => {
        const pack = await downloadHeldoutPack(url);
        return { pack, ngram: packModel(pack) };
      })();
      p.catch(() => packs.delete(url)); // a failed download may be tried again
      packs.set(url, p);
    }
    return p;
  }

  // The training forward pass over the loaded model, as `npm run eval` scores with it, for B = 2
  // windows at a time (each window's numbers do not depend on B). One scoring at a time uses it.
  let scoring: Promise<TrainState> | null = null;
  let scoringFor: object | null = null;
  let scoreQueue: Promise<unknown> = Promise.resolve();
  function scorer(): Promise<TrainState> {
    const m = ctx.requireModel();
    if (!scoring || scoringFor !== m) {
      scoringFor = m;
      scoring = (async () => {
        const s = await scoringState(m.config, 2, 96 * 2 ** 20);
        setParams(s, m.params);
        return s;
      })();
    }
    return scoring;
  }
  function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
    const r = scoreQueue.then(work);
    scoreQueue = r.catch(() => undefined);
    return r;
  }

  // Summed token losses over a paragraph stream (<|endoftext|> before each paragraph and after the
  // last), scored as `npm run eval` scores: windows of n_positions sliding by half of it. A stream
  // shorter than one window is scored in one padded window (causal: the padding after the text
  // changes nothing before it).
  async function streamNats(s: TrainState, stream: Int32Array, onProgress?: (done: number, total: number) => void): Promise<{ nats: number; tokens: number }> {
    const T = s.T;
    if (stream.length >= T + 1) {
      const sc = new StreamScorer(s, stream, T >> 1);
      while (!sc.done) {
        sc.next();
        onProgress?.(sc.scored, sc.windows.length);
        await yieldToOthers();
      }
      return { nats: sc.nats, tokens: sc.tokens };
    }
    const k = stream.length - 1; // tokens to predict
    const inputs = new Int32Array(s.B * T).fill(stream[0]); // (B, T)
    const targets = new Int32Array(s.B * T).fill(stream[0]); // (B, T)
    inputs.set(stream.subarray(0, k));
    targets.set(stream.subarray(1, k + 1));
    trainForward(s, inputs, targets);
    let nats = 0;
    for (let t = 0; t < k; t++) nats += s.acts.losses[t];
    return { nats, tokens: k };
  }

  // The live training run: one at a time, in this worker, driven by the page a few steps a call.
  let live: LiveRun | null = null;
  let liveMs = 0;
  let liveQueue: Promise<unknown> = Promise.resolve();
  function liveSerial<T>(work: () => Promise<T>): Promise<T> {
    const r = liveQueue.then(work);
    liveQueue = r.catch(() => undefined);
    return r;
  }
  function requireLive(): LiveRun {
    if (!live) throw new EngineError('no_live_run', 'The live training run has not been started: call liveInit first.');
    return live;
  }
  function snapshot(run: LiveRun, opts: Pick<LiveOptions, 'layer' | 'head'>): LiveSnapshot {
    return { step: run.step, sample: { text: run.sample().text }, attention: { layer: opts.layer, head: opts.head, ...run.attention(opts.layer, opts.head) } };
  }
  function liveInfo(run: LiveRun): LiveInfo {
    return {
      recipe: run.recipe, config: run.config, nParams: run.trainer.params.length, trainTokens: run.trainTokens,
      paragraphs: run.pack.train.length, step: run.step
    };
  }
  const livePacks = new Map<string, Promise<unknown>>();

  return {
    // Start (or restart, from step 0) the live run on the data at `url`; answers with the untrained
    // model's held-out loss, sample and head.
    liveInit(url: string, opts: Pick<LiveOptions, 'layer' | 'head'>): Promise<{ info: LiveInfo; heldout: HeldoutPoint; snapshot: LiveSnapshot }> {
      return liveSerial(async () => {
        let json = livePacks.get(url);
        if (!json) {
          json = fetch(url).then((r) => {
            if (!r.ok) throw new EngineError('download_failed', `Could not download the training text: the server answered ${r.status}.`);
            return r.json();
          }, (e) => {
            throw new EngineError('download_failed', `Could not download the training text: ${e instanceof Error ? e.message : String(e)}.`);
          });
          json.catch(() => livePacks.delete(url));
          livePacks.set(url, json);
        }
        const pack = parseLivePack(await json);
        live = null; // the old run's memory goes with it
        live = new LiveRun(pack, await fusedKernels(liveMemoryBytes));
        liveMs = 0;
        return { info: liveInfo(live), heldout: live.heldoutLoss(), snapshot: snapshot(live, opts) };
      });
    },

    // Up to n more steps, yielding to other calls after each one (a step is the unit that cannot
    // be cut), with the held-out loss, a sample and the head redrawn on their schedules.
    liveSteps(n: number, opts: LiveOptions): Promise<LiveProgress> {
      return liveSerial(async () => {
        const run = requireLive();
        if (!Number.isInteger(n) || n < 1 || n > 1000) throw new EngineError('bad_argument', `Steps per call must be 1..1000, got ${n}.`);
        const steps: StepResult[] = [];
        const heldout: HeldoutPoint[] = [];
        const snapshots: LiveSnapshot[] = [];
        for (let i = 0; i < n; i++) {
          const r = run.next();
          liveMs += r.ms;
          steps.push(r);
          if (run.step % opts.heldoutEvery === 0) heldout.push(run.heldoutLoss());
          if (run.step % opts.sampleEvery === 0) snapshots.push(snapshot(run, opts));
          await yieldToOthers();
        }
        return { steps, heldout, snapshots, step: run.step, tokens: run.tokensSeen, trainMs: liveMs };
      });
    },

    // One head of the live model on the fixed sentence, now (the reader picked another head).
    liveAttention(layer: number, head: number): Promise<LiveSnapshot> {
      return liveSerial(async () => {
        const run = requireLive();
        return { step: run.step, attention: { layer, head, ...run.attention(layer, head) } };
      });
    },

    // The first `paragraphs` held-out paragraphs (all when null) scored by the character n-grams
    // and by the model: `npm run eval -- --json [--paragraphs n]`. The model's part runs a batch at
    // a time, yielding between batches; onProgress hears (windows done, windows).
    heldoutScore(url: string, paragraphs: number | null, onProgress?: (done: number, total: number) => void): Promise<HeldoutScore> {
      return oneAtATime(async () => {
        const m = ctx.requireModel();
        const { pack, ngram } = await heldoutPack(url);
        const of = pack.heldout.length;
        const n = paragraphs ?? of;
        if (!Number.isInteger(n) || n < 1 || n > of) throw new EngineError('bad_argument', `paragraphs must be a whole number from 1 to ${of}, got ${n}.`);
        const text = pack.heldout.slice(0, n);
        const grams = scoreNgrams(ngram, pack, text);
        const s = await scorer();
        const stream = tokenStream(text, (t) => m.tokenizer.encode(t), m.config.eos_token_id);
        const t0 = performance.now();
        const loss = await streamNats(s, stream, onProgress);
        const chars = scoredChars(text);
        return {
          paragraphs: n, of, chars, tokens: loss.tokens, model: loss.nats / chars, natsPerToken: loss.nats / loss.tokens,
          unigram: grams.unigram, bigram: grams.bigram, trigram: grams.trigram, ms: performance.now() - t0
        };
      });
    },

    // The reader's text, read as one held-out paragraph, scored both ways.
    textScore(url: string, text: string): Promise<TextScore> {
      return oneAtATime(async () => {
        const m = ctx.requireModel();
        if (text.trim() === '') throw new EngineError('empty_text', 'Type some text to score.');
        const { pack, ngram } = await heldoutPack(url);
        const grams = scoreNgrams(ngram, pack, [text]);
        const s = await scorer();
        const stream = tokenStream([text], (t) => m.tokenizer.encode(t), m.config.eos_token_id);
        const loss = await streamNats(s, stream);
        const chars = scoredChars([text]);
        return { chars, tokens: loss.tokens, model: loss.nats / chars, natsPerToken: loss.nats / loss.tokens, unigram: grams.unigram, bigram: grams.bigram, trigram: grams.trigram };
      });
    },

    // The "guess the next token" game: one forward pass over the sentence's own tokens (as
    // `npm run trace` reads a prompt), and for each token after the first the model's k best
    // next tokens and its probability for the one that came.
    guessChoices(text: string, k: number): Promise<TextGuesses> {
      return ctx.serial(async () => {
        const r = ctx.requireRunner();
        const m = ctx.requireModel();
        if (text.trim() === '') throw new EngineError('empty_text', 'Type a sentence to guess.');
        const all = m.tokenizer.encode(text);
        const ids = all.slice(0, m.config.n_positions); // (T)
        const cut = all.length - ids.length;
        if (ids.length < 2) return { ids, pieces: ids.map((id) => ctx.tokenString(id)), steps: [], cut, pass: null };
        checkTokens(m.config, ids);
        const { logits } = await r.forward(ids); // (T, V)
        const steps = guessSteps(logits, ids, m.config.vocab_size, k).map((s) => ({ ...s, pieces: s.top.map((c) => ctx.tokenString(c.id)) }));
        return { ids, pieces: ids.map((id) => ctx.tokenString(id)), steps, cut, pass: ctx.timing() };
      });
    },

    // One forward pass over <|endoftext|> + the text, as every paragraph is read in training: the
    // first token is predicted from the start of a document, and each later one from all before it.
    surprise(text: string): Promise<TextSurprise> {
      return ctx.serial(async () => {
        const r = ctx.requireRunner();
        const m = ctx.requireModel();
        const all = m.tokenizer.encode(text);
        const ids = all.slice(0, m.config.n_positions); // the targets
        const cut = all.length - ids.length;
        if (ids.length === 0) return { ids, pieces: [], nats: [], cut, pass: null };
        const input = [m.config.eos_token_id, ...ids.slice(0, -1)]; // (T)
        checkTokens(m.config, input);
        const { logits } = await r.forward(input); // (T, V)
        const nats = Array.from(tokenSurprise(logits, ids, m.config.vocab_size));
        return { ids, pieces: ids.map((id) => ctx.tokenString(id)), nats, cut, pass: ctx.timing() };
      });
    }
  };
}
