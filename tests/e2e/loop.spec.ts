// Chapter 1, read the way a reader reads it: the numbers in its figure must be the engine's numbers.
// The site is opened with ?backend=cpu, so the page runs the same float32 arithmetic as the
// command line (a GPU, even a software one, sums in another order).
import { expect, test, type Page } from '@playwright/test';
import { percent, visibleToken } from '../../src/lib/format';
import { modelConfig, trace } from './site';

const prompt = 'The little dog ran to the';

async function openTheLoop(page: Page) {
  await page.goto('/?backend=cpu');
  await page.locator('html[data-hydrated]').waitFor(); // before, the link is a full page load
  await page.getByRole('link', { name: /The loop/ }).click();
  await expect(page).toHaveURL(/\/the-loop$/);
  await page.locator('html[data-hydrated]').waitFor(); // a click before the page runs is lost
  // the setting from the first page's address holds after moving to the chapter
  await page.getByTestId('engine-toggle').click();
  await expect(page.getByRole('radio', { name: /^CPU/ })).toBeChecked();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('heading', { level: 1, name: 'The loop' })).toBeVisible();
}

test('the next-token distribution on screen equals the engine’s, for a typed prompt', async ({ page }) => {
  await openTheLoop(page);
  const input = page.getByLabel('Text so far');
  await input.fill(prompt);

  const bars = page.locator(`ol.bars[data-prompt="${prompt}"]`);
  await expect(bars).toBeVisible();
  const rows = bars.locator('li');
  await expect(rows).toHaveCount(10);

  const expected = trace(prompt);
  const shown = await rows.evaluateAll((lis) =>
    lis.map((li) => ({
      id: Number(li.getAttribute('data-id')),
      p: Number(li.getAttribute('data-p')),
      percent: li.querySelector('.pct')?.textContent ?? ''
    }))
  );

  // the top token and its probability, to float32 precision
  expect(shown[0].id).toBe(expected.top[0].id);
  expect(Math.abs(shown[0].p - expected.top[0].p)).toBeLessThan(1e-6);
  // and the rest of the list, in order
  expect(shown.map((s) => s.id)).toEqual(expected.top.slice(0, 10).map((t) => t.id));
  shown.forEach((s, i) => expect(Math.abs(s.p - expected.top[i].p)).toBeLessThan(1e-6));
  // the percentage a reader sees is that probability, rounded
  const onScreen = Number.parseFloat(shown[0].percent) / 100;
  expect(Math.abs(onScreen - expected.top[0].p)).toBeLessThan(0.005 * expected.top[0].p);
  // and the prompt's tokens are the ones the engine made
  await expect(page.locator('.tokens .chip')).toHaveCount(expected.ids.length);

  // What a person reads, row by row: the token's label and the percentage column, each written
  // from the command line's answer by the site's own formatting; and the prompt's chips, with the
  // token id each carries, so a wrong label, a wrong rounding or a token lost on the way to the
  // worker fails here even when the data-* attributes are right.
  const labels = await rows.locator('.tok').allInnerTexts();
  const percents = await rows.locator('.pct').allInnerTexts();
  expect(labels).toEqual(expected.top.slice(0, 10).map((t) => visibleToken(t.text)));
  expect(percents).toEqual(expected.top.slice(0, 10).map((t) => percent(t.p)));
  const chips = page.locator('figure.widget').first().locator('.tokens .chip');
  expect(await chips.allInnerTexts()).toEqual(expected.pieces.map(visibleToken));
  expect(await chips.evaluateAll((els) => els.map((e) => Number(e.getAttribute('title')?.replace('token id ', ''))))).toEqual(expected.ids);
});

test('an empty prompt shows the engine’s message and keeps the figure usable', async ({ page }) => {
  await openTheLoop(page);
  const input = page.getByLabel('Text so far');
  await input.fill(prompt);
  await expect(page.locator(`ol.bars[data-prompt="${prompt}"]`)).toBeVisible();

  await input.fill('');
  const message = page.getByTestId('prompt-error');
  await expect(message).toContainText('The prompt is empty');
  await expect(page.locator('ol.bars li')).toHaveCount(10); // the last distribution stays in view

  await input.fill('Hello');
  await expect(page.locator('ol.bars[data-prompt="Hello"]')).toBeVisible();
  await expect(message).toHaveCount(0);
});

test('choosing a token appends it and runs the model again', async ({ page }) => {
  await openTheLoop(page);
  const input = page.getByLabel('Text so far');
  await input.fill(prompt);
  await expect(page.locator(`ol.bars[data-prompt="${prompt}"]`)).toBeVisible();

  await page.locator('ol.bars li[data-rank="0"] button').click();
  await expect(input).not.toHaveValue(prompt); // the click's update lands a moment later
  const grown = await input.inputValue();
  expect(grown.startsWith(prompt) && grown.length > prompt.length).toBe(true);
  await expect(page.locator('ol.bars')).toHaveAttribute('data-prompt', grown);
});

test('the figure computes once per change, then rests', async ({ page }) => {
  // count the messages the page sends to the engine worker
  await page.addInitScript(() => {
    const post = Worker.prototype.postMessage;
    (window as unknown as { posts: number }).posts = 0;
    Worker.prototype.postMessage = function (this: Worker, ...args: Parameters<Worker['postMessage']>) {
      (window as unknown as { posts: number }).posts++;
      return post.apply(this, args);
    } as Worker['postMessage'];
  });
  await openTheLoop(page);
  await page.getByLabel('Text so far').fill(prompt);
  const figure = page.locator('figure.widget').first();
  await expect(figure.locator(`ol.bars[data-prompt="${prompt}"]`)).toBeVisible();
  await expect(figure).toHaveAttribute('aria-busy', 'false');
  const posts = () => page.evaluate(() => (window as unknown as { posts: number }).posts);
  const before = await posts();
  await page.waitForTimeout(1000);
  expect(await posts()).toBe(before);
});

test('the figure labels a model with random weights, and only such a model', async ({ page }) => {
  expect(modelConfig.explorable_random_init).toBeUndefined(); // the shipped model is trained
  await openTheLoop(page);
  await page.getByLabel('Text so far').scrollIntoViewIfNeeded();
  await expect(page.locator('ol.bars li').first()).toBeVisible();
  await expect(page.getByTestId('random-model')).toHaveCount(0);

  // the same files, with config.json marked as a random initialisation
  await page.route('**/config.json', async (route) => {
    // a new body, so not the old response's headers: its content-length is the old file's
    const response = await route.fetch();
    await route.fulfill({ json: { ...(await response.json()), explorable_random_init: true } });
  });
  await openTheLoop(page);
  await page.getByLabel('Text so far').scrollIntoViewIfNeeded();
  await expect(page.getByTestId('random-model')).toHaveText('Untrained: random weights, so its guesses are close to uniform.');
});

test('a corrupt parameter file shows the engine’s error to the reader', async ({ page }) => {
  await page.route('**/model.safetensors', (route) => route.fulfill({ body: 'this is not a safetensors file' }));
  await openTheLoop(page);
  await page.getByLabel('Text so far').scrollIntoViewIfNeeded();
  const error = page.getByTestId('engine-error').first();
  await expect(error).toContainText('The model could not be loaded.');
  await expect(error).toContainText(/safetensors|parameter file/i);
  await expect(error.getByRole('button', { name: 'Try again' })).toBeVisible();
});

test('a page without figures downloads no model', async ({ page }) => {
  const models: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/models/')) models.push(r.url());
  });
  await page.goto('/');
  await expect(page.getByRole('link', { name: /The loop/ })).toBeVisible();
  await page.waitForTimeout(500);
  expect(models).toEqual([]);
});
