import { expect, test } from '@playwright/test';
import { pages, waitForFigures } from './site';

// A figure at rest does no work: once every figure shows its numbers, none goes busy again while
// nobody touches the page. A figure whose effect reads its own answer (for example the answer
// tested for "first run" inside a debounced effect) reruns forever and flips aria-busy every
// debounce period; this catches it on every chapter.
for (const { name, path } of pages) {
  test(`${name}: no figure recomputes while the reader does nothing`, async ({ page }) => {
    await page.goto(path);
    await waitForFigures(page);
    const flips = await page.evaluate(
      (wait) =>
        new Promise<Record<string, number>>((done) => {
          const counts: Record<string, number> = {};
          const watch = new MutationObserver((records) => {
            for (const r of records) {
              const el = r.target as HTMLElement;
              if (el.getAttribute('aria-busy') !== 'true') continue;
              const key = el.closest('[data-widget]')?.getAttribute('data-widget') ?? el.tagName;
              counts[key] = (counts[key] ?? 0) + 1;
            }
          });
          watch.observe(document.body, { attributes: true, attributeFilter: ['aria-busy'], subtree: true });
          setTimeout(() => {
            watch.disconnect();
            done(counts);
          }, wait);
        }),
      2500
    );
    expect(flips, 'figures that went busy with nothing changed').toEqual({});
  });
}
