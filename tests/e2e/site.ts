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
  top: { id: number; text: string; p: number }[];
}

// The engine's answer for a prompt, from the command line: the same code the page runs in its
// worker, run by Node.
export function trace(prompt: string): TraceOutput {
  const out = execFileSync('npm', ['run', '--silent', 'trace', '--', '--prompt', prompt, '--model', modelDir, '--json'], {
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
}

// The engine's generation from the command line, with the same settings as a figure.
export function generate(a: GenerateArgs): GenerateOutput {
  const args = ['run', '--silent', 'generate', '--', '--prompt', a.prompt, '--tokens', String(a.tokens), '--temperature', String(a.temperature), '--seed', String(a.seed), '--model', modelDir, '--json'];
  if (a.topK !== undefined) args.push('--top-k', String(a.topK));
  if (a.topP !== undefined) args.push('--top-p', String(a.topP));
  const out = execFileSync('npm', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`npm run generate printed no JSON:\n${out}`);
  return JSON.parse(line) as GenerateOutput;
}

// Wait until every live figure on the page has drawn its first result (or shown an error): a
// figure marks its first result with data-rank="0" (a ranked list) or data-ready.
export async function waitForFigures(page: Page): Promise<void> {
  const figures = page.locator('figure.widget');
  const count = await figures.count();
  for (let i = 0; i < count; i++) {
    const figure = figures.nth(i);
    await figure.scrollIntoViewIfNeeded();
    // (the Figure frame puts data-ready on the figure itself, hence :scope)
    await expect(figure.locator(':scope[data-ready], [data-rank="0"], [data-ready], [data-testid="engine-error"]').first()).toBeVisible();
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  // let bars finish growing and fonts arrive, so a screenshot shows the final picture
  await page.waitForFunction(() => document.getAnimations().length === 0);
  await page.evaluate(() => document.fonts.ready);
}
