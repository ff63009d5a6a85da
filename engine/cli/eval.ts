// npm run eval -- [--json] [--model DIR] [--stride S] [--quantize fp16|int8|int4] [--chars N] [--paragraphs N]
// Held-out cross-entropy in nats per character, for the model and for character unigram, bigram
// and interpolated-trigram baselines (engine/ngram.ts), all on the Brown held-out split (every
// 20th paragraph, never trained on).
//
// The model reads the held-out paragraphs as one token stream, <|endoftext|> before each and after
// the last, exactly as the training stream is built. It sees n_positions tokens at a time: windows
// slide by half a context (or --stride tokens), and each token is scored once with at least half a
// context before it. The summed token losses are divided by the number of characters: every
// paragraph's characters plus one for its end (the <|endoftext|> token, the n-grams' "\n").
//
// --quantize P scores the model with its weights rounded to P (engine/quantize.ts) and says so in
// the JSON's "precision". --chars N scores only the first held-out paragraphs, whole, that fit in N
// characters (counted as above): the slice chapter 9's page scores in the reader's browser
// (src/lib/engine/heldout-slice.json holds the same paragraphs), so both can be compared.
// --paragraphs N scores only the first N held-out paragraphs (the n-grams' counts and λs are the
// same): the slice the training chapter's figure scores in the page.
import { ngramBaselines, scoredChars } from '../ngram';
import { tokenStream } from '../train/data';
import { streamLoss } from '../train/evaluate';
import { createTrainState, setParams, wasmKernels } from '../train/gpt-train';
import { checkPrecision, quantizeParams, type Precision } from '../quantize';
import { EngineError } from '../errors';
import { brownSplit } from './corpus';
import { loadModelDir, parseArgs, run } from './common';

export interface EvalOptions {
  precision?: Precision; // default fp32, the weights as trained
  chars?: number; // score only heldoutSlice(heldout, chars)
  paragraphs?: number; // score only the first n paragraphs
}

// The first paragraphs, whole, whose characters (each paragraph's plus one for its end) add up
// to at most maxChars; at least one.
export function heldoutSlice(paragraphs: readonly string[], maxChars: number): string[] {
  if (!Number.isInteger(maxChars) || maxChars < 1) throw new EngineError('bad_argument', `--chars must be a whole number of at least 1, got ${maxChars}.`);
  const out: string[] = [];
  let used = 0;
  for (const p of paragraphs) {
    if (out.length > 0 && used + p.length + 1 > maxChars) break;
    out.push(p);
    used += p.length + 1;
  }
  return out;
}

export interface EvalResult {
  model: number;
  unigram: number;
  bigram: number;
  trigram: number;
  precision: Precision;
  details: { chars: number; tokens: number; natsPerToken: number; lambda2: number; lambda3: number; stride: number; paragraphs: number };
}

// The model's held-out loss alone (the probe and the model card need no baselines to get it).
export async function heldoutLoss(
  dir: string | undefined, stride?: number, onProgress?: (done: number, total: number) => void, opts: EvalOptions = {}
): Promise<{ natsPerChar: number; chars: number; tokens: number; natsPerToken: number; stride: number; paragraphs: number }> {
  const model = loadModelDir(dir);
  const heldout = evalParagraphs(opts);
  const T = model.config.n_positions;
  const state = createTrainState(model.config, 8, T, await wasmKernels());
  const precision = checkPrecision(opts.precision ?? 'fp32');
  setParams(state, precision === 'fp32' ? model.params : quantizeParams(model.config, model.params, precision).params);
  const stream = tokenStream(heldout, (t) => model.tokenizer.encode(t), model.config.eos_token_id);
  const s = stride ?? T >> 1;
  const loss = streamLoss(state, stream, s, onProgress);
  const chars = scoredChars(heldout);
  return { natsPerChar: loss.nats / chars, chars, tokens: loss.tokens, natsPerToken: loss.nats / loss.tokens, stride: s, paragraphs: heldout.length };
}

function evalParagraphs({ chars, paragraphs }: EvalOptions): string[] {
  const { heldout } = brownSplit();
  if (chars !== undefined && paragraphs !== undefined) throw new EngineError('bad_argument', 'Give --chars or --paragraphs, not both.');
  if (paragraphs !== undefined) {
    if (!Number.isInteger(paragraphs) || paragraphs < 1 || paragraphs > heldout.length) throw new EngineError('bad_argument', `--paragraphs must be a whole number from 1 to ${heldout.length}, got ${paragraphs}.`);
    return heldout.slice(0, paragraphs);
  }
  return chars === undefined ? heldout : heldoutSlice(heldout, chars);
}

export async function evaluateModel(
  dir: string | undefined, stride?: number, onProgress?: (done: number, total: number) => void, opts: EvalOptions = {}
): Promise<EvalResult> {
  const loss = await heldoutLoss(dir, stride, onProgress, opts);
  const { train } = brownSplit();
  const ngram = ngramBaselines(train, evalParagraphs(opts));
  return {
    model: loss.natsPerChar,
    unigram: ngram.unigram,
    bigram: ngram.bigram,
    trigram: ngram.trigram,
    precision: opts.precision ?? 'fp32',
    details: { chars: loss.chars, tokens: loss.tokens, natsPerToken: loss.natsPerToken, lambda2: ngram.lambda2, lambda3: ngram.lambda3, stride: loss.stride, paragraphs: loss.paragraphs }
  };
}

if (process.argv[1]?.endsWith('eval.ts')) {
  run(async () => {
    const args = parseArgs(process.argv.slice(2), { json: 'boolean', model: 'string', stride: 'number', quantize: 'string', chars: 'number', paragraphs: 'number' });
    const precision = args.quantize === undefined ? undefined : checkPrecision(args.quantize);
    const progress = args.json ? undefined : (d: number, n: number) => process.stderr.write(`\rscoring held-out windows ${d}/${n}`);
    const r = await evaluateModel(args.model, args.stride, progress, { precision, chars: args.chars, paragraphs: args.paragraphs });
    if (args.json) {
      const slice = args.chars === undefined ? {} : { chars: r.details.chars, paragraphs: r.details.paragraphs, tokens: r.details.tokens };
      process.stdout.write(JSON.stringify({ model: r.model, unigram: r.unigram, bigram: r.bigram, trigram: r.trigram, precision: r.precision, ...slice }) + '\n');
      return;
    }
    process.stderr.write('\n');
    const d = r.details;
    const part = args.chars === undefined ? 'held-out' : `held-out slice (first ${d.paragraphs} paragraphs)`;
    console.log(`${part}: ${d.chars.toLocaleString('en-US')} characters, ${d.tokens.toLocaleString('en-US')} tokens (${(d.chars / d.tokens).toFixed(2)} characters/token)`);
    console.log(`model (${r.precision})${' '.repeat(Math.max(1, 10 - r.precision.length))}${r.model.toFixed(4)} nats/char  (${d.natsPerToken.toFixed(4)} nats/token, window stride ${d.stride})`);
    console.log(`char unigram     ${r.unigram.toFixed(4)} nats/char`);
    console.log(`char bigram      ${r.bigram.toFixed(4)} nats/char  (λ2 = ${d.lambda2})`);
    console.log(`char trigram     ${r.trigram.toFixed(4)} nats/char  (λ3 = ${d.lambda3}, interpolated)`);
    const pct = 100 * (1 - r.model / r.trigram);
    console.log(`model vs trigram ${Math.abs(pct).toFixed(1)}% ${pct >= 0 ? 'lower' : 'higher'}`);
  });
}
