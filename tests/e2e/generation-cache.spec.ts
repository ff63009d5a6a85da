// Chapter 7 read the way a reader reads it: the KV cache figure's rows are the tokens read, the
// texts written with and without the cache are equal and equal `npm run generate`, and a forced
// token's continuation is the CLI's continuation of the prompt with that token appended. The page
// runs ?backend=cpu, the same float32 arithmetic as the Node engine here.
import { expect, test, type Locator, type Page } from '@playwright/test';
import { generate, modelConfig, modelDir, trace } from './site';
import { loadModelDir } from '../../engine/cli/common';

const tokenizer = loadModelDir(modelDir).tokenizer;
const L = modelConfig.n_layer as number;
const C = modelConfig.n_embd as number;

async function open(page: Page, widget: string, prompt: string, done: string): Promise<Locator> {
  await page.goto('/generation?backend=cpu');
  await page.locator('html[data-hydrated]').waitFor(); // the page's controls answer from here on
  const figure = page.locator(`[data-widget="${widget}"]`);
  await figure.scrollIntoViewIfNeeded();
  // the text box is there before the model: typing at once replaces the figure's first run
  await figure.getByLabel('Prompt').fill(prompt);
  // generous waits: the whole figure's run may share a slow machine with other work
  await expect(figure).toHaveAttribute('data-text', prompt, { timeout: 150_000 });
  await expect(figure).toHaveAttribute(done, /.*/, { timeout: 150_000 });
  await expect(figure).toHaveAttribute('data-ready', '');
  return figure;
}

const ids = async (el: Locator) => ((await el.getAttribute('data-ids')) ?? '').split(',').filter((s) => s !== '').map(Number);
const shown = (piece: string) => (piece === '<|endoftext|>' ? '⏎' : piece);

test.describe.configure({ timeout: 300_000 });

test('with and without the cache the texts are equal, and equal npm run generate at T = 0', async ({ page }) => {
  const prompt = 'The dog ran to the';
  const figure = await open(page, 'kv-timing', prompt, 'data-done');
  const cached = figure.getByTestId('text-cached');
  const uncached = figure.getByTestId('text-uncached');
  const steps = Number(await figure.getAttribute('data-steps'));
  const cli = generate({ prompt, tokens: steps, temperature: 0, seed: 0, pastEot: true });
  const written = cli.steps.map((s) => s.chosen);
  expect(written.length).toBe(steps);
  expect(await ids(cached)).toEqual(written);
  expect(await ids(uncached)).toEqual(written);
  await expect(figure.getByTestId('texts-equal')).toHaveAttribute('data-equal', 'true');
  // the visible texts: the prompt's pieces, then each written token's (end-of-text as ⏎)
  const text = cli.pieces.map(shown).join('');
  await expect(cached).toHaveText(text);
  await expect(uncached).toHaveText(text);

  // the chart plots what the numbers say: one point per step each way, the last ones the last steps
  const points = (series: string) => figure.locator(`circle[data-series="${series}"]`);
  await expect(points('cached')).toHaveCount(steps);
  await expect(points('uncached')).toHaveCount(steps);
  const ms = async (series: string) => (await points(series).evaluateAll((cs) => cs.map((c) => Number(c.getAttribute('data-value'))))) as number[];
  const c = await ms('cached');
  const u = await ms('uncached');
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const q = Math.floor(steps / 4);
  // the medians under the chart are the medians of the plotted points
  const median = (xs: number[]) => {
    const v = [...xs].sort((a, b) => a - b);
    return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  };
  const value = async (id: string) => Number(await figure.getByTestId(id).getAttribute('data-value'));
  expect(await value('late-cached')).toBe(median(c.slice(-q)));
  expect(await value('late-uncached')).toBe(median(u.slice(-q)));
  expect(await value('early-uncached')).toBe(median(u.slice(1, 1 + q)));
  expect(await value('total-uncached')).toBeCloseTo(u.reduce((a, b) => a + b, 0), 6);
  // reported, not asserted on time: a shared machine's timings are noisy
  console.log(
    `ms per token over ${steps} steps from ${cli.prompt_tokens} prompt tokens: cached first quarter ${mean(c.slice(1, q)).toFixed(2)}, last quarter ${mean(c.slice(-q)).toFixed(2)}; ` +
      `uncached first quarter ${mean(u.slice(1, q)).toFixed(2)}, last quarter ${mean(u.slice(-q)).toFixed(2)}; ` +
      `totals cached ${(await figure.getByTestId('total-cached').getAttribute('data-value'))} uncached ${(await figure.getByTestId('total-uncached').getAttribute('data-value'))}`
  );
});

test('the KV cache holds one row per token read, in every layer, at every step', async ({ page }) => {
  const prompt = 'The cat sat on the';
  const figure = await open(page, 'kv-cache', prompt, 'data-rows');
  const n = trace(prompt).ids.length;
  const cli = generate({ prompt, tokens: 12, temperature: 0, seed: 0, pastEot: true });
  // the tokens on screen are the prompt and the CLI's continuation
  const chips = await figure.locator('p.tokens .tok').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-id'))));
  expect(chips).toEqual(cli.ids);
  for (const step of [1, 2, 5]) {
    while (Number(await figure.getAttribute('data-step')) < step) await figure.getByRole('button', { name: 'Step', exact: true }).click();
    await expect(figure).toHaveAttribute('data-step', String(step));
    const rows = n + step - 1; // the prompt, then one token per step before this one
    await expect(figure).toHaveAttribute('data-rows', String(rows));
    await expect(figure.getByTestId('rows')).toHaveAttribute('data-value', String(rows));
    await expect(figure.getByTestId('rows')).toHaveText(String(rows));
    await expect(figure.getByTestId('fresh')).toHaveAttribute('data-value', String(step === 1 ? n : 1));
    for (let l = 0; l < L; l++) {
      for (const kind of ['K', 'V']) {
        const bar = figure.locator(`.layer[data-layer="${l}"][data-kind="${kind}"]`);
        await expect(bar.locator('.slot')).toHaveCount(rows);
        await expect(bar.locator('.slot.new')).toHaveCount(step === 1 ? n : 1);
      }
    }
    // the chosen head's keys and values: a row of cells per cached token
    for (const map of await figure.locator('.maps .map').all()) await expect(map.locator('rect[data-col="0"]')).toHaveCount(rows);
    await expect(figure.getByTestId('bytes-now')).toHaveAttribute('data-value', String(2 * L * rows * C * 4));
    await expect(figure.getByTestId('bytes-now')).toHaveText(`${(2 * L * rows * C * 4).toLocaleString('en-US')} bytes`);
  }
  expect(Number(await figure.getByTestId('drift').getAttribute('data-value'))).toBeLessThan(1e-5);
  await expect(figure.getByTestId('bytes-gpt2')).toHaveAttribute('data-value', String(2 * 12 * 1024 * 768 * 4));
  await expect(figure.getByTestId('bytes-llama3-70b')).toHaveAttribute('data-value', String(2 * 80 * 8192 * 8 * 128 * 2));
});

// A candidate whose text, appended to the prefix, tokenizes back to exactly these ids, so that the
// CLI (which takes text) continues the same token ids as the page.
function roundTrips(prefix: number[], id: number): boolean {
  const all = [...prefix, id];
  return JSON.stringify(tokenizer.encode(tokenizer.decode(all))) === JSON.stringify(all);
}

test('forcing a token changes the continuation, and the new continuation is the CLI’s for the prompt with that token', async ({ page }) => {
  const prompt = 'The jury said that';
  const figure = await open(page, 'force-token', prompt, 'data-forced');
  const tokens = 16;
  const cli = generate({ prompt, tokens, temperature: 0, seed: 0 });
  const original = cli.steps.map((s) => s.chosen);
  expect(await ids(figure.getByTestId('original'))).toEqual(original);
  const promptIds = cli.ids.slice(0, cli.prompt_tokens);

  for (const at of [1, 2]) {
    await figure.locator(`[data-testid="original"] button[data-index="${at}"]`).click();
    await expect(figure).toHaveAttribute('data-step', String(at));
    const prefix = [...promptIds, ...original.slice(0, at - 1)];
    const bars = figure.locator(`ol.bars[data-step="${at}"] li`);
    const candidates = await bars.evaluateAll((lis) => lis.map((li) => Number(li.getAttribute('data-id'))));
    expect(candidates.length).toBeGreaterThan(1);
    expect(candidates).toContain(original[at - 1]);
    const pick = candidates.find((id) => id !== original[at - 1] && roundTrips(prefix, id));
    expect(pick, `a candidate at step ${at} other than the model's own that tokenizes back to itself`).toBeDefined();
    await figure.locator(`ol.bars[data-step="${at}"] li[data-id="${pick}"] button`).click();
    await expect(figure).toHaveAttribute('data-force', String(pick));
    const forced = figure.getByTestId('forced');
    await expect(forced).toHaveAttribute('data-forced', String(pick));
    const got = await ids(forced);
    const want = generate({ prompt: tokenizer.decode([...prefix, pick!]), tokens: tokens - at, temperature: 0, seed: 0 });
    expect(want.ids.slice(0, want.prompt_tokens)).toEqual([...prefix, pick]);
    expect(got).toEqual(want.steps.map((s) => s.chosen));
    expect(got, 'the continuation changed').not.toEqual(original.slice(at));
    expect(Number(await figure.getByTestId('differ').getAttribute('data-value'))).toBeGreaterThan(0);
  }
});
