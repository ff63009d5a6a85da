// npm run probe -- [--model DIR] [--json] [--quick]
// Measures a model "as a teacher" (engine/probe.ts holds the measures and says which rows they
// average over):
// - every head on fixed English sentences: mean weight on the previous token, on itself, on the
//   first token, on earlier copies of its own token; its entropy as a ratio to uniform (1 =
//   uniform over the visible tokens, 0 = all on one); its sharpness and, when sharp, its job; and
//   its induction score on random token sequences repeated twice;
// - in-context copying: mean loss on the first and on the second copy of those sequences;
// - embedding neighbours: which everyday words are single tokens, and which of those have a word
//   of their own group among their 5 nearest tokens by cosine similarity in wte;
// - the share of words in sampled continuations that occur in the training text;
// - held-out nats per character (engine/cli/eval.ts).
// --json prints one object on stdout; progress goes to stderr. --quick uses fewer seeds and shorter
// samples (the tests use it).
import { basename } from 'node:path';
import { createRunner, type Runner } from '../backend';
import { EngineError } from '../errors';
import { generate } from '../generate';
import type { Model } from '../model';
import {
  groupNeighbours, headStats, inductionScore, JOB_SHARE, meanTokenLoss, probeSentences, repeatedSequence, SHARP,
  wordGroups, wordsOf, type AttentionSample
} from '../probe';
import { brownSplit } from './corpus';
import { defaultModelDir, loadModelDir, parseArgs, run } from './common';
import { heldoutLoss } from './eval';

export const probePrompts = ['The man said that', 'In the morning', 'She looked at him and', 'The city of'];
const full = { copySeeds: [1, 2, 3, 4, 5], sampleSeeds: [1, 2, 3], prompts: probePrompts, sampleTokens: 32 };
const quick = { copySeeds: [1], sampleSeeds: [1], prompts: probePrompts.slice(0, 2), sampleTokens: 12 };
export const sampleTemperature = 0.8;
export const neighboursK = 5;
const maxCopyLength = 64; // tokens in one copy of the repeated sequence (fewer when the context is short)

export interface HeadReport {
  layer: number;
  head: number;
  prev: number;
  self: number;
  first: number;
  duplicate: number | null;
  induction: number | null;
  entropy: number;
  sharpness: number;
  job: string | null;
  job_share: number | null;
}

export interface ProbeResult {
  heads: HeadReport[];
  copy_loss: { first: number; second: number };
  neighbours: {
    words: number;
    single_tokens: number;
    with_group_neighbour: number;
    groups: { name: string; words: number; single_tokens: number; with_group_neighbour: number; members: { word: string; id: number | null; neighbours: string[]; same_group: boolean }[] }[];
  };
  real_words: number;
  nats_per_char: number;
}

// What the numbers were computed on, for the readable output and the model card.
export interface ProbeDetails {
  name: string;
  vocabSize: number;
  sentences: number;
  sentenceTokens: number;
  copySeeds: number[];
  copyLength: number; // tokens in one copy
  prompts: string[];
  sampleSeeds: number[];
  sampleTokens: number; // asked for per continuation
  sampledTokens: number; // generated in all (a continuation stops early at <|endoftext|>)
  sampledWords: number;
  sampledRealWords: number;
}

export interface ProbeOptions {
  quick?: boolean;
  natsPerChar?: number; // already computed (the model card has it): skip the held-out pass
  onProgress?: (message: string) => void;
}

async function headSamples(runner: Runner, model: Model, ids: number[]): Promise<AttentionSample[][]> {
  // samples[l * nh + h]: this text's attention of head h in layer l
  const { trace } = await runner.forward(ids, { trace: ['attn.weights'] });
  const T = ids.length;
  const pieces = ids.map((id) => model.tokenizer.tokenText(id));
  return trace.layers.flatMap((layer) => {
    const w = layer['attn.weights']!.data; // (nh, T, T)
    return Array.from({ length: model.config.n_head }, (_, h) => [{ weights: w.subarray(h * T * T, (h + 1) * T * T), ids, pieces }]);
  });
}

export async function probeModel(dir: string | undefined, opts: ProbeOptions = {}): Promise<{ result: ProbeResult; details: ProbeDetails }> {
  const say = opts.onProgress ?? (() => {});
  const plan = opts.quick ? quick : full;
  dir ??= defaultModelDir();
  const model = loadModelDir(dir);
  const { config, tokenizer } = model;
  const { n_layer: L, n_head: nh, n_positions, vocab_size: V, eos_token_id: eos } = config;
  const runner = await createRunner(model, { backend: 'cpu' });

  say(`heads on ${probeSentences.length} sentences`);
  const perHead: AttentionSample[][] = Array.from({ length: L * nh }, () => []);
  let sentenceTokens = 0;
  for (const text of probeSentences) {
    const ids = tokenizer.encode(text).slice(0, n_positions);
    sentenceTokens += ids.length;
    (await headSamples(runner, model, ids)).forEach((s, k) => perHead[k].push(...s));
  }

  const n = Math.min(maxCopyLength, n_positions >> 1, V - 2);
  say(`copying: ${plan.copySeeds.length} random sequences of ${n} tokens, repeated`);
  const inductionSamples: AttentionSample[][] = Array.from({ length: L * nh }, () => []);
  let firstLoss = 0, secondLoss = 0;
  for (const seed of plan.copySeeds) {
    const ids = repeatedSequence(n, V, seed, eos); // (2n)
    const { logits, trace } = await runner.forward(ids, { trace: ['attn.weights'] });
    // tokens 1..n-1 of each copy; the first token of a copy follows nothing it followed before
    firstLoss += meanTokenLoss(logits, ids, V, 1, n);
    secondLoss += meanTokenLoss(logits, ids, V, n + 1, 2 * n);
    const T = ids.length;
    trace.layers.forEach((layer, l) => {
      const w = layer['attn.weights']!.data; // (nh, T, T)
      for (let h = 0; h < nh; h++) inductionSamples[l * nh + h].push({ weights: w.subarray(h * T * T, (h + 1) * T * T), ids, pieces: [] });
    });
  }

  const heads: HeadReport[] = perHead.map((samples, k) => {
    const s = headStats(samples);
    return {
      layer: Math.floor(k / nh), head: k % nh, prev: s.prev, self: s.self, first: s.first, duplicate: s.duplicate,
      induction: inductionScore(inductionSamples[k]), entropy: s.entropy, sharpness: s.sharpness, job: s.job, job_share: s.jobShare
    };
  });

  say('embedding neighbours');
  const single = (w: string) => {
    const ids = tokenizer.encode(' ' + w);
    return ids.length === 1 ? ids[0] : null;
  };
  const groups = groupNeighbours(model.params['wte.weight'], V, config.n_embd, wordGroups.map((g) => ({ ...g, ids: g.words.map(single) })), neighboursK)
    .map((g) => ({ ...g, members: g.members.map((m) => ({ ...m, neighbours: m.neighbours.map((id) => tokenizer.tokenText(id)) })) }));
  const sum = (f: (g: (typeof groups)[number]) => number) => groups.reduce((a, g) => a + f(g), 0);

  say(`real words: ${plan.prompts.length * plan.sampleSeeds.length} continuations at temperature ${sampleTemperature}`);
  const known = new Set<string>();
  for (const p of brownSplit().train) for (const w of wordsOf(p)) known.add(w);
  let sampledTokens = 0, sampledWords = 0, sampledRealWords = 0;
  for (const prompt of plan.prompts) {
    const promptIds = tokenizer.encode(prompt);
    for (const seed of plan.sampleSeeds) {
      const out: number[] = [];
      let cut = false;
      for await (const step of generate(runner, config, promptIds, { maxTokens: plan.sampleTokens, temperature: sampleTemperature, seed })) {
        if (step.chosen === eos) break;
        out.push(step.chosen);
        cut = step.stop !== undefined;
      }
      sampledTokens += out.length;
      // the words the model wrote: those that end after the prompt (one glued to the prompt's last
      // word counts as the model's), less a last word the token limit may have cut short
      const text = prompt + tokenizer.decode(out);
      const found = [...text.matchAll(/\p{L}+/gu)].filter((m) => m.index + m[0].length > prompt.length);
      if (cut && found.length > 0 && found[found.length - 1].index + found[found.length - 1][0].length === text.length) found.pop();
      for (const m of found) {
        sampledWords++;
        if (known.has(m[0].toLowerCase())) sampledRealWords++;
      }
    }
  }
  if (sampledWords === 0) throw new EngineError('bad_probe', 'The sampled continuations hold no words, so no real-word share can be given.');

  let natsPerChar = opts.natsPerChar;
  if (natsPerChar === undefined) {
    say('held-out nats per character');
    natsPerChar = (await heldoutLoss(dir)).natsPerChar;
  }
  runner.dispose();

  const k = plan.copySeeds.length;
  return {
    result: {
      heads,
      copy_loss: { first: firstLoss / k, second: secondLoss / k },
      neighbours: { words: sum((g) => g.words), single_tokens: sum((g) => g.single_tokens), with_group_neighbour: sum((g) => g.with_group_neighbour), groups },
      real_words: sampledRealWords / sampledWords,
      nats_per_char: natsPerChar
    },
    details: {
      name: basename(dir),
      vocabSize: V,
      sentences: probeSentences.length, sentenceTokens, copySeeds: plan.copySeeds, copyLength: n, prompts: plan.prompts,
      sampleSeeds: plan.sampleSeeds, sampleTokens: plan.sampleTokens, sampledTokens, sampledWords, sampledRealWords
    }
  };
}

const f = (x: number | null, d = 2) => (x === null ? '–' : x.toFixed(d));

// The readable report: a table of the heads, then one line per other measure.
export function probeText(r: ProbeResult, d: ProbeDetails): string {
  const lines = [
    `heads on ${d.sentences} sentences (${d.sentenceTokens} tokens); induction on ${d.copySeeds.length} random sequence${d.copySeeds.length === 1 ? '' : 's'} of ${d.copyLength} tokens repeated twice`,
    'entropy: mean ratio to uniform (1 = spread evenly, 0 = all on one token); sharp: mean largest weight on a token other than the first',
    '',
    'layer head  prev  self first   dup induct entropy sharp  job (share of rows)',
    ...r.heads.map((h) =>
      [String(h.layer).padStart(5), String(h.head).padStart(4), f(h.prev).padStart(5), f(h.self).padStart(5), f(h.first).padStart(5), f(h.duplicate).padStart(5),
        f(h.induction).padStart(6), f(h.entropy).padStart(7), f(h.sharpness).padStart(5), ' ' + (h.job ? `${h.job} (${f(h.job_share)})` : h.sharpness >= SHARP ? '(sharp, no single job)' : '')].join(' ')
    ),
    '',
    sharpSentence(r),
    `in-context copying: ${f(r.copy_loss.first, 3)} nats/token on the first copy, ${f(r.copy_loss.second, 3)} on the second (mean of ${d.copySeeds.length} seed${d.copySeeds.length === 1 ? '' : 's'})`,
    `embedding neighbours: of ${r.neighbours.words} words, ${r.neighbours.single_tokens} are single tokens; ${r.neighbours.with_group_neighbour} of those have a word of their group among their ${neighboursK} nearest tokens`
  ];
  for (const g of r.neighbours.groups) {
    const hits = g.members.filter((m) => m.id !== null).map((m) => `${m.word}${m.same_group ? '*' : ''} → ${m.neighbours.map((n) => JSON.stringify(n)).join(' ')}`);
    lines.push(`  ${g.name}: ${g.single_tokens}/${g.words} single, ${g.with_group_neighbour} with a group neighbour${hits.length ? ':' : ''}`);
    for (const h of hits) lines.push(`    ${h}`);
  }
  lines.push(
    `real words: ${f(100 * r.real_words, 1)}% of ${d.sampledWords} words (${d.sampledTokens} tokens, ${d.prompts.length} prompts × ${d.sampleSeeds.length} seed${d.sampleSeeds.length === 1 ? '' : 's'}, temperature ${sampleTemperature}) occur in the training text`,
    `held-out: ${f(r.nats_per_char, 4)} nats/char`
  );
  return lines.join('\n');
}

// One sentence on the heads that attend sharply, shared by the readable output and the model card.
export function sharpSentence(r: ProbeResult): string {
  const sharp = r.heads.filter((h) => h.sharpness >= SHARP);
  const jobbed = sharp.filter((h) => h.job !== null && h.job !== 'itself');
  const list = jobbed.map((h) => `${h.layer}.${h.head} ${h.job}`).join(', ');
  const are = (n: number) => (n === 1 ? 'is' : 'are');
  return `${sharp.length} of ${r.heads.length} heads ${are(sharp.length)} sharp (≥ ${SHARP}); ${jobbed.length} of them ${jobbed.length === 1 ? 'has' : 'have'} a job other than "itself" ` +
    `(a job: at least ${100 * JOB_SHARE}% of rows)${list ? `: ${list} (layer.head)` : ''}.`;
}

if (process.argv[1]?.endsWith('probe.ts')) {
  run(async () => {
    const args = parseArgs(process.argv.slice(2), { model: 'string', json: 'boolean', quick: 'boolean' });
    const { result, details } = await probeModel(args.model, { quick: args.quick, onProgress: (m) => process.stderr.write(`probe: ${m}\n`) });
    if (args.json) {
      const { heads, copy_loss, neighbours, real_words, nats_per_char } = result;
      process.stdout.write(JSON.stringify({ heads, copy_loss, neighbours, real_words, nats_per_char }) + '\n');
      return;
    }
    console.log(probeText(result, details));
  });
}
