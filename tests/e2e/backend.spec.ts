// The backend setting: ?backend= in the address, the engine control in the header, and the
// fallback to the CPU when WebGPU cannot start.
import { expect, test, type Page } from '@playwright/test';
import { trace } from './site';

// The first figure of chapter 1 has drawn a distribution: the engine has run a forward pass.
async function firstFigureRan(page: Page) {
  const bars = page.locator('ol.bars li').first();
  await page.getByLabel('Text so far').scrollIntoViewIfNeeded();
  await expect(bars).toBeVisible();
}

test('?backend=cpu runs the CPU, and the control says so with the last pass’s time per token', async ({ page }) => {
  await page.goto('/the-loop?backend=cpu');
  await firstFigureRan(page);
  const toggle = page.getByTestId('engine-toggle');
  await expect(toggle).toHaveText(/CPU/);
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await toggle.focus();
  await page.keyboard.press('Enter');
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  await expect(page.getByTestId('backend-now')).toHaveText('CPU');
  await expect(page.getByTestId('ms-per-token')).toHaveText(/^\d+(\.\d+)? ms per token$/);
  await expect(page.getByRole('radio', { name: /^CPU/ })).toBeChecked();
  // Escape closes it and gives the focus back to the button
  await page.keyboard.press('Escape');
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await expect(toggle).toBeFocused();
  await expect(page.getByTestId('backend-now')).toBeHidden();
});

test('an unknown ?backend= says so, falls back to auto, and the figures still work', async ({ page }) => {
  await page.goto('/the-loop?backend=quantum');
  await page.locator('html[data-hydrated]').waitFor(); // the page's controls answer from here on
  const notice = page.getByTestId('engine-notice');
  await expect(notice).toContainText('“quantum”');
  await expect(notice).toContainText('Using auto');
  await firstFigureRan(page);
  await page.getByTestId('engine-toggle').click();
  await expect(page.getByRole('radio', { name: /^Auto/ })).toBeChecked();
  await expect(page.getByTestId('backend-now')).toBeVisible();
  await page.keyboard.press('Escape');
  await notice.getByRole('button', { name: 'Dismiss' }).click();
  await expect(notice).toHaveCount(0);
});

test('WebGPU that cannot start falls back to the CPU, with a notice giving the reason', async ({ page }) => {
  // The WebGPU backend is the one module the worker loads on demand; refusing it makes WebGPU
  // unavailable whatever the machine's GPU.
  await page.route('**/_app/immutable/workers/chunks/*.js', (route) => route.abort());
  await page.goto('/the-loop?backend=webgpu');
  await page.locator('html[data-hydrated]').waitFor(); // the page's controls answer from here on
  await firstFigureRan(page);
  const notice = page.getByTestId('engine-notice');
  await expect(notice).toContainText('WebGPU unavailable');
  await expect(notice).toContainText('Running on the CPU instead');
  await expect(page.getByTestId('engine-toggle')).toHaveText(/CPU/);
  await page.getByTestId('engine-toggle').click();
  await expect(page.getByTestId('backend-now')).toHaveText('CPU');
  await expect(page.getByRole('radio', { name: /^WebGPU/ })).toBeChecked();
});

test('the backend can be switched from the keyboard; the reader’s text stays', async ({ page }) => {
  await page.goto('/the-loop?backend=cpu');
  await page.locator('html[data-hydrated]').waitFor(); // the page's controls answer from here on
  await firstFigureRan(page);
  const input = page.getByLabel('Text so far');
  await input.fill('A cat and a dog');
  await expect(page.locator('ol.bars[data-prompt="A cat and a dog"]')).toBeVisible();
  const toggle = page.getByTestId('engine-toggle');
  await toggle.focus();
  await page.keyboard.press('Enter');
  // Tab into the radio group, then arrows move the choice, as in any radio group
  const cpu = page.getByRole('radio', { name: /^CPU/ });
  for (let i = 0; i < 10 && !(await cpu.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
  await expect(cpu).toBeFocused();
  await page.keyboard.press('ArrowUp');
  const auto = page.getByRole('radio', { name: /^Auto/ });
  await expect(auto).toBeChecked();
  const now = page.getByTestId('backend-now');
  await expect(now).toHaveAttribute('data-choice', 'auto'); // the runner for auto is up
  await page.keyboard.press('ArrowDown');
  await expect(cpu).toBeChecked();
  await expect(now).toHaveAttribute('data-choice', 'cpu');
  await expect(now).toHaveText('CPU');
  await expect(input).toHaveValue('A cat and a dog');
  // the choice is remembered for the next visit
  await page.goto('/the-loop');
  await page.locator('html[data-hydrated]').waitFor(); // the page's controls answer from here on
  await firstFigureRan(page);
  await expect(page.getByTestId('engine-toggle')).toHaveText(/CPU/);
});

test('?backend=webgpu runs on the browser’s WebGPU adapter, even a software one, with the CPU’s numbers to float precision', async ({ page }) => {
  // Headless Chromium offers SwiftShader, a software WebGPU adapter: auto passes it over (it is
  // slower than the CPU backend), but asking for WebGPU by name takes it.
  const prompt = 'The little dog ran to the';
  await page.goto('/the-loop?backend=webgpu');
  await page.locator('html[data-hydrated]').waitFor(); // the page's controls answer from here on
  await firstFigureRan(page);
  await page.getByLabel('Text so far').fill(prompt);
  const bars = page.locator(`ol.bars[data-prompt="${prompt}"] li`);
  await expect(bars).toHaveCount(10);
  await page.getByTestId('engine-toggle').click();
  await expect(page.getByTestId('backend-now')).toHaveText(/^WebGPU — \S/);
  await expect(page.getByTestId('ms-per-token')).toHaveText(/ms per token$/);
  await expect(page.getByTestId('engine-notice')).toHaveCount(0);
  const shown = await bars.evaluateAll((lis) => lis.map((li) => ({ id: Number(li.getAttribute('data-id')), p: Number(li.getAttribute('data-p')) })));
  const expected = trace(prompt).top;
  // a GPU sums in another order than the CPU: the same distribution, to float32 rounding
  for (const [i, s] of shown.entries()) {
    const want = expected.find((t) => t.id === s.id);
    expect(want, `token ${s.id} at rank ${i} is in the CPU's top 10`).toBeDefined();
    expect(Math.abs(s.p - want!.p)).toBeLessThan(1e-4 * want!.p + 1e-7);
  }
});

test.describe('screenshots', () => {
  for (const width of [1280, 375]) {
    for (const colorScheme of ['light', 'dark'] as const) {
      test(`engine control open, with a notice, ${width}px ${colorScheme}`, async ({ page }) => {
        await page.setViewportSize({ width, height: width > 600 ? 900 : 812 });
        await page.emulateMedia({ colorScheme });
        await page.goto('/the-loop?backend=nonsense');
        await page.locator('html[data-hydrated]').waitFor(); // the page's controls answer from here on
        await firstFigureRan(page);
        await page.evaluate(() => window.scrollTo(0, 0));
        await page.getByTestId('engine-toggle').click();
        await expect(page.getByTestId('backend-now')).toBeVisible();
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, 'horizontal overflow in px').toBeLessThanOrEqual(0);
        await page.screenshot({ path: `test-results/screens/engine-control-${width}-${colorScheme}.png` });
      });
    }
  }
});
