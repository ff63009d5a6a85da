// Screenshots of every page, wide and narrow, light and dark, for a person to look at:
// test-results/screens/<page>-<width>-<scheme>.png, and each figure alone as ...-figure<n>.png. The only assertion is that nothing on the page
// is wider than the screen.
import { expect, test } from '@playwright/test';
import { pages, waitForFigures } from './site';

const widths = [1280, 375];

for (const { name, path } of pages) {
  for (const width of widths) {
    for (const colorScheme of ['light', 'dark'] as const) {
      test(`screenshot ${name} ${width}px ${colorScheme}`, async ({ page }) => {
        await page.setViewportSize({ width, height: width > 600 ? 900 : 812 });
        await page.emulateMedia({ colorScheme });
        await page.goto(path);
        await waitForFigures(page);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, 'horizontal overflow in px').toBeLessThanOrEqual(0);
        const file = `test-results/screens/${name}-${width}-${colorScheme}`;
        await page.screenshot({ path: `${file}.png`, fullPage: true });
        // each figure on its own too, at full resolution, where the details are
        const figures = page.locator('figure.widget');
        for (let i = 0; i < (await figures.count()); i++) {
          await figures.nth(i).screenshot({ path: `${file}-figure${i + 1}.png` });
        }
      });
    }
  }
}
