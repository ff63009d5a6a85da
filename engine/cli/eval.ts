// npm run eval -- [--json] [--model DIR] [--stride S] [--paragraphs N]
// Held-out cross-entropy in nats per character, for the model and for character unigram, bigram
// and interpolated-trigram baselines (engine/ngram.ts), all on the Brown held-out split (every
// 20th paragraph, never trained on).
//
// The model reads the held-out paragraphs as one token stream, <|endoftext|> before each and after
// the last, exactly as the training stream is built. It sees n_positions tokens at a time: windows
// slide by half a context (or --stride tokens), and each token is scored once with at least half a
// context before it. The summed token losses are divided by the number of characters: every
// paragraph's characters plus one for its end (the <|endoftext|> token, the n-grams' "\n").
// --paragraphs N scores only the first N held-out paragraphs (the n-grams' counts and λs are the
// same): the slice the training chapter's figure scores in the page.
import { ngramBaselines, scoredChars } from '../ngram';
import { tokenStream } from '../train/data';
import { streamLoss } from '../train/evaluate';
import { createTrainState, setParams, wasmKernels } from '../train/gpt-train';
import { EngineError } from '../errors';
import { brownSplit } from './corpus';
import { loadModelDir, parseArgs, run } from './common';

export interface EvalResult {
  model: number;
  unigram: number;
  bigram: number;
  trigram: number;
  details: { chars: number; tokens: number; natsPerToken: number; lambda2: number; lambda3: number; stride: number };
}

// The model's held-out loss alone (the probe and the model card need no baselines to get it).
export async function heldoutLoss(dir: string | undefined, stride?: number, onProgress?: (done: number, total: number) => void, paragraphs?: number): Promise<{ natsPerChar: number; chars: number; tokens: number; natsPerToken: number; stride: number }> {
  const model = loadModelDir(dir);
  const heldout = heldoutParagraphs(paragraphs);
  const T = model.config.n_positions;
  const state = createTrainState(model.config, 8, T, await wasmKernels());
  setParams(state, model.params);
  const stream = tokenStream(heldout, (t) => model.tokenizer.encode(t), model.config.eos_token_id);
  const s = stride ?? T >> 1;
  const loss = streamLoss(state, stream, s, onProgress);
  const chars = scoredChars(heldout);
  return { natsPerChar: loss.nats / chars, chars, tokens: loss.tokens, natsPerToken: loss.nats / loss.tokens, stride: s };
}

export async function evaluateModel(dir: string | undefined, stride?: number, onProgress?: (done: number, total: number) => void, paragraphs?: number): Promise<EvalResult> {
  const loss = await heldoutLoss(dir, stride, onProgress, paragraphs);
  const { train } = brownSplit();
  const ngram = ngramBaselines(train, heldoutParagraphs(paragraphs));
  return {
    model: loss.natsPerChar,
    unigram: ngram.unigram,
    bigram: ngram.bigram,
    trigram: ngram.trigram,
    details: { chars: loss.chars, tokens: loss.tokens, natsPerToken: loss.natsPerToken, lambda2: ngram.lambda2, lambda3: ngram.lambda3, stride: loss.stride }
  };
}

// The held-out split, or its first n paragraphs.
function heldoutParagraphs(n?: number): string[] {
  const { heldout } = brownSplit();
  if (n === undefined) return heldout;
  if (!Number.isInteger(n) || n < 1 || n > heldout.length) throw new EngineError('bad_argument', `--paragraphs must be a whole number from 1 to ${heldout.length}, got ${n}.`);
  return heldout.slice(0, n);
}

if (process.argv[1]?.endsWith('eval.ts')) {
  run(async () => {
    const args = parseArgs(process.argv.slice(2), { json: 'boolean', model: 'string', stride: 'number', paragraphs: 'number' });
    const progress = args.json ? undefined : (d: number, n: number) => process.stderr.write(`\rscoring held-out windows ${d}/${n}`);
    const r = await evaluateModel(args.model, args.stride, progress, args.paragraphs);
    if (args.json) {
      process.stdout.write(JSON.stringify({ model: r.model, unigram: r.unigram, bigram: r.bigram, trigram: r.trigram }) + '\n');
      return;
    }
    process.stderr.write('\n');
    const d = r.details;
    console.log(`held-out: ${d.chars.toLocaleString('en-US')} characters, ${d.tokens.toLocaleString('en-US')} tokens (${(d.chars / d.tokens).toFixed(2)} characters/token)`);
    console.log(`model            ${r.model.toFixed(4)} nats/char  (${d.natsPerToken.toFixed(4)} nats/token, window stride ${d.stride})`);
    console.log(`char unigram     ${r.unigram.toFixed(4)} nats/char`);
    console.log(`char bigram      ${r.bigram.toFixed(4)} nats/char  (λ2 = ${d.lambda2})`);
    console.log(`char trigram     ${r.trigram.toFixed(4)} nats/char  (λ3 = ${d.lambda3}, interpolated)`);
    const pct = 100 * (1 - r.model / r.trigram);
    console.log(`model vs trigram ${Math.abs(pct).toFixed(1)}% ${pct >= 0 ? 'lower' : 'higher'}`);
  });
}
