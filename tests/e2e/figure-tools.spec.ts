// The buttons on every figure of a chapter: Share (a link to the chapter at this figure, with its
// state), Embed (an iframe snippet with the state), Present (full screen, keyboard, Escape leaves)
// and Export (an SVG that parses and a PNG that decodes at twice the figure's size).
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { modelConfig, waitForFigures } from './site';

const L = Number(modelConfig.n_layer);
const nh = Number(modelConfig.n_head);

test.describe.configure({ timeout: 120_000 });

async function attention(page: Page) {
  await page.goto('/attention?backend=cpu');
  const fig = page.locator('figure[data-widget="attention"]');
  await fig.scrollIntoViewIfNeeded();
  await expect(fig).toHaveAttribute('data-ready', '');
  await fig.getByRole('group', { name: 'Layer' }).getByRole('radio', { name: String(L - 1), exact: true }).check();
  await fig.getByRole('group', { name: 'Head' }).getByRole('radio', { name: String(nh - 1), exact: true }).check();
  await fig.getByRole('listbox').first().getByRole('option').nth(2).click();
  await expect(fig).toHaveAttribute('data-token', '2');
  return fig;
}

test('Share copies a link to the chapter at this figure, and the link brings its state back', async ({ page }) => {
  const fig = await attention(page);
  await fig.getByRole('button', { name: 'Share' }).click();
  const link = await fig.getByTestId('copied').inputValue();
  const url = new URL(link);
  expect(url.pathname).toBe('/attention');
  expect(url.hash).toBe('#fig-attention');
  expect(url.searchParams.get('figure')).toBe('attention');
  expect(url.searchParams.get('layer')).toBe(String(L - 1));
  expect(url.searchParams.get('head')).toBe(String(nh - 1));
  expect(url.searchParams.get('token')).toBe('2');
  await page.goto(`${url.pathname}${url.search}&backend=cpu${url.hash}`);
  const again = page.locator('figure[data-widget="attention"]');
  await expect(again).toHaveAttribute('data-ready', '');
  await expect(again).toHaveAttribute('data-layer', String(L - 1));
  await expect(again).toHaveAttribute('data-head', String(nh - 1));
  await expect(again).toHaveAttribute('data-token', '2');
  await expect(again).toBeInViewport();
  // the other figures of the chapter keep their own defaults
  await expect(page.locator('figure[data-widget="qkv"]')).toHaveAttribute('data-layer', '0');
});

test('Embed copies an iframe with the state, a title, a size and lazy loading', async ({ page }) => {
  const fig = await attention(page);
  await fig.getByRole('button', { name: 'Embed' }).click();
  const snippet = await fig.getByTestId('copied').inputValue();
  const frame = await page.evaluate((html) => {
    const f = new DOMParser().parseFromString(html, 'text/html').querySelector('iframe')!;
    return { src: f.getAttribute('src')!, title: f.title, loading: f.getAttribute('loading'), width: Number(f.width), height: Number(f.height) };
  }, snippet);
  expect(frame.title).toContain('Attention inspector');
  expect(frame.loading).toBe('lazy');
  expect(frame.width).toBeGreaterThanOrEqual(320);
  expect(frame.height).toBeGreaterThanOrEqual(240);
  const src = new URL(frame.src);
  expect(src.pathname).toBe('/embed/attention');
  await page.goto(`${src.pathname}${src.search}&backend=cpu`);
  await waitForFigures(page);
  const embedded = page.locator('figure[data-widget="attention"]');
  await expect(embedded).toHaveAttribute('data-layer', String(L - 1));
  await expect(embedded).toHaveAttribute('data-token', '2');
});

test('Present fills the screen, the arrow keys step through the tokens, Escape leaves', async ({ page }) => {
  const fig = await attention(page);
  await fig.getByRole('button', { name: 'Present' }).click();
  await expect(fig).toHaveClass(/presenting/);
  const box = (await fig.boundingBox())!;
  const view = page.viewportSize()!;
  expect(box.width).toBeGreaterThanOrEqual(view.width - 1);
  // the arrows walk the tokens (the row shown follows), Enter locks one
  const row = fig.locator('p.rowtitle');
  await page.keyboard.press('ArrowRight');
  await expect(row).toHaveAttribute('data-row', '3');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  await expect(row).toHaveAttribute('data-row', '1');
  await page.keyboard.press('Enter');
  await expect(fig).toHaveAttribute('data-token', '1');
  await page.keyboard.press('Escape');
  await expect(fig).not.toHaveClass(/presenting/);
});

test('Export: the SVG parses, the PNG decodes at twice the figure’s size, both with caption and model name', async ({ page }) => {
  const fig = await attention(page);
  const size = (await fig.boundingBox())!;
  const [svgDownload] = await Promise.all([page.waitForEvent('download'), fig.getByRole('button', { name: 'Export as SVG' }).click()]);
  expect(svgDownload.suggestedFilename()).toBe('attention.svg');
  const svg = readFileSync((await svgDownload.path())!, 'utf8');
  const parsed = await page.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    const root = doc.documentElement;
    return { error: doc.querySelector('parsererror')?.textContent ?? null, tag: root.tagName, width: Number(root.getAttribute('width')), height: Number(root.getAttribute('height')), text: [...doc.querySelectorAll('svg > g text')].map((t) => t.textContent).join(' ') };
  }, svg);
  expect(parsed.error).toBeNull();
  expect(parsed.tag).toBe('svg');
  expect(Math.abs(parsed.width - size.width)).toBeLessThanOrEqual(1);
  expect(parsed.text).toContain(String(modelConfig.explorable_name ?? ''));
  expect(parsed.text).toContain('Each row of the matrix');

  const [pngDownload] = await Promise.all([page.waitForEvent('download'), fig.getByRole('button', { name: 'Export as PNG, twice the size' }).click()]);
  expect(pngDownload.suggestedFilename()).toBe('attention@2x.png');
  const png = readFileSync((await pngDownload.path())!);
  expect(png.subarray(1, 4).toString()).toBe('PNG');
  const decoded = await page.evaluate(async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
    return { width: bitmap.width, height: bitmap.height };
  }, png.toString('base64'));
  expect(decoded.width).toBe(2 * parsed.width);
  expect(decoded.height).toBe(2 * parsed.height);
});

test('the buttons fit a phone: no sideways scrolling at 375 px', async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 800 });
  await page.goto('/sampling?backend=cpu');
  await waitForFigures(page);
  const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(over).toBeLessThanOrEqual(0);
  for (const name of ['Share', 'Embed', 'Present']) await expect(page.locator('figure[data-widget="sampling"]').getByRole('button', { name })).toBeVisible();
});
