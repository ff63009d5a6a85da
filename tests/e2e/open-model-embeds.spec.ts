// The embed pages on a model the reader opened from disk. A teacher opens their folder on the site
// once and keeps it in the browser; every /embed/<name>?model=kept in that browser then runs it,
// from storage, with no request. The folder is written here with random weights (`npm run
// init-model`), in a shape unlike the shipped model's (3 layers, 2 heads, C = 64, context 64,
// vocabulary 600), and the figures' numbers are compared with `npm run trace --model` on it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { modelConfig, trace, waitForFigures, type TraceOutput } from './site';
import { openFolder, smallShape as shape, writeSmallFolder } from './opened';
import { widgets, type WidgetEntry } from '../../src/lib/embed/registry';
import { Tokenizer } from '../../engine/tokenizer';

test.describe.configure({ timeout: 180_000 });

const text = 'The dog chased the cat into the old barn.';
let root = '';
let small = '';
let want: TraceOutput;
let words = ''; // four words that are one token each in the small model's vocabulary, for the arithmetic

test.beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'open-embeds-'));
  small = writeSmallFolder(join(root, 'small-test'));
  want = trace(text, undefined, { model: small });
  const tok = Tokenizer.fromJSON(readFileSync(join(small, 'tokenizer.json'), 'utf8'));
  const single = tok.merges.map((m) => tok.tokenText(m.id).trim()).filter((w) => /^[a-z]{2,}$/.test(w) && tok.encode(w).length === 1);
  words = [...new Set(single)].slice(0, 4).join(',');
  expect(words.split(',')).toHaveLength(4);
});

test.afterAll(() => rmSync(root, { recursive: true, force: true }));

// Open the small folder with the page's Model control (the header's, or the one under an embed).
const openSmall = (page: Page, opts: { keep?: boolean } = {}) => openFolder(page, small, opts);

// the link's state for an entry: this text, the last layer and head, token 3 (where it has them)
function link(entry: WidgetEntry, extra: string): string {
  const q = new URLSearchParams();
  for (const p of entry.params) {
    if (p.name === 'text') q.set('text', text);
    // the live-training figure draws a model of its own, with fewer layers and heads
    const cap = (n: number) => String(p.type === 'int' && typeof p.max === 'number' ? Math.min(n - 1, p.max) : n - 1);
    if (p.name === 'layer') q.set('layer', cap(shape.layers));
    if (p.name === 'head') q.set('head', cap(shape.heads));
    if (p.name === 'token') q.set('token', '3');
    if (p.name === 'words') q.set('words', words);
    if (p.name === 'step' && entry.name === 'causal-mask') q.set('step', '3'); // the softmax: the map holds the weights
  }
  return `/embed/${entry.name}?${[q.toString(), extra].filter(Boolean).join('&')}`;
}

const row = (i: number) => want.layers[shape.layers - 1].heads[shape.heads - 1].weights[i];

test('every embed with ?model=kept runs the model kept in this browser, with the CLI’s numbers', async ({ page }) => {
  test.setTimeout(900_000);
  await page.goto('/the-loop?backend=cpu');
  await waitForFigures(page);
  await openSmall(page, { keep: true });
  await expect(page.getByTestId('model-kept')).toHaveAttribute('data-name', 'small-test');

  for (const entry of widgets) {
    await page.goto(link(entry, 'backend=cpu&model=kept'));
    await expect(page.getByTestId('model-control'), entry.name).toHaveAttribute('data-model', 'small-test');
    await waitForFigures(page);
    await expect(page.getByTestId('link-notes'), `${entry.name}: the link is valid for the kept model`).toHaveCount(0);
    const fig = page.locator('figure.widget').first();
    // the layer and head in the link are the kept model's last ones, which the shipped model also has:
    // the figure shows them, and where it has pickers they count the kept model's layers and heads
    if (entry.params.some((p) => p.name === 'layer') && entry.name !== 'training') {
      const layers = fig.getByRole('group', { name: 'Layer' }).getByRole('radio');
      if (await layers.count()) await expect(layers, `${entry.name}: layers`).toHaveCount(shape.layers);
    }
    // the tokens drawn for the link's text are the kept model's tokenizer's
    if (entry.params.some((p) => p.name === 'text') && !['bpe', 'guess', 'training'].includes(entry.name)) {
      const strip = fig.locator('[role=listbox], [role=list]').filter({ has: page.locator('[data-id]') }).first();
      if (await strip.count()) {
        const ids = await strip.locator('[data-id]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-id'))));
        expect(ids, `${entry.name}: token ids`).toEqual(want.ids);
      }
    }
    if (entry.name === 'attention') {
      await fig.getByRole('radio', { name: /weights/ }).check();
      const w = await fig.locator('table.row td.w').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
      for (let j = 0; j <= 3; j++) expect(Math.abs(w[j] - row(3)[j]), `attention weight 3,${j}`).toBeLessThan(1e-5);
    }
    if (entry.name === 'causal-mask') {
      for (let j = 0; j <= 3; j++) {
        const v = Number(await fig.locator(`[data-row="3"][data-col="${j}"][data-value]`).first().getAttribute('data-value'));
        expect(Math.abs(v - row(3)[j]), `causal-mask weight 3,${j}`).toBeLessThan(1e-5);
      }
    }
    if (entry.name === 'next-token') await expect(fig.locator('[data-rank="0"]').first()).toHaveAttribute('data-id', String(want.top[0].id));
  }
});

test('?model=kept in a browser that keeps no model, and an unknown model value, each say so and run the site’s model', async ({ page }) => {
  await page.goto('/embed/next-token?backend=cpu&model=kept');
  await waitForFigures(page);
  await expect(page.getByTestId('link-notes')).toContainText('no model is kept in this browser');
  await expect(page.getByTestId('model-control')).toHaveAttribute('data-model', String(modelConfig.explorable_name));
  await page.goto('/embed/next-token?backend=cpu&model=gpt-17');
  await waitForFigures(page);
  await expect(page.getByTestId('link-notes')).toContainText('model: "gpt-17" is not site or kept');
  await expect(page.getByTestId('model-control')).toHaveAttribute('data-model', String(modelConfig.explorable_name));
});

test('the Model control under an embed opens a folder: the figure is rebuilt on it, its state checked against the new ranges', async ({ page }) => {
  // the shipped model's last layer and head, which the small model does not have
  const [L, nh] = [Number(modelConfig.n_layer), Number(modelConfig.n_head)];
  expect(L).toBeGreaterThan(shape.layers);
  await page.goto(`/embed/attention?text=${encodeURIComponent(text)}&layer=${L - 1}&head=${nh - 1}&token=3&backend=cpu`);
  await waitForFigures(page);
  const fig = page.locator('figure[data-widget="attention"]');
  await expect(fig).toHaveAttribute('data-layer', String(L - 1));
  await openSmall(page);
  await waitForFigures(page);
  // clamped to the opened model's last layer and head, with a note; the text and token stay
  await expect(page.getByTestId('link-notes')).toContainText(`layer: ${L - 1} is out of range (0 to ${shape.layers - 1})`);
  await expect(fig).toHaveAttribute('data-layer', String(shape.layers - 1));
  await expect(fig).toHaveAttribute('data-head', String(shape.heads - 1));
  await expect(fig).toHaveAttribute('data-token', '3');
  await expect(fig.getByRole('group', { name: 'Head' }).getByRole('radio')).toHaveCount(shape.heads);
  const w = await fig.locator('table.row td.w').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
  for (let j = 0; j <= 3; j++) expect(Math.abs(w[j] - row(3)[j]), `attention weight 3,${j}`).toBeLessThan(1e-5);
  await page.screenshot({ path: 'test-results/screens/embed-opened-model.png', fullPage: true }); // for a person to look at
});

test('a figure’s Embed code, on an opened model, asks for the kept model', async ({ page }) => {
  await page.goto('/attention?backend=cpu');
  await waitForFigures(page);
  const fig = page.locator('figure[data-widget="attention"]');
  await fig.getByRole('button', { name: 'Embed' }).click();
  expect(await fig.getByTestId('copied').inputValue()).not.toContain('model=kept');
  await openSmall(page, { keep: true });
  await waitForFigures(page);
  await fig.getByRole('button', { name: 'Embed' }).click();
  const snippet = await fig.getByTestId('copied').inputValue();
  const src = await page.evaluate((html) => new DOMParser().parseFromString(html, 'text/html').querySelector('iframe')!.getAttribute('src')!, snippet);
  expect(new URL(src).searchParams.get('model')).toBe('kept');
  // and the embed it names runs the kept model
  await page.goto(new URL(src).pathname + new URL(src).search + '&backend=cpu');
  await expect(page.getByTestId('model-control')).toHaveAttribute('data-model', 'small-test');
  await waitForFigures(page);
});
