// Screenshots of every page, wide and narrow, light and dark, for a person to look at:
// (each page is also watched at rest for a few seconds: no figure may recompute untouched)
// test-results/screens/<page>-<width>-<scheme>.png, and each figure alone as ...-figure<n>.png.
// Each screenshot is also checked for what breaks a page without breaking its layout: every
// figure shows engine numbers (waitForFigures fails on an engine error), the percentages and
// probabilities on screen are numbers, nothing is wider than the screen, no text inside a figure
// is clipped by its box, and axe finds nothing (every rule at 1280 px, contrast at 375 px). Images are not
// compared with a baseline: fonts and anti-aliasing differ between machines.
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import { pages, waitForFigures } from './site';

// How many figures a chapter's markdown places (<Name ...> for each widget it imports that draws a
// figure: a Figure frame or a figure.widget; inline values in the prose are not figures); 0 for a
// page that is not a chapter.
function figuresIn(slug: string): number {
  const file = readdirSync('content').find((f) => f.replace(/^\d+-/, '') === `${slug}.md`);
  if (!file) return 0;
  const md = readFileSync(`content/${file}`, 'utf8');
  const widgets = [...md.matchAll(/import (\w+) from '\$lib\/widgets\/(\w+)\.svelte'/g)]
    .filter((m) => /<Figure[\s>]|class="widget/.test(readFileSync(`src/lib/widgets/${m[2]}.svelte`, 'utf8')))
    .map((m) => m[1]);
  return widgets.reduce((n, w) => n + (md.match(new RegExp(`<${w}[\\s/>]`, 'g'))?.length ?? 0), 0);
}

// a load, then two themes' checks and screenshots: the attention chapter alone takes ~40 s here
test.describe.configure({ timeout: 150_000 });

const widths = [1280, 375];

// Text boxes inside figures whose content is wider than the box: text cut off (overflow hidden),
// or spilling out of its box over its neighbours. Inline boxes have no width of their own, a box
// that scrolls on purpose (overflow-x auto or scroll) shows its overflow by scrolling, and a 1px
// box is screen-reader text, hidden on purpose.
async function clippedText(page: Page): Promise<string[]> {
  return page.locator('figure.widget').evaluateAll((figures) => {
    const out: string[] = [];
    for (const figure of figures) {
      for (const el of figure.querySelectorAll<HTMLElement>('*')) {
        const ownText = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim() !== '');
        if (!ownText || el.getClientRects().length === 0) continue;
        const style = getComputedStyle(el);
        if (style.display === 'inline' || style.overflowX === 'auto' || style.overflowX === 'scroll') continue;
        if (el instanceof HTMLTextAreaElement || el instanceof HTMLInputElement) continue;
        if (el.getBoundingClientRect().width <= 1) continue; // text for screen readers only, hidden on purpose
        if (el.scrollWidth > el.clientWidth + 1) {
          out.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')} "${el.textContent!.trim().slice(0, 40)}": ${el.scrollWidth}px of text in ${el.clientWidth}px`);
        }
      }
    }
    return out;
  });
}

// One load per page and width, shown in both themes: the light screenshot first, then the same page
// switched to dark as a reader's system setting would switch it (so the figures must follow a theme
// change live, not only at load). At 1280 px axe checks every rule in each theme (the pages' whole
// accessibility check); at 375 px, colour contrast.
async function check(page: Page, name: string, width: number, colorScheme: 'light' | 'dark') {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, `horizontal overflow in px (${colorScheme})`).toBeLessThanOrEqual(0);
  expect(await clippedText(page), `clipped text in a figure (${colorScheme})`).toEqual([]);
  const axe = new AxeBuilder({ page });
  const { violations } = await (width > 600 ? axe : axe.withRules(['color-contrast'])).analyze();
  const summary = violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${v.help} (${n.target.join(' ')}): ${n.failureSummary}`));
  expect(summary, `axe, ${width > 600 ? 'every rule' : 'contrast'} (${colorScheme})`).toEqual([]);
  const file = `test-results/screens/${name}-${width}-${colorScheme}`;
  await page.screenshot({ path: `${file}.png`, fullPage: true });
  // each figure on its own too, at full resolution, where the details are (wide: a phone's
  // figures are the full page's width already)
  const figures = page.locator('figure.widget');
  for (let i = 0; i < (width > 600 ? await figures.count() : 0); i++) {
    await figures.nth(i).screenshot({ path: `${file}-figure${i + 1}.png` });
  }
}

// A figure at rest does no work: once every figure shows its numbers, none goes busy again while
// nobody touches the page. A figure whose effect reads its own answer (for example the answer
// tested for "first run" inside a debounced effect) reruns forever and flips aria-busy every
// debounce period; this catches it on every page. Returns, per figure, how often it went busy.
async function busyWhileIdle(page: Page, ms: number): Promise<Record<string, number>> {
  return page.evaluate(
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
    ms
  );
}

for (const { name, path } of pages) {
  for (const width of widths) {
    test(`screenshot ${name} ${width}px, light then dark`, async ({ page }) => {
      await page.setViewportSize({ width, height: width > 600 ? 900 : 812 });
      await page.emulateMedia({ colorScheme: 'light' });
      await page.goto(path);
      await waitForFigures(page);
      // as many figures as the chapter's source places, and each percentage on them a number
      await expect(page.locator('figure.widget')).toHaveCount(figuresIn(name));
      for (const pct of await page.locator('figure.widget .pct').allInnerTexts()) expect(pct).toMatch(/^(\d+(\.\d+)?%|0%)$/);
      await check(page, name, width, 'light');
      // (once per page) at rest, nothing recomputes
      if (width > 600) expect(await busyWhileIdle(page, 2500), 'figures that went busy with nothing changed').toEqual({});
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.waitForFunction(() => document.getAnimations().length === 0);
      await check(page, name, width, 'dark');
    });
  }
}
