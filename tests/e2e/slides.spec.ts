// The reveal.js deck of examples/slides/: open it, move to the attention slide, click a token in
// the embedded figure and check that the weights it shows are the engine's (npm run trace).
import { expect, test } from '@playwright/test';
import { trace } from './site';

test.describe.configure({ timeout: 150_000 });

test('the deck’s attention slide shows the engine’s weights for a clicked token', async ({ page }) => {
  await page.goto('/examples/slides/');
  expect(await page.evaluate(() => typeof (window as unknown as { Reveal?: unknown }).Reveal), 'reveal.js loads (npm i -D reveal.js)').not.toBe('undefined'); // reveal.js 5 puts its API (a function with methods) on window
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  const slide = page.locator('section[data-slide="attention"]');
  await expect(slide).toHaveClass(/present/);
  const src = new URL((await slide.locator('iframe').getAttribute('src'))!, page.url());
  const text = src.searchParams.get('text')!;
  const layer = Number(src.searchParams.get('layer'));
  const head = Number(src.searchParams.get('head'));
  const frame = page.frameLocator('section[data-slide="attention"] iframe');
  const fig = frame.locator('figure[data-widget="attention"]');
  await expect(fig).toHaveAttribute('data-ready', '', { timeout: 60_000 });
  const want = trace(text);
  const i = 3;
  await fig.getByRole('listbox').first().getByRole('option').nth(i).click();
  await expect(fig).toHaveAttribute('data-token', String(i));
  const shown = await fig.locator('table.row td.w').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
  const row = want.layers[layer].heads[head].weights[i];
  for (let j = 0; j <= i; j++) expect(Math.abs(shown[j] - row[j]), `weight ${i},${j}`).toBeLessThan(1e-5);
  // and as the text a student reads
  await expect(fig.locator('table.row td.w .v').nth(0)).toHaveText(row[0].toFixed(3));
});
