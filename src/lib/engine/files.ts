// Worker calls for chapter 9 (the parameter file, quantized) and chapter 10 (what the model is
// not). The arithmetic lives in engine/quantize.ts and engine/train/evaluate.ts; this file keeps
// the rounded copies of the weights, runs them, and shapes the answers for the figures.
//
// Everything here runs on CPU runners of our own, one per precision: the rounded weights are a
// different model from the page's, and the fp32 row must be the same numbers `npm run generate`
// prints (it runs on the CPU too).
import { createFastCpuRunner } from '../../../engine/backends/cpu';
import type { Runner } from '../../../engine/backend';
import { paramShapes } from '../../../engine/config';
import { EngineError } from '../../../engine/errors';
import { generate, type StopReason } from '../../../engine/generate';
import { checkTokens } from '../../../engine/gpt';
import type { Model } from '../../../engine/model';
import { scoredChars } from '../../../engine/ngram';
import { checkPrecision, precisions, quantizeParams, quantizeTensor, levels, type Precision, type QuantizedModel, type TensorError } from '../../../engine/quantize';
import { checkSampling, softmaxWithTemperature } from '../../../engine/sampling';
import { tokenStream } from '../../../engine/train/data';
import { streamLoss } from '../../../engine/train/evaluate';
import { setParams } from '../../../engine/train/gpt-train';
import { scoringState } from './training';
import type { EngineContext } from './api';
import slice from './heldout-slice.json';

export interface PrecisionSize {
  precision: Precision;
  bytes: number; // numbers and scales, header not counted
  tensors: TensorError[];
}

export interface QuantizeSummary {
  nParams: number;
  matrixParams: number; // numbers in 2-D tensors (the ones the int formats round to integers)
  sizes: PrecisionSize[]; // fp32, fp16, int8, int4
}

export interface SliceLoss {
  precision: Precision;
  natsPerChar: number;
  natsPerToken: number;
}

export interface QuantizeLosses {
  chars: number; // characters scored (each paragraph's plus one for its end)
  paragraphs: number;
  tokens: number; // tokens predicted
  firstWords: string; // the slice's opening, for the caption
  losses: SliceLoss[];
}

export interface LossProgress {
  precision: Precision;
  done: number; // batches of windows scored, over all precisions
  total: number;
}

export interface ContinuationToken {
  id: number;
  text: string;
  p: number; // the model's probability for this token at temperature 1, before it was chosen
}

export interface Continuation {
  ids: number[]; // the prompt's ids
  pieces: string[];
  tokens: ContinuationToken[]; // what followed
  text: string; // prompt and continuation, decoded together
  stop: StopReason;
}

export interface PrecisionContinuation extends Continuation {
  precision: Precision;
}

export interface SampledContinuation extends Continuation {
  seed: number | null; // null: greedy (temperature 0)
  temperature: number;
  meanP: number; // mean probability of the chosen tokens
}

export interface BlockView {
  name: string;
  shape: number[];
  precision: Precision;
  stored: Precision; // how this tensor is written at that precision
  min: number;
  max: number;
  counts: number[]; // histogram of the tensor's fp32 weights over [min, max], equal-width bins
  blocks: number; // how many scales the tensor has (0 for fp32 / fp16)
  block: number; // the block shown (clamped)
  row: number; // the row it lies in
  scale: number; // its stored scale (0 for float formats)
  levels: number[]; // the values its numbers may take (empty for float formats: too dense to draw)
  values: number[]; // the block's fp32 weights
  rounded: number[]; // ... and as stored at this precision
  rms: number; // the tensor's error, as in the table
  maxAbs: number;
}

// the first words of a text, cut at a word boundary
function opening(text: string, n: number): string {
  const words = text.split(/\s+/);
  return words.slice(0, n).join(' ') + (words.length > n ? ' …' : '');
}

export function createFilesApi(ctx: EngineContext) {
  // per loaded model: its rounded copies, their runners, the slice's losses
  let own: {
    model: Model;
    quantized: Map<Precision, QuantizedModel>;
    runners: Map<Precision, Promise<Runner>>;
    losses: Promise<QuantizeLosses> | null;
  } | null = null;

  function state() {
    const m = ctx.requireModel();
    if (own?.model !== m) own = { model: m, quantized: new Map(), runners: new Map(), losses: null };
    return own;
  }

  function quantized(p: Precision): QuantizedModel {
    const s = state();
    let q = s.quantized.get(p);
    if (!q) {
      q = quantizeParams(s.model.config, s.model.params, p);
      s.quantized.set(p, q);
    }
    return q;
  }

  function runner(p: Precision): Promise<Runner> {
    const s = state();
    let r = s.runners.get(p);
    if (!r) {
      r = createFastCpuRunner({ config: s.model.config, params: p === 'fp32' ? s.model.params : quantized(p).params });
      s.runners.set(p, r);
    }
    return r;
  }

  // One continuation on a runner, with each chosen token's probability at temperature 1: the
  // generate loop of `npm run generate`, with the runner's logits kept at each step.
  async function continueOn(r: Runner, prompt: string, opts: { temperature: number; seed: number; maxTokens: number }): Promise<Continuation> {
    const m = ctx.requireModel();
    const ids = m.tokenizer.encode(prompt);
    checkTokens(m.config, ids);
    let last: Float32Array | null = null;
    const seen: Runner = {
      backend: r.backend,
      device: r.device,
      createCache: () => r.createCache(),
      async forward(feed, o) {
        const out = await r.forward(feed, o);
        last = out.logits; // (1, V)
        return out;
      },
      dispose: () => {}
    };
    const tokens: ContinuationToken[] = [];
    let stop: StopReason = 'max_tokens';
    for await (const step of generate(seen, m.config, ids, { ...opts, topN: 1 })) {
      const p = softmaxWithTemperature(last!, 1)[step.chosen];
      tokens.push({ id: step.chosen, text: ctx.tokenString(step.chosen), p });
      if (step.stop) stop = step.stop;
    }
    return {
      ids,
      pieces: ids.map((id) => ctx.tokenString(id)),
      tokens,
      text: m.tokenizer.decode([...ids, ...tokens.map((t) => t.id)]),
      stop
    };
  }

  function checkMaxTokens(n: number): void {
    if (!Number.isInteger(n) || n < 1 || n > 200) throw new EngineError('bad_max_tokens', `The number of new tokens must be a whole number from 1 to 200, got ${n}.`);
  }

  return {
    // Sizes and per-tensor errors of the model at every precision.
    quantizeSummary(): QuantizeSummary {
      const m = ctx.requireModel();
      const shapes = paramShapes(m.config);
      const count = (s: number[]) => s.reduce((a, b) => a * b, 1);
      return {
        nParams: shapes.reduce((a, [, s]) => a + count(s), 0),
        matrixParams: shapes.reduce((a, [, s]) => a + (s.length === 2 ? count(s) : 0), 0),
        sizes: precisions.map((p) => {
          const q = quantized(p);
          return { precision: p, bytes: q.bytes, tensors: q.tensors };
        })
      };
    },

    // The held-out slice's loss at every precision: the training forward pass over windows of the
    // slice, exactly as `npm run eval -- --quantize P --chars N` scores it (same kernels, batch
    // of 8, stride of half a context). One precision per queued call, so other figures' calls go
    // between them; computed once per model.
    quantizeLosses(onProgress?: (p: LossProgress) => void): Promise<QuantizeLosses> {
      const s = state();
      s.losses ??= (async () => {
        const m = s.model;
        const T = m.config.n_positions;
        const paragraphs = slice.paragraphs;
        const stream = tokenStream(paragraphs, (t) => m.tokenizer.encode(t), m.config.eos_token_id);
        const chars = scoredChars(paragraphs);
        // about 130 MiB for the shipped model's B = 8 training state; its memory goes when the losses are done
        const train = await scoringState(m.config, 8, 256 * 2 ** 20);
        const losses: SliceLoss[] = [];
        let tokens = 0;
        for (const [i, p] of precisions.entries()) {
          const loss = await ctx.serial(async () => {
            setParams(train, p === 'fp32' ? m.params : quantized(p).params);
            return streamLoss(train, stream, T >> 1, (done, total) => {
              onProgress?.({ precision: p, done: i * total + done, total: precisions.length * total });
            });
          });
          tokens = loss.tokens;
          losses.push({ precision: p, natsPerChar: loss.nats / chars, natsPerToken: loss.nats / loss.tokens });
        }
        return { chars, paragraphs: paragraphs.length, tokens, firstWords: opening(paragraphs[0], 12), losses };
      })();
      s.losses.catch(() => {
        if (own === s) s.losses = null; // a failure is not cached: the next call tries again
      });
      return s.losses;
    },

    // The same prompt continued greedily by the model at every precision.
    quantizeContinuations(prompt: string, maxTokens = 24): Promise<PrecisionContinuation[]> {
      checkMaxTokens(maxTokens);
      return ctx.serial(async () => {
        const out: PrecisionContinuation[] = [];
        for (const p of precisions) {
          out.push({ precision: p, ...(await continueOn(await runner(p), prompt, { temperature: 0, seed: 0, maxTokens })) });
        }
        return out;
      });
    },

    // One tensor's weights as a histogram, and one block (a row for int8, a group for int4) with
    // the levels its scale allows.
    quantizeBlock(name: string, precision: Precision, block = 0, bins = 48): BlockView {
      const m = ctx.requireModel();
      checkPrecision(precision);
      const shape = paramShapes(m.config).find(([n]) => n === name)?.[1];
      const data = m.params[name];
      if (!shape || !data) throw new EngineError('no_tensor', `The model has no parameter "${name}".`);
      if (!Number.isInteger(bins) || bins < 1 || bins > 400) throw new EngineError('bad_argument', `bins must be a whole number from 1 to 400, got ${bins}.`);
      const q = quantizeTensor(name, data, shape, precision);
      let min = Infinity;
      let max = -Infinity;
      for (const v of data) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      const counts = new Array<number>(bins).fill(0);
      const width = (max - min) / bins || 1;
      for (const v of data) counts[Math.min(bins - 1, Math.floor((v - min) / width))]++;
      const blocks = q.scaleValues?.length ?? 0;
      const b = blocks ? Math.max(0, Math.min(blocks - 1, Math.floor(block))) : 0;
      const cols = shape.length === 2 ? shape[1] : data.length;
      const perRow = q.blockSize ? Math.ceil(cols / q.blockSize) : 1;
      const row = blocks ? Math.floor(b / perRow) : 0;
      const from = blocks ? row * cols + (b % perRow) * q.blockSize : 0;
      const to = blocks ? Math.min(row * cols + cols, from + q.blockSize) : Math.min(data.length, cols);
      const scale = blocks ? q.scaleValues![b] : 0;
      return {
        name, shape, precision, stored: q.stored, min, max, counts, blocks, block: b, row, scale,
        levels: blocks ? levels(scale, q.qmax) : [],
        values: Array.from(data.subarray(from, to)),
        rounded: Array.from(q.values.subarray(from, to)),
        rms: q.rms,
        maxAbs: q.maxAbs
      };
    },

    // Chapter 10: the prompt continued greedily and with each seed, at `temperature`, each token
    // with the probability the model gave it.
    confabulate(prompt: string, seeds: number[], temperature = 1, maxTokens = 16): Promise<SampledContinuation[]> {
      checkMaxTokens(maxTokens);
      checkSampling({ temperature });
      for (const seed of seeds) {
        if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) throw new EngineError('bad_seed', `The seed must be a whole number from 0 to ${2 ** 32 - 1}, got ${seed}.`);
      }
      return ctx.serial(async () => {
        const r = await runner('fp32');
        const out: SampledContinuation[] = [];
        const runs: [number | null, number][] = [[null, 0], ...seeds.map((s): [number, number] => [s, temperature])];
        for (const [seed, t] of runs) {
          const c = await continueOn(r, prompt, { temperature: t, seed: seed ?? 0, maxTokens });
          const meanP = c.tokens.reduce((a, x) => a + x.p, 0) / Math.max(1, c.tokens.length);
          out.push({ ...c, seed, temperature: t, meanP });
        }
        return out;
      });
    }
  };
}
