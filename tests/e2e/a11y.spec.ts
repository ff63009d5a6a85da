import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { pages, waitForFigures } from './site';

for (const { name, path } of pages) {
  for (const colorScheme of ['light', 'dark'] as const) {
    test(`${name} (${colorScheme}) has no axe violations`, async ({ page }) => {
      await page.emulateMedia({ colorScheme });
      await page.goto(path);
      await waitForFigures(page); // check the figures as a reader sees them, loaded
      const { violations } = await new AxeBuilder({ page }).analyze();
      const summary = violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
      expect(summary).toEqual([]);
    });
  }
}

test('the keyboard reaches the skip link first, then the figure’s text box', async ({ page }) => {
  await page.goto('/the-loop');
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
