import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { waitForFigures } from './site';

// Every page's axe check, in both themes, runs with its screenshots (screens.spec.ts), on the same
// load. Here: what a page at rest does not show.

test('the keyboard reaches the skip link first, then the figure’s text box', async ({ page }) => {
  await page.goto('/the-loop');
  await page.locator('html[data-hydrated]').waitFor(); // the page's controls answer from here on
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();
  const input = page.getByLabel('Text so far');
  for (let i = 0; i < 40 && !(await input.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press('Tab');
  }
  await expect(input).toBeFocused();
  await page.keyboard.type(' cat');
  await expect(input).toHaveValue(/ cat$/);
});

// The parts axe cannot see on a page at rest: the engine control's panel, and the generation
// figure once it has steps to show.
for (const colorScheme of ['light', 'dark'] as const) {
  test(`the engine control, open, and the generation figure, stepped (${colorScheme}), have no axe violations`, async ({ page }) => {
    await page.emulateMedia({ colorScheme });
    await page.goto('/the-loop?backend=cpu');
    await waitForFigures(page);
    const figure = page.locator('figure.widget').filter({ hasText: 'The loop, one step at a time' });
    await figure.scrollIntoViewIfNeeded();
    for (let i = 1; i <= 3; i++) {
      await figure.getByRole('button', { name: 'Step', exact: true }).click();
      await expect(figure.locator('button.new')).toHaveCount(i);
    }
    await page.getByTestId('engine-toggle').click();
    await expect(page.getByTestId('backend-now')).toBeVisible();
    await page.waitForFunction(() => document.getAnimations().length === 0);
    const { violations } = await new AxeBuilder({ page }).analyze();
    const summary = violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
    expect(summary).toEqual([]);
  });
}
