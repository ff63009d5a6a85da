// After one visit the site works without a network: the service worker has stored every page, the
// engine and the shipped model. Offline, every chapter is navigated to and reloaded, and its figures
// must show engine numbers (the ready rule), the first figure's next tokens equal to the CLI's.
// Service workers are blocked in every other test (playwright.config.ts), so that a test routing
// the model's requests sees them; this file allows them.
import { expect, test } from '@playwright/test';
import { pages, trace, waitForFigures } from './site';

test.use({ serviceWorkers: 'allow' });
test.describe.configure({ timeout: 600_000 });

test('after one visit, every chapter opens and reloads offline with the engine’s numbers', async ({ page, context }) => {
  await page.goto('/the-loop?backend=cpu');
  // the worker has stored everything once it is active (install waits for the whole precache)
  await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    if (!reg.active) throw new Error('no active service worker');
  });
  await waitForFigures(page);
  await context.setOffline(true);
  const failed: string[] = [];
  page.on('requestfailed', (r) => failed.push(r.url()));
  for (const p of pages) {
    const t0 = Date.now();
    await page.goto(`${p.path}?backend=cpu`);
    await waitForFigures(page);
    // a reload starts from nothing but the cache: the page, its code, the worker and the model
    await page.reload();
    await expect(page.locator('main h1').first()).toBeVisible();
    const first = page.locator('figure.widget').first();
    if ((await first.count()) > 0) {
      await first.scrollIntoViewIfNeeded();
      await expect(first.locator(':scope[data-ready], [data-rank="0"], [data-ready]').first()).toBeVisible();
    }
    console.log(`offline ${p.path}: every figure, then a reload's first figure, in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  // the numbers are the engine's, not a stored picture of them
  await page.goto('/the-loop?backend=cpu');
  await waitForFigures(page);
  const first = page.locator('figure.widget').first();
  const prompt = (await first.locator('ol.bars').getAttribute('data-prompt'))!;
  const ids = await first.locator('ol.bars li').evaluateAll((li) => li.map((l) => Number(l.getAttribute('data-id'))));
  expect(ids).toEqual(trace(prompt).top.map((t) => t.id));
  expect(failed, 'requests that found neither the network nor the cache').toEqual([]);
  await context.setOffline(false);
});
