// The generation figure of chapter 1, read the way a reader reads it: the tokens it picks, and the
// probabilities it shows, must be what `npm run generate` prints for the same settings. The page
// runs on the CPU (?backend=cpu), the same float32 arithmetic as the command line.
import { expect, test, type Locator, type Page } from '@playwright/test';
import { generate, modelConfig, modelDir } from './site';
import { loadModelDir } from '../../engine/cli/common';
import { createRunner } from '../../engine/backend';
import { generate as engineGenerate } from '../../engine/generate';

const nPositions = modelConfig.n_positions as number;
const eos = modelConfig.eos_token_id as number;

function figureOf(page: Page): Locator {
  return page.locator('figure.widget').filter({ hasText: 'The loop, one step at a time' });
}

interface Settings {
  prompt: string;
  temperature: number;
  topK?: number;
  topP: number;
  seed: number;
  maxTokens: number;
}

// Open the chapter on the CPU and set the figure's controls the way a reader would.
async function openWith(page: Page, s: Settings): Promise<Locator> {
  await page.goto('/the-loop?backend=cpu');
  await page.locator('html[data-hydrated]').waitFor(); // the page's controls answer from here on
  const figure = figureOf(page);
  await figure.scrollIntoViewIfNeeded();
  await figure.getByLabel('Prompt', { exact: true }).fill(s.prompt);
  await figure.getByLabel('Temperature', { exact: true }).fill(String(s.temperature));
  await figure.getByLabel('top-p', { exact: true }).fill(String(s.topP));
  await figure.getByLabel('top-k', { exact: true }).fill(s.topK === undefined ? '' : String(s.topK));
  await figure.getByLabel('Seed', { exact: true }).fill(String(s.seed));
  await figure.getByLabel('Max new tokens', { exact: true }).fill(String(s.maxTokens));
  // the session the figure runs is the one for these settings
  const text = figure.getByTestId('generated');
  await expect(text).toHaveAttribute('data-prompt', s.prompt);
  await expect(text).toHaveAttribute('data-temperature', String(s.temperature));
  await expect(text).toHaveAttribute('data-top-k', s.topK === undefined ? 'off' : String(s.topK));
  await expect(text).toHaveAttribute('data-top-p', String(s.topP));
  await expect(text).toHaveAttribute('data-seed', String(s.seed));
  await expect(text).toHaveAttribute('data-max-tokens', String(s.maxTokens));
  return figure;
}

const chosenIds = (figure: Locator) => figure.locator('[data-testid="generated"] button.new').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-id'))));

test('played to the end, the figure picks the tokens `npm run generate` picks, with its probabilities', async ({ page }) => {
  const s: Settings = { prompt: 'The little dog', temperature: 0.7, topK: 12, topP: 0.9, seed: 42, maxTokens: 8 };
  const expected = generate({ prompt: s.prompt, tokens: s.maxTokens, temperature: s.temperature, topK: s.topK, topP: s.topP, seed: s.seed });
  const figure = await openWith(page, s);

  await figure.getByRole('button', { name: 'Play', exact: true }).click();
  const stop = figure.getByTestId('stop-reason');
  await expect(stop).toHaveAttribute('data-stop', expected.stop);
  // the model may end the text before the limit: the reason shown is the CLI's either way
  await expect(stop).toContainText(expected.stop === 'eot' ? 'end-of-text' : `${expected.steps.length} new tokens, the limit`);

  expect(await chosenIds(figure)).toEqual(expected.ids.slice(expected.prompt_tokens));
  await expect(figure.getByTestId('pass-count')).toHaveAttribute('data-passes', String(expected.steps.length));

  // step 1 in detail: the context, the distribution, the kept set, the cache
  await figure.locator('[data-testid="generated"] button.new').first().click();
  const detail = figure.locator('.detail[data-step="1"]');
  await expect(detail).toBeVisible();
  const rows = await detail.locator('ol.dist li').evaluateAll((lis) =>
    lis.map((li) => ({
      id: Number(li.getAttribute('data-id')),
      p: Number(li.getAttribute('data-p')),
      kept: li.getAttribute('data-kept') === 'true',
      // what is on screen: the drawn-with percentage, without the screen-reader word "chosen,"
      drawn: [...(li.querySelector('.drawn')?.childNodes ?? [])].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join('').trim()
    }))
  );
  const first = expected.steps[0];
  expect(rows[0].id).toBe(first.top[0].id);
  expect(Math.abs(rows[0].p - first.top[0].p)).toBeLessThan(1e-6);
  // what a reader sees is that probability, rounded
  expect(Math.abs(Number.parseFloat(rows[0].drawn) / 100 - first.top[0].p)).toBeLessThan(0.005 * first.top[0].p);
  const kept = rows.filter((r) => r.kept);
  expect(kept.length).toBeGreaterThan(0);
  expect(kept.map((r) => r.id)).toEqual(first.top.slice(0, kept.length).map((t) => t.id));
  kept.forEach((r, i) => expect(Math.abs(r.p - first.top[i].p)).toBeLessThan(1e-6));
  // top-k 12 keeps at most 12; what was cut shows as cut
  expect(kept.length).toBeLessThanOrEqual(12);
  for (const r of rows.filter((x) => !x.kept)) expect(r.drawn).toBe('cut');
  await expect(detail.getByTestId('cache-length')).toHaveAttribute('data-cache', String(first.cache_length));
  await expect(detail.getByTestId('chosen')).toHaveAttribute('data-id', String(first.chosen));
  await expect(detail.locator('.context .piece')).toHaveCount(expected.prompt_tokens);

  // the last step: the cache holds the whole context but the token just picked
  const last = expected.steps.length;
  await figure.locator('[data-testid="generated"] button.new').last().click();
  await expect(figure.locator(`.detail[data-step="${last}"] [data-testid="cache-length"]`)).toHaveAttribute(
    'data-cache',
    String(expected.steps[last - 1].cache_length)
  );
});

test('Step runs one pass at a time, the cache grows by one, Reset starts over from the same seed', async ({ page }) => {
  const s: Settings = { prompt: 'Once upon a time', temperature: 1, topP: 1, seed: 3, maxTokens: 20 };
  const expected = generate({ prompt: s.prompt, tokens: 3, temperature: s.temperature, topP: s.topP, seed: s.seed });
  const figure = await openWith(page, s);
  const step = figure.getByRole('button', { name: 'Step', exact: true });
  const cache = figure.getByTestId('cache-length');
  for (let i = 1; i <= 3; i++) {
    await step.click();
    await expect(figure.locator('button.new')).toHaveCount(i);
    await expect(cache).toHaveAttribute('data-cache', String(expected.steps[i - 1].cache_length));
  }
  expect(await chosenIds(figure)).toEqual(expected.ids.slice(expected.prompt_tokens));
  await expect(figure.getByTestId('stop-reason')).toHaveCount(0);

  await figure.getByRole('button', { name: 'Reset', exact: true }).click();
  await expect(figure.locator('button.new')).toHaveCount(0);
  await step.click();
  await expect(figure.locator('button.new')).toHaveCount(1);
  expect(await chosenIds(figure)).toEqual([expected.steps[0].chosen]);
});

test('generation stops when the context is full, and says so', async ({ page }) => {
  // a prompt three tokens short of the context
  const model = loadModelDir(modelDir);
  const prompt = ' a'.repeat(nPositions - 3);
  expect(model.tokenizer.encode(prompt)).toHaveLength(nPositions - 3);
  const s: Settings = { prompt, temperature: 1, topP: 1, seed: 5, maxTokens: nPositions };
  const expected = generate({ prompt, tokens: nPositions, temperature: 1, topP: 1, seed: 5 });
  expect(expected.stop, 'the command line, with these settings').toBe('context_full');
  const figure = await openWith(page, s);
  await figure.getByRole('button', { name: 'Play', exact: true }).click();
  const stop = figure.getByTestId('stop-reason');
  await expect(stop).toHaveAttribute('data-stop', 'context_full');
  await expect(stop).toContainText(`at most ${nPositions} tokens`);
  expect(await chosenIds(figure)).toEqual(expected.ids.slice(expected.prompt_tokens));
  await expect(figure.getByRole('button', { name: 'Step', exact: true })).toBeDisabled();
});

// Find, with the engine itself, a one-token prompt and a seed whose first pick is end-of-text:
// the prompt after which end-of-text ranks highest, top-k cut just below it, and the first seed
// that draws it. Searching the whole vocabulary makes this work for any model, trained or not.
async function endOfTextCase(): Promise<{ prompt: string; topK: number; seed: number } | null> {
  const model = loadModelDir(modelDir);
  const runner = await createRunner(model, { backend: 'cpu' }); // as `npm run generate` runs it
  let best: { id: number; rank: number } | null = null;
  for (let id = 0; id < model.tokenizer.vocabSize; id++) {
    if (id === eos) continue;
    if (model.tokenizer.encode(model.tokenizer.decode([id])).join() !== String(id)) continue; // a lone byte does not round-trip
    const { logits } = await runner.forward([id], { lastOnly: true });
    let rank = 0;
    for (let j = 0; j < logits.length; j++) if (logits[j] > logits[eos]) rank++;
    if (!best || rank < best.rank) best = { id, rank };
  }
  if (!best) return null;
  const topK = best.rank + 1;
  for (let seed = 0; seed < 1000; seed++) {
    for await (const step of engineGenerate(runner, model.config, [best.id], { temperature: 1, topK, seed, maxTokens: 1 })) {
      if (step.chosen === eos) return { prompt: model.tokenizer.decode([best.id]), topK, seed };
    }
  }
  return null;
}

test('generation stops at the end-of-text token, and says so', async ({ page }) => {
  const found = await endOfTextCase();
  expect(found, 'a prompt and seed whose first pick is end-of-text').not.toBeNull();
  const { prompt, topK, seed } = found!;
  const expected = generate({ prompt, tokens: 5, temperature: 1, topK, topP: 1, seed });
  expect(expected.stop).toBe('eot');
  const figure = await openWith(page, { prompt, temperature: 1, topK, topP: 1, seed, maxTokens: 5 });
  await figure.getByRole('button', { name: 'Step', exact: true }).click();
  const stop = figure.getByTestId('stop-reason');
  await expect(stop).toHaveAttribute('data-stop', 'eot');
  await expect(stop).toContainText('end-of-text');
  expect(await chosenIds(figure)).toEqual([eos]);
  await expect(figure.getByRole('button', { name: 'Play', exact: true })).toBeDisabled();
  await expect(figure.getByRole('button', { name: 'Step', exact: true })).toBeDisabled();
});

test('bad settings show the engine’s message, and fixing them recovers', async ({ page }) => {
  const figure = await openWith(page, { prompt: 'Hello', temperature: 1, topP: 1, seed: 1, maxTokens: 5 });
  await figure.getByLabel('top-k', { exact: true }).fill('0');
  const message = figure.getByTestId('generation-error');
  await expect(message).toContainText('top-k must be a whole number of at least 1');
  await expect(figure.getByRole('button', { name: 'Step', exact: true })).toBeDisabled();
  await figure.getByLabel('top-k', { exact: true }).fill('3');
  await expect(message).toHaveCount(0);
  await expect(figure.getByTestId('generated')).toHaveAttribute('data-top-k', '3');
  await figure.getByLabel('Prompt', { exact: true }).fill('');
  await expect(message).toContainText('The prompt is empty');
});

test('the keyboard runs the figure: Step, Play and Pause, the step slider, a setting', async ({ page }) => {
  const figure = await openWith(page, { prompt: 'Hello', temperature: 1, topP: 1, seed: 1, maxTokens: 100 });
  const step = figure.getByRole('button', { name: 'Step', exact: true });
  await step.focus();
  await page.keyboard.press('Enter');
  await expect(figure.locator('button.new')).toHaveCount(1);
  await page.keyboard.press('Space');
  await expect(figure.locator('button.new')).toHaveCount(2);

  // Shift+Tab from Step reaches Play; Space plays, Space again pauses
  await page.keyboard.press('Shift+Tab');
  const play = figure.getByRole('button', { name: 'Play', exact: true });
  await expect(play).toBeFocused();
  await page.keyboard.press('Space');
  await expect(figure.getByRole('button', { name: 'Pause', exact: true })).toBeFocused();
  await expect.poll(() => figure.locator('button.new').count()).toBeGreaterThanOrEqual(4);
  await page.keyboard.press('Space');
  await expect(figure.getByRole('button', { name: 'Play', exact: true })).toBeVisible();
  const shown = await figure.locator('button.new').count();
  await page.waitForTimeout(800);
  expect(await figure.locator('button.new').count(), 'paused: no more steps').toBe(shown);

  // the step slider shows earlier steps
  const slider = figure.getByLabel(/^Step \d+ of \d+$/);
  await slider.focus();
  await page.keyboard.press('Home');
  await expect(figure.locator('.detail')).toHaveAttribute('data-step', '1');
  await page.keyboard.press('ArrowRight');
  await expect(figure.locator('.detail')).toHaveAttribute('data-step', '2');

  // a setting changed from the keyboard starts a new generation with it
  const temperature = figure.getByLabel('Temperature', { exact: true });
  await temperature.focus();
  await page.keyboard.press('ArrowLeft');
  await expect(figure.getByTestId('generated')).toHaveAttribute('data-temperature', '0.95');
  await expect(figure.locator('button.new')).toHaveCount(0);
});

test('switching the backend keeps the prompt and settings, and the CPU gives the same text again', async ({ page }) => {
  const s: Settings = { prompt: 'The cat sat', temperature: 0.9, topK: 8, topP: 0.95, seed: 11, maxTokens: 20 };
  const figure = await openWith(page, s);
  const step = figure.getByRole('button', { name: 'Step', exact: true });
  for (let i = 1; i <= 3; i++) {
    await step.click();
    await expect(figure.locator('button.new')).toHaveCount(i);
  }
  const before = await chosenIds(figure);

  const toggle = page.getByTestId('engine-toggle');
  await toggle.click();
  const now = page.getByTestId('backend-now');
  await page.getByRole('radio', { name: /^Auto/ }).check();
  await expect(now).toHaveAttribute('data-choice', 'auto');
  await expect(figure.locator('button.new')).toHaveCount(3); // replayed on the auto runner
  await page.getByRole('radio', { name: /^CPU/ }).check();
  await expect(now).toHaveAttribute('data-choice', 'cpu');
  await expect(now).toHaveText('CPU');
  await page.keyboard.press('Escape');

  await expect(figure.getByLabel('Prompt', { exact: true })).toHaveValue(s.prompt);
  await expect(figure.getByLabel('Seed', { exact: true })).toHaveValue(String(s.seed));
  await expect(figure.getByLabel('top-k', { exact: true })).toHaveValue(String(s.topK));
  // the steps shown before the switch are replayed on the new runner
  await expect(figure.locator('button.new')).toHaveCount(3);
  expect(await chosenIds(figure)).toEqual(before);
});

test.describe('screenshots', () => {
  for (const width of [1280, 375]) {
    for (const colorScheme of ['light', 'dark'] as const) {
      test(`generation figure after five steps, ${width}px ${colorScheme}`, async ({ page }) => {
        await page.setViewportSize({ width, height: width > 600 ? 900 : 812 });
        await page.emulateMedia({ colorScheme });
        const figure = await openWith(page, { prompt: 'She opened the door and', temperature: 0.8, topK: 5, topP: 0.9, seed: 1, maxTokens: 24 });
        for (let i = 1; i <= 5; i++) {
          await figure.getByRole('button', { name: 'Step', exact: true }).click();
          await expect(figure.locator('button.new')).toHaveCount(i);
        }
        await page.waitForFunction(() => document.getAnimations().length === 0);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, 'horizontal overflow in px').toBeLessThanOrEqual(0);
        await figure.screenshot({ path: `test-results/screens/the-loop-generation-${width}-${colorScheme}.png` });
      });
    }
  }
});
