// Chapter 8 read the way a reader reads it: every number the training figures show must be the
// engine's for the same input. The page runs ?backend=cpu, the same float32 arithmetic as the Node
// engine here.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { modelDir } from './site';
import { loadModelDir } from '../../engine/cli/common';
import { createRunner } from '../../engine/backend';
import { brownSplit } from '../../engine/cli/corpus';
import { CharNgram, ngramNats } from '../../engine/ngram';
import { fusedKernels } from '../../engine/train/gpt-train';
import { LiveRun, liveMemoryBytes, parseLivePack } from '../../engine/train/live';
import { resetLongTasks, reportLongTasks, watchLongTasks } from './long-tasks';

const model = loadModelDir(modelDir);
const runnerReady = createRunner(model, { backend: 'cpu' });

// −log P(token | before) for each token of `text` after <|endoftext|>, computed here from the
// engine's logits with a log-sum-exp written out in this file
async function surpriseOf(text: string): Promise<{ ids: number[]; nats: number[] }> {
  const runner = await runnerReady;
  const ids = model.tokenizer.encode(text);
  const V = model.config.vocab_size;
  const { logits } = await runner.forward([model.config.eos_token_id, ...ids.slice(0, -1)]);
  const nats = ids.map((id, t) => {
    const row = Array.from(logits.subarray(t * V, (t + 1) * V));
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, z) => s + Math.exp(z - max), 0));
    return lse - row[id];
  });
  return { ids, nats };
}

async function openFigure(page: Page, widget: string): Promise<Locator> {
  await page.goto('/training?backend=cpu');
  const figure = page.locator(`[data-widget="${widget}"]`);
  await figure.scrollIntoViewIfNeeded();
  await expect(figure).toHaveAttribute('data-ready', '');
  return figure;
}

test('surprise: each token’s value and the mean are −log P from the engine, for texts the test chooses', async ({ page }) => {
  const figure = await openFigure(page, 'surprise');
  const cases = [
    { which: 'real', label: 'A real sentence', text: 'She walked to the store and bought some bread.' },
    { which: 'other', label: 'The same words, shuffled', text: 'Bread store the some walked and to she bought.' }
  ];
  for (const c of cases) {
    const part = figure.locator(`[data-text="${c.which}"]`);
    await part.getByRole('textbox', { name: c.label }).fill(c.text);
    const want = await surpriseOf(c.text);
    const chips = part.locator('[role="option"]');
    await expect(chips).toHaveCount(want.ids.length);
    await expect(chips.first()).toHaveAttribute('data-id', String(want.ids[0]));
    const got = await chips.evaluateAll((els) => els.map((e) => ({ id: Number(e.getAttribute('data-id')), nats: Number(e.getAttribute('data-value')) })));
    expect(got.map((g) => g.id)).toEqual(want.ids);
    got.forEach((g, i) => expect(g.nats, `token ${i}`).toBeCloseTo(want.nats[i], 4));
    const mean = want.nats.reduce((a, b) => a + b, 0) / want.nats.length;
    const shownMean = part.getByTestId('mean');
    expect(Number(await shownMean.getAttribute('data-value'))).toBeCloseTo(mean, 4);
    await expect(shownMean).toHaveText(mean.toFixed(3));

    // the value of a focused token, read as a person reads it
    const i = 2;
    await chips.nth(0).focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await expect(part.getByTestId('shown-nats')).toHaveText(want.nats[i].toFixed(2));
    expect(Number(await part.getByTestId('shown-nats').getAttribute('data-value'))).toBeCloseTo(want.nats[i], 4);
  }
  // the shuffled words cost more than the sentence
  const real = Number(await figure.locator('[data-text="real"]').getByTestId('mean').getAttribute('data-value'));
  const other = Number(await figure.locator('[data-text="other"]').getByTestId('mean').getAttribute('data-value'));
  expect(other).toBeGreaterThan(real);
  // the formula's result is the real sentence's mean
  const formulaMean = figure.getByTestId('formula').locator('[data-value]').last();
  expect(Number(await formulaMean.getAttribute('data-value'))).toBeCloseTo(real, 10);
});

test('surprise: an empty text shows the hint and no tokens', async ({ page }) => {
  const figure = await openFigure(page, 'surprise');
  const part = figure.locator('[data-text="real"]');
  await part.getByRole('textbox', { name: 'A real sentence' }).fill('');
  await expect(part.getByTestId('empty-hint')).toBeVisible();
  await expect(part.locator('[role="option"]')).toHaveCount(0);
  await expect(figure.getByTestId('prompt-error')).toHaveCount(0);
});

// `npm run eval -- --json [--paragraphs n]`: the numbers the counting-vs-learning figure must show
function evalJson(paragraphs?: number): { model: number; unigram: number; bigram: number; trigram: number } {
  const extra = paragraphs === undefined ? [] : ['--paragraphs', String(paragraphs)];
  const out = execFileSync('npm', ['run', '--silent', 'eval', '--', '--json', '--model', modelDir, ...extra], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`npm run eval printed no JSON:\n${out}`);
  return JSON.parse(line);
}

test('counting vs learning: the held-out numbers are npm run eval’s, and the reader’s text is scored both ways', async ({ page }) => {
  test.setTimeout(300_000);
  const figure = await openFigure(page, 'ngram');
  const n = Number(await figure.getAttribute('data-paragraphs'));
  expect(n).toBeGreaterThan(0);
  const want = evalJson(n);
  for (const key of ['unigram', 'bigram', 'trigram', 'model'] as const) {
    const num = figure.locator(`table:not(.mine) tr[data-row="${key}"] .num`);
    const v = Number(await num.getAttribute('data-value'));
    // the n-grams are the same float64 sums; the model runs the same kernels with B = 2 windows a batch
    expect(v, key).toBeCloseTo(want[key], key === 'model' ? 6 : 12);
    await expect(num).toHaveText(want[key].toFixed(4));
  }

  // the reader's text: n-grams refit here on the training split, the model through the runner
  // (a different forward pass from the page's), both per character with one end-of-paragraph
  const text = 'A tall man stood by the river and watched the boats go by.';
  await figure.getByRole('textbox', { name: 'Your text, scored both ways' }).fill(text);
  const mine = figure.locator(`[data-testid="mine"][data-text="${text}"]`);
  await expect(mine).toBeVisible();
  // counts refit here from the training split; the λs are the ones npm run training-data tuned
  // (the same grid search as npm run eval's, too slow to repeat in a test)
  const { lambda2, lambda3 } = JSON.parse(readFileSync('static/data/brown-heldout.json', 'utf8')) as { lambda2: number; lambda3: number };
  const e = new CharNgram(brownSplit().train).estimates([text]);
  const grams = { unigram: ngramNats(e, 1, 0, 0), bigram: ngramNats(e, 2, lambda2, 0), trigram: ngramNats(e, 3, lambda2, lambda3) };
  const chars = [...text].length + 1;
  const ids = model.tokenizer.encode(text);
  const stream = [model.config.eos_token_id, ...ids, model.config.eos_token_id];
  const runner = await runnerReady;
  const V = model.config.vocab_size;
  const { logits } = await runner.forward(stream.slice(0, -1));
  let nats = 0;
  for (let t = 0; t < stream.length - 1; t++) {
    const row = Array.from(logits.subarray(t * V, (t + 1) * V));
    const max = Math.max(...row);
    nats += max + Math.log(row.reduce((s, z) => s + Math.exp(z - max), 0)) - row[stream[t + 1]];
  }
  const expected = { unigram: grams.unigram, bigram: grams.bigram, trigram: grams.trigram, model: nats / chars };
  for (const key of ['unigram', 'bigram', 'trigram', 'model'] as const) {
    const v = Number(await mine.locator(`tr[data-row="${key}"] .num`).getAttribute('data-value'));
    expect(v, key).toBeCloseTo(expected[key], key === 'model' ? 4 : 12);
  }
});

test('watch it learn: the live run’s loss falls, its first steps are the Node run’s, and a hidden tab pauses it', async ({ page }) => {
  test.setTimeout(300_000);
  await watchLongTasks(page);
  const figure = await openFigure(page, 'training');
  await expect(figure).toHaveAttribute('data-step', '0');
  await expect(figure).toHaveAttribute('data-running', 'false');
  await resetLongTasks(page);
  await figure.getByRole('button', { name: 'Start training' }).click();
  await expect(figure).toHaveAttribute('data-running', 'true');
  const steps = 24;
  await expect.poll(async () => Number(await figure.getAttribute('data-step')), { timeout: 240_000 }).toBeGreaterThanOrEqual(steps);
  await reportLongTasks(page, `training live in the worker (${await figure.getAttribute('data-step')} steps)`);
  await figure.getByRole('button', { name: 'Pause' }).click();
  await expect(figure).toHaveAttribute('data-running', 'false');
  console.log(`live training: ${await figure.getByTestId('tokens-per-sec').innerText()} tokens/s, ${await figure.getByTestId('time').innerText()}`);

  const logged = await figure.locator('circle[data-series="train"]').evaluateAll((els) => els.map((e) => ({ step: Number(e.getAttribute('data-x')), loss: Number(e.getAttribute('data-value')) })));
  expect(logged.length).toBeGreaterThanOrEqual(steps);
  expect(logged.map((p) => p.step).slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
  expect(logged.at(-1)!.loss, 'the last logged loss is below the first').toBeLessThan(logged[0].loss);

  // the same run in Node: the same data file, recipe, seed and kernels
  const pack = parseLivePack(JSON.parse(readFileSync('static/data/brown-live.json', 'utf8')));
  const run = new LiveRun(pack, await fusedKernels(liveMemoryBytes));
  const node = Array.from({ length: 5 }, () => run.next().loss);
  console.log(`first losses, page: ${logged.slice(0, 5).map((p) => p.loss).join(' ')}; Node: ${node.join(' ')}`);
  node.forEach((l, i) => expect(logged[i].loss, `step ${i + 1}`).toBe(l));

  // the held-out curve has its step-0 point and the tokens count is steps × B × T
  const shownSteps = Number(await figure.getAttribute('data-step'));
  expect(Number(await figure.getAttribute('data-tokens'))).toBe(shownSteps * run.recipe.batchSize * run.recipe.seqLen);
  await expect(figure.locator('circle[data-series="held-out"][data-x="0"]')).toHaveCount(1);

  // a hidden tab stops the run
  await figure.getByRole('button', { name: 'Continue' }).click();
  await expect(figure).toHaveAttribute('data-running', 'true');
  await page.evaluate(() => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await expect(figure).toHaveAttribute('data-running', 'false');
  await expect(figure.getByTestId('hidden-pause')).toBeVisible();
  const at = Number(await figure.getAttribute('data-step'));
  await page.waitForTimeout(3000);
  expect(Number(await figure.getAttribute('data-step')), 'no steps while hidden (one in flight may land)').toBeLessThanOrEqual(at + 2);

  // reset goes back to step 0
  await figure.getByRole('button', { name: 'Reset' }).click();
  await expect(figure).toHaveAttribute('data-step', '0');
  await expect(figure.locator('circle[data-series="train"]')).toHaveCount(0);
});
