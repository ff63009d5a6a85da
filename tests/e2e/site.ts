// What the browser tests need to know about the site: its pages and its model, read from the same
// files the site is built from.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { readdirSync, readFileSync } from 'node:fs';
import { expect, type Page } from '@playwright/test';

const execFileAsync = promisify(execFile);

// A CLI's --json answer: the one line of its output that is a JSON object.
function jsonLine<T>(command: string, out: string): T {
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`npm run ${command} printed no JSON:\n${out}`);
  return JSON.parse(line) as T;
}

export const chapterSlugs = readdirSync('content')
  .filter((f) => /^\d+-[a-z0-9-]+\.md$/.test(f))
  .sort()
  .map((f) => f.replace(/^\d+-/, '').replace(/\.md$/, ''));

export const pages = [
  { name: 'home', path: '/' },
  ...chapterSlugs.map((slug) => ({ name: slug, path: `/${slug}` }))
];

const index = JSON.parse(readFileSync('static/models/index.json', 'utf8')) as { default: string };
export const modelDir = `static/models/${index.default}`;
export const modelConfig = JSON.parse(readFileSync(`${modelDir}/config.json`, 'utf8')) as Record<string, unknown>;

export interface TraceOutput {
  ids: number[];
  pieces: string[];
  layers: { heads: { weights: number[][] }[] }[]; // weights[i][j]: how much token i attends to token j
  top: { id: number; text: string; p: number }[];
  kept_count: number; // the kept set's size (all V without top-k or top-p)
  kept_mass: number; // the probability it held before renormalising
  tensors?: Record<string, { shape: number[]; data: number[] }>; // with keys: `h.<l>.<key>` per layer, or `<key>`
  lens?: { id: number; text: string; p: number }[][][]; // with lens: [position][row][rank], row 0 the embedding
}

export interface TraceOptions {
  model?: string; // the model folder (default: the shipped model, modelDir)
  keys?: string[]; // traced tensors to print too (--keys), e.g. ['x0', 'res2', 'logits']
  lens?: number; // the logit lens's top k at every position (--lens)
  temperature?: number; // the distribution's settings (--temperature, --top-k, --top-p)
  topK?: number;
  topP?: number;
  top?: number; // how many kept tokens to list (--top; 10 by default)
}

// The engine's answer for a prompt, from the command line: the same code the page runs in its
// worker, run by Node. `ablate` switches heads off for the pass ("2.3", "1.all"; see trace.ts).
export function trace(prompt: string, ablate?: string, opts: TraceOptions = {}): TraceOutput {
  const args = ['run', '--silent', 'trace', '--', '--prompt', prompt, '--model', opts.model ?? modelDir, '--json'];
  if (ablate !== undefined) args.push('--ablate', ablate);
  if (opts.keys?.length) args.push('--keys', opts.keys.join(','));
  if (opts.lens !== undefined) args.push('--lens', String(opts.lens));
  if (opts.temperature !== undefined) args.push('--temperature', String(opts.temperature));
  if (opts.topK !== undefined) args.push('--top-k', String(opts.topK));
  if (opts.topP !== undefined) args.push('--top-p', String(opts.topP));
  if (opts.top !== undefined) args.push('--top', String(opts.top));
  // traced tensors (logits are T × V numbers) make a long line
  const out = execFileSync('npm', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 512 * 2 ** 20 });
  return jsonLine<TraceOutput>('trace', out);
}

// A head's scores from its attention weights (rows 1..T-1, as the heads grid says it averages):
// the test's own, from the CLI's weights, to compare with the names and numbers the page shows.
export function headScores(w: number[][]) {
  const T = w.length;
  let [prev, self, first, entropy, sharpness] = [0, 0, 0, 0, 0];
  for (let i = 1; i < T; i++) {
    prev += w[i][i - 1];
    self += w[i][i];
    first += w[i][0];
    entropy -= w[i].slice(0, i + 1).reduce((s, p) => s + (p > 0 ? p * Math.log(p) : 0), 0);
    sharpness += Math.max(...w[i].slice(1, i + 1));
  }
  const n = T - 1;
  return { prev: prev / n, self: self / n, first: first / n, entropy: entropy / n, sharpness: sharpness / n };
}

export interface GenerateOutput {
  ids: number[];
  prompt_tokens: number;
  text: string;
  pieces: string[];
  stop: 'eot' | 'max_tokens' | 'context_full';
  steps: { chosen: number; cache_length: number; kept_mass: number; top: { id: number; text: string; p: number }[] }[];
}

export interface GenerateArgs {
  prompt: string;
  tokens: number;
  temperature: number;
  topK?: number;
  topP?: number;
  seed: number;
  pastEot?: boolean; // end-of-text stops nothing (--past-eot)
  model?: string; // the model folder (default: the shipped model, modelDir)
}

// The engine's generation from the command line, with the same settings as a figure.
export function generate(a: GenerateArgs): GenerateOutput {
  const args = ['run', '--silent', 'generate', '--', '--prompt', a.prompt, '--tokens', String(a.tokens), '--temperature', String(a.temperature), '--seed', String(a.seed), '--model', a.model ?? modelDir, '--json'];
  if (a.topK !== undefined) args.push('--top-k', String(a.topK));
  if (a.topP !== undefined) args.push('--top-p', String(a.topP));
  if (a.pastEot) args.push('--past-eot');
  const out = execFileSync('npm', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return jsonLine<GenerateOutput>('generate', out);
}

export interface EvalArgs {
  model?: string; // the model folder (default: the shipped model, modelDir)
  quantize?: 'fp32' | 'fp16' | 'int8' | 'int4'; // --quantize
  chars?: number; // --chars: the held-out slice chapter 9 scores
  paragraphs?: number; // --paragraphs: the first n held-out paragraphs, as chapter 8 scores
}

export interface EvalOutput {
  model: number; // nats per character
  unigram: number;
  bigram: number;
  trigram: number;
  precision: string;
  chars?: number; // with --chars: the slice's size
  paragraphs?: number;
  tokens?: number;
}

// The held-out loss from the command line (`npm run eval`). It takes seconds (the n-gram baselines
// are fitted each time), so it runs in the background: start it, do the page's part, then await it.
export async function evaluate(a: EvalArgs = {}): Promise<EvalOutput> {
  const args = ['run', '--silent', 'eval', '--', '--model', a.model ?? modelDir, '--json'];
  if (a.quantize !== undefined) args.push('--quantize', a.quantize);
  if (a.chars !== undefined) args.push('--chars', String(a.chars));
  if (a.paragraphs !== undefined) args.push('--paragraphs', String(a.paragraphs));
  const { stdout } = await execFileAsync('npm', args, { encoding: 'utf8' });
  return jsonLine<EvalOutput>('eval', stdout);
}

// The ready rule. A page is ready when every figure on it (every figure.widget) shows numbers the
// engine computed, and none shows an engine error. Every figure is drawn in the shared Figure
// frame, which sets data-ready on the figure itself once the figure shows all it computes (its
// `ready`); the loading and idle states never carry it. Marks inside a figure may appear before
// the rest (the BPE figure's pair counts, data-rank="0", before its encoded texts), so only the
// figure's own mark counts. An engine error (data-testid="engine-error") fails
// the wait with its message, so a screenshot or an axe check never passes on a page whose model
// did not load. Tests that expect the error use waitForEngineError instead.
export async function waitForFigures(page: Page): Promise<void> {
  const figures = page.locator('figure.widget');
  const count = await figures.count(); // a page without figures is ready as it is
  for (let i = 0; i < count; i++) {
    const figure = figures.nth(i);
    await figure.scrollIntoViewIfNeeded();
    const ready = figure.locator(':scope[data-ready]');
    const error = figure.getByTestId('engine-error');
    await expect(ready.or(error).first()).toBeVisible();
    if (await error.isVisible()) throw new Error(`figure ${i + 1} shows an engine error instead of numbers: ${await error.innerText()}`);
    await expect(ready, `figure ${i + 1} shows engine numbers`).toBeVisible();
  }
  await expect(page.getByTestId('engine-error'), 'no engine error anywhere on the page').toHaveCount(0);
  await settle(page);
}

// For the tests that expect the model to fail: every figure shows the engine's error (and its Try
// again button) instead of numbers. Returns each figure's error text.
export async function waitForEngineError(page: Page): Promise<string[]> {
  const figures = page.locator('figure.widget');
  const count = await figures.count();
  expect(count, 'figures on the page').toBeGreaterThan(0);
  const texts: string[] = [];
  for (let i = 0; i < count; i++) {
    const figure = figures.nth(i);
    await figure.scrollIntoViewIfNeeded();
    const error = figure.getByTestId('engine-error');
    await expect(error, `figure ${i + 1} shows the engine error`).toBeVisible();
    await expect(error.getByRole('button', { name: 'Try again' })).toBeVisible();
    await expect(figure.locator(':scope[data-ready], [data-rank="0"], [data-ready]'), `figure ${i + 1} shows no numbers`).toHaveCount(0);
    texts.push(await error.innerText());
  }
  await settle(page);
  return texts;
}

// back to the top, bars finished growing and fonts arrived, so a screenshot shows the final picture
async function settle(page: Page): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForFunction(() => document.getAnimations().length === 0);
  await page.evaluate(() => document.fonts.ready);
}
