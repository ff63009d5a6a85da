// The Tokens chapter's questions: the reader's text in our tokenizer and in OpenAI's (GPT-2's
// r50k_base, GPT-4's cl100k_base, GPT-4o's o200k_base, from the gpt-tokenizer package, ids as
// tiktoken gives them), token counts for the language chart, and BPE training replayed merge by
// merge. It runs in the engine worker: OpenAI's vocabularies are megabytes of JavaScript whose
// loading takes a few hundred milliseconds, and training on a long text takes longer still, so
// neither may run on the page's thread. Each vocabulary is imported only when first asked for.
import { EngineError } from '../../../engine/errors';
import { bytesText, Tokenizer } from '../../../engine/tokenizer';
import { maxReplayMerges, replayTraining } from '../../../engine/bpe-replay';
import type { EngineContext } from './api';

export const encodingNames = ['ours', 'r50k_base', 'cl100k_base', 'o200k_base'] as const;
export type EncodingName = (typeof encodingNames)[number];
type OpenAIEncoding = Exclude<EncodingName, 'ours'>;

// The reader's text is cut to this many characters (code points) before tokenizing: every token
// becomes an element on the page, four columns of them, and a few thousand keep typing smooth.
export const maxTokenizeChars = 3000;
// Training text is cut to this many characters: training recounts pairs once per merge, and a
// few pages of text keep a replay within a second or two on a phone.
export const maxTrainChars = 20_000;
// The stepper shows one merge at a time; past a few hundred a reader has stopped watching each
// one, and a paragraph rarely has that many pairs that occur twice anyway.
export const maxStepMerges = 300;
// The re-tokenized training text shows its first tokens only (the count covers all of it).
export const maxShownTokens = 400;

export interface TokenList {
  encoding: EncodingName;
  ids: number[];
  pieces: string[]; // each token's text for display: a byte that is only part of a character shows as <0xE2>
  bytes: number[][]; // each token's bytes
  chars: number; // characters (code points) tokenized
  cut: number; // characters cut from the end (past maxTokenizeChars)
}

export interface StepPair {
  pair: [number, number];
  count: number;
  pieces: [string, string]; // the two tokens' text
}

export interface BpeStepInfo {
  pair: [number, number];
  id: number;
  count: number;
  piece: string; // the new token's text
  top: StepPair[]; // the leading pair counts of this step, the chosen pair first
  pairs: number; // distinct adjacent pairs at this step
}

export interface BpeTraining {
  merges: [number, number][]; // in learned order; merge i makes id 256 + i
  steps: BpeStepInfo[];
  stop: 'max_merges' | 'no_repeats';
  chars: number; // characters trained on
  cut: number; // characters cut from the end (past maxTrainChars)
  bytes: number; // UTF-8 bytes trained on: the token count before any merge
}

export interface BpeEncoded {
  ids: number[]; // the first maxShownTokens
  pieces: string[];
  total: number; // tokens in the whole text
}

interface Loaded {
  encode(text: string): number[];
  bytes(id: number): Uint8Array;
}

const utf8 = new TextEncoder();

// Dynamic imports, so the bundler puts each vocabulary in a chunk of its own that is fetched on
// first use. The ranks table (token bytes in id order) gives each token's bytes.
const modules: Record<OpenAIEncoding, () => Promise<[{ encode: EncodeFn }, { default: unknown }]>> = {
  r50k_base: () => Promise.all([import('gpt-tokenizer/encoding/r50k_base'), import('gpt-tokenizer/bpeRanks/r50k_base')]),
  cl100k_base: () => Promise.all([import('gpt-tokenizer/encoding/cl100k_base'), import('gpt-tokenizer/bpeRanks/cl100k_base')]),
  o200k_base: () => Promise.all([import('gpt-tokenizer/encoding/o200k_base'), import('gpt-tokenizer/bpeRanks/o200k_base')])
};
type EncodeFn = (text: string, opts?: { disallowedSpecial?: Set<string> }) => number[];

// Cut a text to at most n code points, never inside a surrogate pair.
export function cutChars(text: string, n: number): { text: string; chars: number; cut: number } {
  const cps = Array.from(text);
  return { text: cps.slice(0, n).join(''), chars: Math.min(n, cps.length), cut: Math.max(0, cps.length - n) };
}

export function createTokensApi(ctx: EngineContext) {
  const loading = new Map<OpenAIEncoding, Promise<Loaded>>();

  function load(name: OpenAIEncoding): Promise<Loaded> {
    let p = loading.get(name);
    if (!p) {
      p = modules[name]().then(([enc, ranks]) => {
        const table = ranks.default as (string | number[])[];
        return {
          // The reader's "<|endoftext|>" is text like any other, as in our tokenizer's encode.
          encode: (text: string) => enc.encode(text, { disallowedSpecial: new Set() }),
          bytes: (id: number) => {
            const entry = table[id];
            return typeof entry === 'string' ? utf8.encode(entry) : Uint8Array.from(entry);
          }
        };
      });
      // a failed download can be tried again
      p.catch(() => loading.delete(name));
      loading.set(name, p);
    }
    return p;
  }

  async function tokenizer(name: EncodingName): Promise<Loaded> {
    if (name === 'ours') {
      const t = ctx.requireModel().tokenizer;
      return { encode: (text) => t.encode(text), bytes: (id) => t.tokenBytes(id) };
    }
    if (!(name in modules)) throw new EngineError('bad_encoding', `Unknown encoding "${String(name)}": use ${encodingNames.join(', ')}.`);
    return load(name);
  }

  return {
    // The reader's text as one tokenizer's tokens.
    async tokenize(text: string, encoding: EncodingName): Promise<TokenList> {
      const t = await tokenizer(encoding);
      const kept = cutChars(text, maxTokenizeChars);
      const ids = t.encode(kept.text);
      const bytes = ids.map((id) => t.bytes(id));
      return { encoding, ids, pieces: bytes.map(bytesText), bytes: bytes.map((b) => Array.from(b)), chars: kept.chars, cut: kept.cut };
    },

    // How many tokens each text takes in one tokenizer.
    async countTokens(texts: string[], encoding: EncodingName): Promise<number[]> {
      const t = await tokenizer(encoding);
      return texts.map((s) => t.encode(s).length);
    },

    // Train byte-pair merges on the reader's text with our tokenizer's training, recording each
    // step's leading pairs. onProgress hears the merges made so far, now and then.
    bpeTrain(text: string, merges: number, onProgress?: (done: number, of: number) => void): BpeTraining {
      if (merges > maxStepMerges) throw new EngineError('bad_argument', `At most ${maxStepMerges} merges can be stepped through, got ${merges}.`);
      const kept = cutChars(text, maxTrainChars);
      let last = 0;
      const replay = replayTraining(kept.text, merges, {
        top: 6,
        onMerge(step) {
          const done = step.id - 255;
          const now = performance.now();
          if (now - last > 50) {
            last = now;
            onProgress?.(done, merges);
          }
        }
      });
      const tok = replay.tokenizer;
      return {
        merges: replay.steps.map((s) => s.pair),
        steps: replay.steps.map((s) => ({
          pair: s.pair,
          id: s.id,
          count: s.count,
          piece: tok.tokenText(s.id),
          pairs: s.pairs,
          top: s.top.map((p) => ({ ...p, pieces: [tok.tokenText(p.pair[0]), tok.tokenText(p.pair[1])] as [string, string] }))
        })),
        stop: replay.stop,
        chars: kept.chars,
        cut: kept.cut,
        bytes: utf8.encode(kept.text.toWellFormed()).length
      };
    },

    // Texts encoded with the first k of the merges, in the order they were learned.
    bpeEncode(merges: [number, number][], k: number, texts: string[]): BpeEncoded[] {
      if (!Number.isInteger(k) || k < 0 || k > merges.length || merges.length > maxReplayMerges) {
        throw new EngineError('bad_argument', `k must be a whole number from 0 to ${merges.length}, got ${k}.`);
      }
      const tok = new Tokenizer(merges.slice(0, k).map((pair, i) => ({ pair, id: 256 + i, count: null })));
      return texts.map((s) => {
        const all = tok.encode(cutChars(s, maxTrainChars).text);
        const ids = all.slice(0, maxShownTokens);
        return { ids, pieces: ids.map((id) => tok.tokenText(id)), total: all.length };
      });
    }
  };
}
