// Every figure a teacher can embed, with the URL parameters its state travels in.
//
// One entry per widget: its data-widget name, its title, the component (loaded on demand, so an
// embed page downloads one widget, not the whole site), and its parameters. A parameter has the
// URL name (snake_case, the names of the URL-state convention: text, layer, head, token,
// temperature, top_k, top_p, seed, step, ...), the component prop it sets (camelCase), a type and
// a range, and the widget's own default. `validate` turns a query string into props, and says in
// plain words what it had to change (an unknown value is dropped, an out-of-range one clamped),
// so the page can show it.
//
// Adding a widget (chapters 7 and on): give it the optional initial-state props and the `onstate`
// callback of the convention (see docs/teaching.md), then add ONE entry to `widgets` below. The
// embed route, its prerendered pages, the docs table and the tests all read this list.
import type { Component } from 'svelte';
// The guess figure's first sentence (src/lib/widgets/guess-sentences.ts, from the held-out slice),
// written out: the registry is read by Node tests and scripts, which cannot import that JSON
// without an import attribute. tests/lib/registry.test.ts checks the two agree.
export const defaultGuessText = "Caldwell's resignation had been expected for some time.";

// What the model allows, once it has loaded: the ranges of layer, head and token depend on it.
export interface ModelLimits {
  n_layer: number;
  n_head: number;
  n_positions: number;
}

type Bound = number | ((m: ModelLimits) => number);

interface ParamBase {
  name: string; // in the URL
  prop: string; // the component prop it sets
  doc: string; // one line for docs/teaching.md
}

export type Param =
  | (ParamBase & { type: 'text'; default: string })
  | (ParamBase & { type: 'int'; min: Bound; max: Bound; default: number | null; off?: number; also?: string[] })
  | (ParamBase & { type: 'number'; min: number; max: number; default: number })
  | (ParamBase & { type: 'choice'; choices: string[]; default: string })
  | (ParamBase & { type: 'words'; count: number; default: string[] });

export interface WidgetEntry {
  name: string; // data-widget
  title: string;
  chapter: string; // the chapter slug it lives in (the Share link's page)
  load: () => Promise<{ default: Component<any> }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  params: Param[];
  size: { width: number; height: number }; // the iframe a snippet asks for
  steps?: string[]; // the URL names Present's arrow keys step through, first is ← →, second ↑ ↓
  fixed?: Record<string, unknown>; // props the chapter gives the component, which the embed gives too
}

// Shared parameter shapes, so every widget spells them the same way.
const text = (prop: string, fallback: string, doc = 'the text the model reads'): Param => ({ name: 'text', prop, type: 'text', default: fallback, doc });
const layer = (fallback = 0): Param => ({ name: 'layer', prop: 'layer', type: 'int', min: 0, max: (m) => m.n_layer - 1, default: fallback, doc: 'the block, counted from 0' });
const head = (fallback = 0): Param => ({ name: 'head', prop: 'head', type: 'int', min: 0, max: (m) => m.n_head - 1, default: fallback, doc: 'the attention head, counted from 0' });
const token = (doc = 'the selected token position, counted from 0 (past the end: the last token)'): Param => ({ name: 'token', prop: 'token', type: 'int', min: 0, max: (m) => m.n_positions - 1, default: null, doc });
const temperature = (fallback = 1): Param => ({ name: 'temperature', prop: 'temperature', type: 'number', min: 0, max: 2, default: fallback, doc: 'softmax temperature; 0 is greedy' });

export const widgets: WidgetEntry[] = [
  // chapter 1
  { name: 'next-token', title: 'The next token', chapter: 'the-loop', load: () => import('$lib/widgets/NextTokenDistribution.svelte'), size: { width: 720, height: 560 },
    params: [text('text', 'He looked at her and')] },
  { name: 'generation', title: 'The loop, one step at a time', chapter: 'the-loop', load: () => import('$lib/widgets/GenerationSteps.svelte'), size: { width: 800, height: 720 }, steps: ['step'],
    params: [
      text('text', 'She opened the door and'),
      temperature(1),
      { name: 'top_k', prop: 'topK', type: 'int', min: 0, max: 4096, off: 0, default: null, doc: 'keep only the k most likely tokens; 0 is off' },
      { name: 'top_p', prop: 'topP', type: 'number', min: 0.01, max: 1, default: 1, doc: 'keep the smallest set of tokens whose probability reaches p; 1 is off' },
      { name: 'seed', prop: 'seed', type: 'int', min: 0, max: 2 ** 31 - 1, default: 0, doc: 'the random seed of the draws' },
      { name: 'max_tokens', prop: 'maxTokens', type: 'int', min: 1, max: 128, default: 20, doc: 'how many tokens a run writes at most' },
      { name: 'step', prop: 'step', type: 'int', min: 0, max: 128, default: 0, doc: 'how many tokens have been generated' }
    ] },
  { name: 'parameter-file', title: 'The parameter file, model.safetensors', chapter: 'the-loop', load: () => import('$lib/widgets/ParameterFile.svelte'), size: { width: 800, height: 640 },
    params: [{ name: 'tensor', prop: 'selected', type: 'text', default: 'wte.weight', doc: 'the tensor whose values show (a name from the file, e.g. h.0.attn.c_attn.weight)' }] },
  // chapter 2
  { name: 'tokenizer', title: 'Text as tokens', chapter: 'tokens', load: () => import('$lib/widgets/TokenizerView.svelte'), size: { width: 800, height: 520 }, steps: ['token'],
    params: [text('text', 'The cat sat on the mat. A cat, the cats and one catalogue.'), token()] },
  { name: 'bpe', title: 'Training byte-pair merges', chapter: 'tokens', load: () => import('$lib/widgets/BpeStepper.svelte'), size: { width: 800, height: 720 }, steps: ['step'],
    params: [
      text('text', 'the cat and the hat sat on the mat; the other cat ate the hat, then the cat sat there.', 'the training text'),
      { name: 'new_text', prop: 'newText', type: 'text', default: 'that other hat', doc: 'the text the learned merges are applied to' },
      { name: 'merges', prop: 'merges', type: 'int', min: 1, max: 300, default: 40, doc: 'how many merges to learn' },
      { name: 'step', prop: 'step', type: 'int', min: 0, max: 300, default: 0, doc: 'how many of the merges are applied' }
    ] },
  { name: 'languages', title: 'The same words, in tokens', chapter: 'tokens', load: () => import('$lib/widgets/TokenLanguages.svelte'), size: { width: 800, height: 640 },
    params: [{ name: 'mode', prop: 'mode', type: 'choice', choices: ['greeting', 'sentence'], default: 'greeting', doc: 'which text is compared across languages' }] },
  // chapter 3
  { name: 'embedding-map', title: 'Every token of our vocabulary, as a point', chapter: 'embeddings', load: () => import('$lib/widgets/EmbeddingMap.svelte'), size: { width: 800, height: 760 },
    params: [
      { name: 'query', prop: 'query', type: 'text', default: 'he', doc: 'the token whose neighbours are listed' },
      text('text', 'She opened the door and saw her brother.', 'the text whose tokens are marked on the map')
    ] },
  { name: 'arithmetic', title: 'Arithmetic with embeddings: a − b + c', chapter: 'embeddings', load: () => import('$lib/widgets/VectorArithmetic.svelte'), size: { width: 800, height: 600 },
    params: [{ name: 'words', prop: 'words', type: 'words', count: 4, default: ['king', 'man', 'woman', 'queen'], doc: 'four words separated by commas: a − b + c, and the word expected' }] },
  { name: 'positions', title: 'Position embeddings, and what the first block receives', chapter: 'embeddings', load: () => import('$lib/widgets/PositionEmbeddings.svelte'), size: { width: 800, height: 640 }, steps: ['token'],
    params: [text('text', 'The dog saw the other dog.'), { ...(token() as object), default: 4 } as Param] },
  // chapter 4
  { name: 'attention', title: 'Attention inspector', chapter: 'attention', load: () => import('$lib/widgets/AttentionInspector.svelte'), size: { width: 800, height: 760 }, steps: ['token', 'head'],
    params: [text('prompt', 'The cat sat on the mat because it was tired.'), layer(), head(), token(),
      { name: 'view', prop: 'view', type: 'choice', choices: ['weights', 'scores'], default: 'weights', doc: 'what the map shows' }] },
  { name: 'qkv', title: 'Queries, keys and values', chapter: 'attention', load: () => import('$lib/widgets/QueryKeyValue.svelte'), size: { width: 800, height: 760 }, steps: ['token', 'head'],
    params: [text('prompt', 'The cat sat on the mat because it was tired.'), layer(), head(), token('the query token i (past the end: the last token)'),
      { name: 'key', prop: 'key', type: 'int', min: 0, max: (m) => m.n_positions - 1, default: null, doc: 'the key token j (past the query: the query itself)' }] },
  { name: 'causal-mask', title: 'Causal mask, step by step', chapter: 'attention', load: () => import('$lib/widgets/CausalMask.svelte'), size: { width: 800, height: 760 }, steps: ['step', 'token'],
    params: [text('prompt', 'The cat sat on the mat because it was tired.'), layer(), head(), token('the row worked through (past the end: the last token)'),
      { name: 'step', prop: 'step', type: 'int', min: 0, max: 3, default: 0, doc: 'the step of the computation shown' }] },
  { name: 'heads-grid', title: 'Every head, on your text', chapter: 'attention', load: () => import('$lib/widgets/HeadsGrid.svelte'), size: { width: 800, height: 720 },
    params: [text('text', 'The dog saw the cat, and the cat saw the dog.')] },
  { name: 'ablation', title: 'Switch a head off', chapter: 'attention', load: () => import('$lib/widgets/HeadAblation.svelte'), size: { width: 800, height: 720 },
    params: [text('text', 'When he came home, he'), layer(), { ...(head() as object), also: ['all'], doc: 'the head switched off, counted from 0, or all' } as Param] },
  // chapter 5
  { name: 'block', title: 'One block, with this text’s numbers', chapter: 'block', load: () => import('$lib/widgets/BlockDiagram.svelte'), size: { width: 800, height: 760 }, steps: ['token', 'layer'],
    params: [text('prompt', 'The old man walked slowly down the road'), layer(), token()] },
  { name: 'residual', title: 'The next-token guess, layer by layer', chapter: 'block', load: () => import('$lib/widgets/LogitLens.svelte'), size: { width: 800, height: 640 }, steps: ['token'],
    params: [text('prompt', 'She walked into the room and sat down on the'), token()] },
  { name: 'neurons', title: 'MLP neurons and what excites them', chapter: 'block', load: () => import('$lib/widgets/FfnNeurons.svelte'), size: { width: 800, height: 720 }, steps: ['layer'],
    params: [text('prompt', 'In 1961 the city council voted to raise taxes on the new houses.'), layer(1)] },
  { name: 'param-count', title: 'Where the parameters are', chapter: 'block', load: () => import('$lib/widgets/ParamCount.svelte'), size: { width: 800, height: 560 }, params: [] },
  // chapter 6
  { name: 'sampling', title: 'Temperature, top-k, top-p', chapter: 'sampling', load: () => import('$lib/widgets/SamplingFigure.svelte'), size: { width: 800, height: 760 }, steps: ['temperature', 'top_p'],
    params: [
      text('prompt', 'The old man looked at the'),
      temperature(1),
      { name: 'top_k', prop: 'topK', type: 'int', min: 0, max: 40, off: 0, default: 0, doc: 'keep only the k most likely tokens (1 to 40); 0 is off' },
      { name: 'top_p', prop: 'topP', type: 'number', min: 0.05, max: 1, default: 1, doc: 'keep the smallest set of tokens whose probability reaches p; 1 is off' }
    ] },
  { name: 'dice', title: 'Same logits, different dice', chapter: 'sampling', load: () => import('$lib/widgets/SamplingDice.svelte'), size: { width: 800, height: 720 }, steps: ['seed', 'temperature'],
    params: [text('prompt', 'She opened the door and'), temperature(1),
      { name: 'seed', prop: 'seed', type: 'int', min: 0, max: 2 ** 31 - 1, default: 1, doc: 'the seed of the first die' }] }  ,
  // chapter 7
  { name: 'kv-cache', title: 'The KV cache, step by step', chapter: 'generation', load: () => import('$lib/widgets/KvCache.svelte'), size: { width: 800, height: 760 }, steps: ['step', 'layer'],
    params: [text('text', 'The old man looked at the'),
      { name: 'step', prop: 'step', type: 'int', min: 0, max: 12, default: 1, doc: 'how many forward passes have run (0: none yet)' }, layer(), head(), temperature(0), { name: 'seed', prop: 'seed', type: 'int', min: 0, max: 2 ** 31 - 1, default: 0, doc: 'the random seed of the draws' }] },
  { name: 'kv-timing', title: 'With and without the cache', chapter: 'generation', load: () => import('$lib/widgets/CacheTiming.svelte'), size: { width: 800, height: 720 },
    params: [text('text', 'The old man looked at the'), temperature(0), { name: 'seed', prop: 'seed', type: 'int', min: 0, max: 2 ** 31 - 1, default: 0, doc: 'the random seed of the draws' }] },
  { name: 'force-token', title: 'Force a token, see the rest change', chapter: 'generation', load: () => import('$lib/widgets/ForceToken.svelte'), size: { width: 800, height: 640 }, steps: ['step'],
    params: [text('text', 'The jury said that'),
      { name: 'step', prop: 'step', type: 'int', min: 1, max: 6, default: 1, doc: 'the step whose token is forced (1: the first new token)' },
      { name: 'force', prop: 'force', type: 'int', min: 0, max: 65535, default: null, doc: 'the token id forced there (default: the model’s second choice)' },
      temperature(0), { name: 'seed', prop: 'seed', type: 'int', min: 0, max: 2 ** 31 - 1, default: 0, doc: 'the random seed of the draws' }] },
  // chapter 8
  { name: 'surprise', title: 'How surprised is the model?', chapter: 'training', load: () => import('$lib/widgets/Surprise.svelte'), size: { width: 800, height: 640 },
    params: [text('text', 'The jury said that the city had no money to pay for the new school.', 'the real sentence'),
      { name: 'other', prop: 'other', type: 'text', default: 'School money jury the pay no new said for city the had to that the.', doc: 'the sentence beside it' }] },
  { name: 'guess', title: 'Guess the next token', chapter: 'training', load: () => import('$lib/widgets/Guess.svelte'), size: { width: 800, height: 640 },
    params: [text('text', defaultGuessText, 'the sentence played (default: the first held-out one)'),
      { name: 'seed', prop: 'seed', type: 'int', min: 0, max: 2 ** 31 - 1, default: 0, doc: 'orders the choices at each step' }] },
  { name: 'ngram', title: 'Counting vs learning', chapter: 'training', load: () => import('$lib/widgets/NgramVsModel.svelte'), size: { width: 800, height: 640 },
    params: [{ name: 'paragraphs', prop: 'paragraphs', type: 'int', min: 1, max: 783, default: 8, doc: 'how many held-out paragraphs are scored' },
      text('text', 'The committee will meet again next week to discuss the new budget.', 'the reader’s own text, scored both ways')] },
  { name: 'training', title: 'Watch it learn', chapter: 'training', load: () => import('$lib/widgets/LiveTraining.svelte'), size: { width: 800, height: 860 },
    params: [
      { name: 'layer', prop: 'layer', type: 'int', min: 0, max: 1, default: 0, doc: 'the layer of the head drawn (the live model has 2)' },
      { name: 'head', prop: 'head', type: 'int', min: 0, max: 3, default: 0, doc: 'the head drawn (the live model has 4 per layer)' }] },
  { name: 'scale', title: 'Our run beside the large ones', chapter: 'training', load: () => import('$lib/widgets/TrainingScale.svelte'), size: { width: 800, height: 600 }, params: [] },
  // chapter 9
  { name: 'quantize', title: 'Quantize it', chapter: 'two-files', load: () => import('$lib/widgets/Quantize.svelte'), size: { width: 800, height: 900 },
    params: [text('text', 'The jury said that', 'the prompt continued at each precision'),
      { name: 'precision', prop: 'precision', type: 'choice', choices: ['fp16', 'int8', 'int4'], default: 'int4', doc: 'the precision whose histogram and errors show' },
      { name: 'tensor', prop: 'tensor', type: 'text', default: 'h.0.mlp.c_fc.weight', doc: 'the tensor whose weights are drawn' },
      { name: 'block', prop: 'block', type: 'int', min: 0, max: 65535, default: 0, doc: 'the row (int8) or group (int4) whose levels are drawn' }] },
  { name: 'model-weights', title: 'What the parameters weigh', chapter: 'two-files', load: () => import('$lib/widgets/ModelWeights.svelte'), size: { width: 800, height: 600 }, params: [] },
  { name: 'lora', title: 'LoRA: a small delta', chapter: 'two-files', load: () => import('$lib/widgets/Lora.svelte'), size: { width: 800, height: 480 },
    params: [{ name: 'tensor', prop: 'tensor', type: 'text', default: 'h.0.attn.c_attn.weight', doc: 'the matrix the adapter is put on' },
      { name: 'rank', prop: 'rank', type: 'int', min: 1, max: 128, default: 4, doc: 'the adapter’s rank r' }] },
  // chapter 10
  { name: 'confabulation', title: 'Plausible is not true', chapter: 'what-it-is-not', load: () => import('$lib/widgets/Continuations.svelte'), size: { width: 800, height: 720 },
    fixed: { name: 'confabulation', title: 'Plausible is not true', text: 'The treaty was signed in', temperature: 0.7, presets: [
      { label: 'A date', text: 'The treaty was signed in' },
      { label: 'A name', text: 'The new president of the company is Mr.' },
      { label: 'A citation', text: 'See the article by' }] },
    params: [text('text', 'The treaty was signed in'), temperature(0.7), { name: 'seed', prop: 'seed', type: 'int', min: 0, max: 2 ** 31 - 1, default: 1, doc: 'the random seed of the draws' }] },
  { name: 'autocomplete', title: 'A base model autocompletes', chapter: 'what-it-is-not', load: () => import('$lib/widgets/Continuations.svelte'), size: { width: 800, height: 720 },
    fixed: { name: 'autocomplete', title: 'A base model autocompletes', text: 'What is the capital of France?', presets: [
      { label: 'Capital', text: 'What is the capital of France?' },
      { label: 'How', text: 'How do you make bread?' },
      { label: 'Who', text: 'Who wrote this book?' }] },
    params: [text('text', 'What is the capital of France?'), temperature(1), { name: 'seed', prop: 'seed', type: 'int', min: 0, max: 2 ** 31 - 1, default: 1, doc: 'the random seed of the draws' }] }
];

export function findWidget(name: string): WidgetEntry | undefined {
  return widgets.find((w) => w.name === name);
}

// Text from a link is cut to this many characters before the widget sees it; the widget then cuts
// it to the model's context in tokens, with its own note. A token is at least one byte, and rarely
// more than a dozen characters, so this never cuts what the model could read.
export function textLimit(m: ModelLimits | null): number {
  return 16 * (m?.n_positions ?? 1024);
}

// ---- reading a query string, safely ------------------------------------------------------------

// Replaces lone UTF-16 surrogates by U+FFFD, so no string handed on can fail to encode.
export function wellFormed(s: string): string {
  return s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

// decodeURIComponent throws on malformed escapes (%E0%A4, %zz, a lone %); then each good escape
// run is decoded on its own and a bad one is kept as it was typed.
function decode(s: string): string {
  const plus = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus.replace(/(%[0-9a-fA-F]{2})+/g, (run) => {
      // a UTF-8 character is 1 to 4 escapes: take the longest that decodes, else keep one escape
      const bytes = run.match(/%[0-9a-fA-F]{2}/g)!;
      let out = '';
      for (let i = 0; i < bytes.length; ) {
        let n = Math.min(4, bytes.length - i);
        for (; n > 0; n--) {
          try {
            out += decodeURIComponent(bytes.slice(i, i + n).join(''));
            break;
          } catch {
            // shorter
          }
        }
        if (n === 0) {
          out += bytes[i];
          n = 1;
        }
        i += n;
      }
      return out;
    });
  }
}

// The query string as key → value (the last one wins); never throws.
export function readQuery(search: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of search.replace(/^\?/, '').split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = wellFormed(decode(eq < 0 ? part : part.slice(0, eq)));
    const value = wellFormed(decode(eq < 0 ? '' : part.slice(eq + 1)));
    out.set(key, value);
  }
  return out;
}

export interface Validated {
  props: Record<string, unknown>; // for the component; only the parameters the link set
  state: Record<string, string | number>; // the same, under the URL names, as applied
  notes: string[]; // what was changed, in words, for the reader
}

const short = (s: string) => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);

function bound(b: Bound, m: ModelLimits | null): number | null {
  return typeof b === 'number' ? b : m ? b(m) : null;
}

// The parameters of `entry` from a query string. Unknown keys are ignored (theme, backend and
// figure belong to the page); a value that is not of the parameter's type is dropped and a value
// out of range is clamped, each with a note. Model-dependent ranges (layer, head, token) are
// checked only when `model` is given; the widgets clamp them too.
export function validate(entry: WidgetEntry, query: Map<string, string>, model: ModelLimits | null): Validated {
  const props: Record<string, unknown> = {};
  const state: Record<string, string | number> = {};
  const notes: string[] = [];
  for (const p of entry.params) {
    const raw = query.get(p.name);
    if (raw === undefined) continue;
    if (p.type === 'text') {
      const cap = textLimit(model);
      let v = raw;
      if (v.length > cap) {
        v = v.slice(0, cap);
        notes.push(`${p.name}: the link's text was ${raw.length.toLocaleString('en')} characters long; the first ${cap.toLocaleString('en')} are kept.`);
      }
      props[p.prop] = state[p.name] = v;
    } else if (p.type === 'choice') {
      if (p.choices.includes(raw)) props[p.prop] = state[p.name] = raw;
      else notes.push(`${p.name}: ${short(raw)} is not one of ${p.choices.join(', ')}; ${p.default} is used.`);
    } else if (p.type === 'words') {
      const words = raw.split(',').map((w) => w.trim());
      if (words.length === p.count && words.every((w) => w.length > 0 && w.length <= 64)) {
        props[p.prop] = words;
        state[p.name] = words.join(',');
      } else notes.push(`${p.name}: needs ${p.count} words separated by commas; ${short(raw)} is not, so ${p.default.join(', ')} are used.`);
    } else {
      if (p.type === 'int' && p.also?.includes(raw)) {
        props[p.prop] = state[p.name] = raw;
        continue;
      }
      const n = raw.trim() === '' ? NaN : Number(raw);
      if (!Number.isFinite(n) || (p.type === 'int' && !Number.isInteger(n))) {
        notes.push(`${p.name}: ${short(raw)} is not ${p.type === 'int' ? 'a whole number' : 'a number'}; the figure's own value is used.`);
        continue;
      }
      const lo = bound(p.min, model);
      const hi = bound(p.max, model);
      let v = n;
      if (lo !== null && v < lo) v = lo;
      if (hi !== null && v > hi) v = hi;
      if (v !== n) notes.push(`${p.name}: ${n} is out of range (${lo ?? '…'} to ${hi ?? '…'}); ${v} is used.`);
      props[p.prop] = p.type === 'int' && p.off !== undefined && v === p.off ? null : v;
      state[p.name] = v;
    }
  }
  return { props, state, notes };
}

// A widget's state (from onstate) as a query string, in the order of its parameters; values equal
// to the default are left out, so links stay short.
export function toQuery(entry: WidgetEntry, s: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const p of entry.params) {
    const v = s[p.name];
    if (v === undefined || v === null) continue;
    const def = p.type === 'words' ? p.default.join(',') : p.default;
    if (v === def || (p.type === 'int' && p.off !== undefined && v === p.off && def === null)) continue;
    q.set(p.name, String(v));
  }
  return q.toString();
}

// One line per parameter, for the docs.
export function describeParam(p: Param): string {
  const b = (x: Bound) => (typeof x === 'number' ? String(x) : x.toString().includes('n_layer') ? 'layers − 1' : x.toString().includes('n_head') ? 'heads − 1' : 'context − 1');
  switch (p.type) {
    case 'text': return `text (up to the model's context)`;
    case 'choice': return p.choices.join(' | ');
    case 'words': return `${p.count} words, comma-separated`;
    case 'number': return `number ${p.min} to ${p.max}`;
    case 'int': return `whole number ${b(p.min)} to ${b(p.max)}${p.also ? ` or ${p.also.join(', ')}` : ''}`;
  }
}
