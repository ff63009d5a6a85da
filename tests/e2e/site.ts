// What the browser tests need to know about the site: its pages and its model, read from the same
// files the site is built from.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { expect, type Page } from '@playwright/test';

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
}

// The engine's answer for a prompt, from the command line: the same code the page runs in its
// worker, run by Node. `ablate` switches heads off for the pass ("2.3", "1.all"; see trace.ts).
export function trace(prompt: string, ablate?: string): TraceOutput {
  const extra = ablate === undefined ? [] : ['--ablate', ablate];
  const out = execFileSync('npm', ['run', '--silent', 'trace', '--', '--prompt', prompt, '--model', modelDir, ...extra, '--json'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe']
  });
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`npm run trace printed no JSON:\n${out}`);
  return JSON.parse(line) as TraceOutput;
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
}

// The engine's generation from the command line, with the same settings as a figure.
export function generate(a: GenerateArgs): GenerateOutput {
  const args = ['run', '--silent', 'generate', '--', '--prompt', a.prompt, '--tokens', String(a.tokens), '--temperature', String(a.temperature), '--seed', String(a.seed), '--model', modelDir, '--json'];
  if (a.topK !== undefined) args.push('--top-k', String(a.topK));
  if (a.topP !== undefined) args.push('--top-p', String(a.topP));
  if (a.pastEot) args.push('--past-eot');
  const out = execFileSync('npm', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`npm run generate printed no JSON:\n${out}`);
  return JSON.parse(line) as GenerateOutput;
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
