// How long a reader waits, cold cache, from asking for a chapter to its first figure showing engine
// numbers, on the local built site: printed, not asserted (the machine's load decides it).
import { expect, test } from '@playwright/test';
import { chapterSlugs } from './site';

test('time to the first figure with engine numbers, per chapter, cold cache', async ({ browser }) => {
  test.setTimeout(300_000);
  for (const slug of chapterSlugs) {
    const context = await browser.newContext(); // a fresh context: nothing cached
    const page = await context.newPage();
    const t0 = Date.now();
    await page.goto(`/${slug}?backend=cpu`, { waitUntil: 'commit' });
    const first = page.locator('figure.widget').first();
    await first.scrollIntoViewIfNeeded();
    await expect(first.locator(':scope[data-ready], [data-rank="0"], [data-ready]').first()).toBeVisible({ timeout: 120_000 });
    const ms = Date.now() - t0;
    const loaded = await page.evaluate(() => performance.getEntriesByType('resource').reduce((n, e) => n + ((e as PerformanceResourceTiming).transferSize || 0), 0));
    console.log(`/${slug}: first figure with engine numbers after ${ms} ms (${(loaded / 1e6).toFixed(2)} MB transferred by then)`);
    await context.close();
  }
});
