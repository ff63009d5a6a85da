// Chapter 6 read the way a reader reads it: the sampling figures' numbers must be the engine's for
// the same text. The page runs ?backend=cpu, the same float32 arithmetic as the Node engine here.
import { expect, test, type Locator, type Page } from '@playwright/test';
import { generate, modelDir, trace } from './site';
import { watchLongTasks, resetLongTasks, reportLongTasks } from './long-tasks';
import { loadModelDir } from '../../engine/cli/common';
import { createRunner } from '../../engine/backend';
import { distribution, logSumExp, Rng, sample, softmaxWithTemperature, type SamplingOptions } from '../../engine/sampling';
import { percent } from '../../src/lib/format';

const model = loadModelDir(modelDir);
const runnerReady = createRunner(model, { backend: 'cpu' });

// the logits of the token after `text`, from the engine in this process
async function logitsOf(text: string): Promise<Float32Array> {
  const runner = await runnerReady;
  return (await runner.forward(model.tokenizer.encode(text), { lastOnly: true })).logits;
}

const byScore = (z: Float32Array, n: number) =>
  Array.from({ length: z.length }, (_, i) => i)
    .sort((a, b) => z[b] - z[a] || a - b)
    .slice(0, n);

async function open(page: Page, widget: string, prompt: string): Promise<Locator> {
  await page.goto('/sampling?backend=cpu');
  const figure = page.locator(`[data-widget="${widget}"]`);
  await figure.scrollIntoViewIfNeeded();
  await expect(figure).toHaveAttribute('data-ready', '');
  await figure.getByLabel('Text so far').fill(prompt);
  // the figure has computed for this text: the bars carry it, and the dice figure's root
  const done = figure.locator(`ol.bars[data-prompt="${prompt}"]`).or(page.locator(`[data-widget="${widget}"][data-prompt="${prompt}"]`));
  await expect(done.first()).toBeVisible();
  return figure;
}

async function bars(list: Locator) {
  return list.locator('li').evaluateAll((lis) =>
    lis.map((li) => ({
      id: Number(li.getAttribute('data-id')),
      p: Number(li.getAttribute('data-p')),
      value: Number(li.getAttribute('data-value')),
      kept: !li.classList.contains('out'),
      shown: li.querySelector('.pct')?.textContent?.trim() ?? ''
    }))
  );
}

async function setTemperature(figure: Locator, t: number) {
  await figure.getByLabel('Temperature', { exact: true }).fill(String(t));
  await expect(figure).toHaveAttribute('data-temperature', String(t));
}

test('the sampling figure’s probabilities at T = 0.5, 1 and 1.7 are the engine’s, and so are the shown percentages', async ({ page }) => {
  const prompt = 'The cat sat on the';
  const figure = await open(page, 'sampling', prompt);
  const logits = await logitsOf(prompt);
  const list = figure.locator(`ol.bars[data-prompt="${prompt}"]`);
  for (const T of [0.5, 1, 1.7]) {
    await setTemperature(figure, T);
    const p = softmaxWithTemperature(logits, T);
    const order = byScore(logits, 12);
    const shown = await bars(list);
    expect(shown.map((s) => s.id), `T = ${T}`).toEqual(order);
    shown.forEach((s, i) => {
      expect(Math.abs(s.p - p[order[i]]), `T = ${T}, rank ${i}`).toBeLessThan(1e-6);
      expect(s.value).toBe(s.p);
      expect(s.shown).toBe(percent(s.p)); // the visible percentage is the rounding of data-value
      expect(s.kept).toBe(true); // no top-k, no top-p: everything is kept
    });
    const d = distribution(logits, { temperature: T });
    await expect(figure.getByTestId('live-kept-count')).toHaveAttribute('data-value', String(d.kept.length));
    // the formula under the bars: the log of the sum of all V exponentials, and the top row's P
    const formula = figure.getByTestId('softmax-formula');
    await expect(formula).toHaveAttribute('data-temperature', String(T));
    const logSum = Number(await formula.getAttribute('data-log-sum'));
    expect(Math.abs(logSum - logSumExp(logits, T))).toBeLessThan(1e-9);
    const topP = await formula.locator('li').first().locator('[data-value]').last().getAttribute('data-value');
    expect(Number(topP)).toBe(shown[0].p);
  }
  // and `npm run trace` agrees, at T = 1 and at T = 0.5 with top-p
  await setTemperature(figure, 1);
  const cli = trace(prompt);
  const atOne = await bars(list);
  expect(atOne.slice(0, 10).map((s) => s.id)).toEqual(cli.top.map((t) => t.id));
  atOne.slice(0, 10).forEach((s, i) => expect(Math.abs(s.p - cli.top[i].p)).toBeLessThan(1e-6));
});

for (const [name, settings] of [
  ['top-k 5 at T 0.8', { temperature: 0.8, topK: 5 }],
  ['top-p 0.6 at T 1', { temperature: 1, topP: 0.6 }],
  ['top-p 0.9 at T 0.7 (the chat preset)', { temperature: 0.7, topP: 0.9 }]
] as [string, SamplingOptions][]) {
  test(`the kept set for ${name} is the engine’s`, async ({ page }) => {
    const prompt = 'He looked at her and';
    const figure = await open(page, 'sampling', prompt);
    await setTemperature(figure, settings.temperature);
    if (settings.topK !== undefined) {
      await figure.getByRole('checkbox', { name: 'top-k' }).check();
      await figure.getByLabel('k: how many tokens top-k keeps').fill(String(settings.topK));
      await expect(figure).toHaveAttribute('data-top-k', String(settings.topK));
    }
    if (settings.topP !== undefined) {
      await figure.getByLabel('top-p', { exact: true }).fill(String(settings.topP));
      await expect(figure).toHaveAttribute('data-top-p', String(settings.topP));
    }
    const d = distribution(await logitsOf(prompt), settings);
    const shown = await bars(figure.locator(`ol.bars[data-prompt="${prompt}"]`));
    const keptShown = shown.filter((s) => s.kept).map((s) => s.id);
    expect(keptShown).toEqual([...d.kept.subarray(0, shown.length)]);
    const count = figure.getByTestId('live-kept-count');
    await expect(count).toHaveAttribute('data-value', String(d.kept.length));
    await expect(count).toHaveText(d.kept.length.toLocaleString('en'));
    const mass = figure.getByTestId('live-kept-mass');
    expect(Math.abs(Number(await mass.getAttribute('data-value')) - d.keptMass)).toBeLessThan(1e-9);
    await expect(mass).toHaveText(percent(Number(await mass.getAttribute('data-value'))));
  });
}

test('T = 0 is greedy on the page and in the CLI: the same token, with probability 1', async ({ page }) => {
  const prompt = 'Once upon a time';
  const figure = await open(page, 'sampling', prompt);
  await setTemperature(figure, 0);
  await expect(figure.getByTestId('temperature-shown')).toHaveText('0 (greedy)');
  const shown = await bars(figure.locator(`ol.bars[data-prompt="${prompt}"]`));
  expect(shown[0].p).toBe(1);
  expect(shown.slice(1).every((s) => s.p === 0 && !s.kept)).toBe(true);
  await expect(figure.getByTestId('live-kept-count')).toHaveAttribute('data-value', '1');
  const cli = generate({ prompt, tokens: 1, temperature: 0, seed: 123 });
  expect(shown[0].id).toBe(cli.steps[0].chosen);
  expect(cli.steps[0].top).toEqual([{ id: cli.steps[0].chosen, text: model.tokenizer.tokenText(cli.steps[0].chosen), p: 1 }]);
  // the worked example is greedy too
  const toy = await bars(figure.getByTestId('worked-example').locator('ol.bars'));
  expect(toy.map((t) => t.p)).toEqual([1, 0, 0, 0, 0, 0]);
});

test('the worked example is computed: about 0.63 to the first score at T = 1', async ({ page }) => {
  const figure = await open(page, 'sampling', 'The');
  const toy = figure.getByTestId('worked-example');
  const z = Float32Array.from([4.2, 2.8, 2.3, 1.9, 0.8, 1.2]);
  for (const T of [1, 0.5, 2]) {
    await setTemperature(figure, T);
    const p = softmaxWithTemperature(z, T);
    const shown = await bars(toy.locator('ol.bars'));
    expect(shown.map((s) => s.id)).toEqual([0, 1, 2, 3, 5, 4]);
    shown.forEach((s) => expect(Math.abs(s.p - p[s.id])).toBeLessThan(1e-6));
    shown.forEach((s) => expect(s.shown).toBe(percent(s.p)));
    if (T === 1) expect(shown[0].p).toBeCloseTo(0.63, 2);
  }
});

test('the dice: each seed draws the engine’s token for that seed, and the counts are the engine’s draws', async ({ page }) => {
  const prompt = 'The little dog';
  const figure = await open(page, 'dice', prompt);
  const d = distribution(await logitsOf(prompt), { temperature: 1 });
  const rolls = figure.locator('ol.rolls li');
  await expect(rolls).toHaveCount(6);
  const shown = await rolls.evaluateAll((lis) => lis.map((li) => ({ seed: Number(li.getAttribute('data-seed')), id: Number(li.getAttribute('data-id')) })));
  for (const r of shown) expect(r.id, `seed ${r.seed}`).toBe(sample(d, new Rng(r.seed).next()));
  // and the first token `npm run generate` writes with that seed is the same
  const cli = generate({ prompt, tokens: 1, temperature: 1, seed: shown[0].seed });
  expect(cli.steps[0].chosen).toBe(shown[0].id);

  // the counter runs to 10,000 draws from the first seed; replay them here
  const draws = figure.getByTestId('draws');
  await expect(draws).toHaveAttribute('data-value', '10000', { timeout: 30_000 });
  const rng = new Rng(shown[0].seed);
  const counts = new Map<number, number>();
  for (let i = 0; i < 10000; i++) {
    const id = sample(d, rng.next());
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const freq = await figure.locator('ol.freq li').evaluateAll((lis) =>
    lis.map((li) => ({
      id: Number(li.getAttribute('data-id')),
      p: Number(li.getAttribute('data-p')),
      value: Number(li.getAttribute('data-value')),
      count: Number(li.getAttribute('data-count')),
      f: li.querySelector('.f')?.textContent ?? ''
    }))
  );
  expect(freq.map((f) => f.id)).toEqual([...d.kept.subarray(0, freq.length)]);
  for (const f of freq) {
    expect(f.count).toBe(counts.get(f.id) ?? 0);
    expect(f.value).toBe(f.count / 10000);
    expect(f.f).toBe(percent(f.value));
    expect(Math.abs(f.p - d.probs[f.id])).toBeLessThan(1e-6);
  }

  // other seeds: the next six, still the engine's draws
  await figure.getByRole('button', { name: 'Other seeds' }).click();
  await expect(rolls.first()).toHaveAttribute('data-seed', String(shown[0].seed + 6));
  const again = await rolls.evaluateAll((lis) => lis.map((li) => ({ seed: Number(li.getAttribute('data-seed')), id: Number(li.getAttribute('data-id')) })));
  for (const r of again) expect(r.id, `seed ${r.seed}`).toBe(sample(d, new Rng(r.seed).next()));
});

test('the chapter’s next-token figure with its formula shows the engine’s numbers', async ({ page }) => {
  const prompt = 'The jury said that';
  const figure = await open(page, 'next-token', prompt);
  const logits = await logitsOf(prompt);
  const d = distribution(logits, { temperature: 1 });
  const shown = await bars(figure.locator(`ol.bars[data-prompt="${prompt}"]`));
  expect(shown.map((s) => s.id)).toEqual([...d.kept.subarray(0, 10)]);
  shown.forEach((s) => expect(Math.abs(s.p - d.probs[s.id])).toBeLessThan(1e-6));
  const formula = figure.getByTestId('softmax-formula');
  await expect(formula).toHaveAttribute('data-temperature', '1');
  expect(Math.abs(Number(await formula.getAttribute('data-log-sum')) - logSumExp(logits, 1))).toBeLessThan(1e-9);
  // each written-out row: z, e^z, P, in that order, as data-value
  const rows = await formula.locator('li').evaluateAll((lis) =>
    lis.map((li) => ({ id: Number(li.getAttribute('data-id')), values: [...li.querySelectorAll('[data-value]')].map((e) => Number(e.getAttribute('data-value'))) }))
  );
  expect(rows.map((r) => r.id)).toEqual(shown.slice(0, 3).map((s) => s.id));
  for (const r of rows) {
    expect(r.values[0]).toBe(logits[r.id]);
    expect(Math.abs(r.values[1] - Math.exp(logits[r.id])) / Math.exp(logits[r.id])).toBeLessThan(1e-12);
    expect(r.values[2]).toBe(shown.find((s) => s.id === r.id)!.p);
  }
});

test('report: the longest main-thread task while dragging the temperature slider', async ({ page }) => {
  await watchLongTasks(page);
  const figure = await open(page, 'sampling', 'She opened the door and');
  const slider = figure.getByLabel('Temperature', { exact: true });
  await slider.scrollIntoViewIfNeeded();
  const box = (await slider.boundingBox())!;
  await resetLongTasks(page);
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + 2, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width - 2, y, { steps: 80 });
  await page.mouse.move(box.x + 2, y, { steps: 80 });
  await page.mouse.up();
  const t = Number(await figure.getAttribute('data-temperature'));
  expect(t).toBe(0); // the drag reached the left end: greedy
  await reportLongTasks(page, 'dragging the temperature slider over 160 steps');
});
