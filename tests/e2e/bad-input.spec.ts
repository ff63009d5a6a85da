// Chapter 1 with the input a careless or curious reader gives it: empty boxes, half-typed numbers,
// a pasted book, every kind of Unicode, odd addresses. Nothing typed is lost, every refusal says
// why in words (never NaN), and the page never grows wider than the screen.
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { loadModelDir } from '../../engine/cli/common';
import { modelConfig, modelDir } from './site';

const nPositions = modelConfig.n_positions as number;
const tokenizer = loadModelDir(modelDir).tokenizer;

// about 200 KB, far past the model's context
const book = 'The little dog ran to the house. '.repeat(6200);

const nextToken = (page: Page) => page.locator('figure.widget').filter({ hasText: 'What comes next?' });
const generation = (page: Page) => page.locator('figure.widget').filter({ hasText: 'The loop, one step at a time' });

async function openFigure(page: Page, figure: Locator) {
  await figure.scrollIntoViewIfNeeded();
  await expect(figure.locator('[data-rank="0"], [data-ready]').first()).toBeVisible();
}

test('an empty seed or length box is named in words, never as NaN, and filling it recovers', async ({ page }) => {
  await page.goto('/the-loop?backend=cpu');
  await page.locator('html[data-hydrated]').waitFor(); // the page's controls answer from here on
  const figure = generation(page);
  await openFigure(page, figure);
  const message = figure.getByTestId('generation-error');
  const seed = figure.getByLabel('Seed', { exact: true });
  const maxTokens = figure.getByLabel('Max new tokens', { exact: true });

  await seed.fill('');
  await expect(message).toHaveText(/^The seed box is empty: type a whole number from 0 to 4294967295\.$/);
  await expect(seed).toHaveAttribute('aria-invalid', 'true');
  await expect(seed).toHaveAccessibleDescription(/seed box is empty/);
  await expect(figure).not.toContainText('NaN');
  await expect(figure.getByRole('button', { name: 'Step', exact: true })).toHaveAttribute('aria-disabled', 'true');

  await seed.fill('7');
  await expect(message).toHaveCount(0);
  await expect(seed).not.toHaveAttribute('aria-invalid', 'true');
  await expect(figure.getByTestId('generated')).toHaveAttribute('data-seed', '7');

  await maxTokens.fill('');
  await expect(message).toHaveText(/^The max new tokens box is empty: type a whole number of at least 1\.$/);
  await expect(maxTokens).toHaveAttribute('aria-invalid', 'true');
  await expect(figure).not.toContainText('NaN');
  await maxTokens.fill('3');
  await expect(message).toHaveCount(0);
  await figure.getByRole('button', { name: 'Step', exact: true }).click();
  await expect(figure.locator('button.new')).toHaveCount(1);
});

test('a half-typed number in the top-k box is not read as “no top-k”', async ({ page }) => {
  await page.goto('/the-loop?backend=cpu');
  await page.locator('html[data-hydrated]').waitFor(); // the page's controls answer from here on
  const figure = generation(page);
  await openFigure(page, figure);
  const topK = figure.getByLabel('top-k', { exact: true });
  await topK.fill('5');
  await expect(figure.getByTestId('generated')).toHaveAttribute('data-top-k', '5');

  // "1e" is the start of "1e3"; the browser reports such a box as empty
  await topK.fill('');
  await topK.pressSequentially('1e');
  const message = figure.getByTestId('generation-error');
  await expect(message).toHaveText(/^The top-k box does not hold a number/);
  await expect(topK).toHaveAttribute('aria-invalid', 'true');
  await expect(figure.getByTestId('generated')).toHaveCount(0); // no generation without top-k runs
  await expect(figure.getByRole('button', { name: 'Play', exact: true })).toHaveAttribute('aria-disabled', 'true');

  await topK.pressSequentially('1'); // "1e1": ten
  await expect(message).toHaveCount(0);
  await expect(figure.getByTestId('generated')).toHaveAttribute('data-top-k', '10');
  // an engine refusal marks its box too
  await topK.fill('0');
  await expect(message).toContainText('top-k must be a whole number of at least 1');
  await expect(topK).toHaveAttribute('aria-invalid', 'true');
  await topK.fill('');
  await expect(message).toHaveCount(0);
  await expect(figure.getByTestId('generated')).toHaveAttribute('data-top-k', 'off');
});

test('a 200 KB paste: the figure says, before the tokens, that the model sees only the last ones', async ({ page }) => {
  const all = tokenizer.encode(book).length;
  expect(all).toBeGreaterThan(nPositions);
  await page.goto('/the-loop?backend=cpu');
  await page.locator('html[data-hydrated]').waitFor(); // the page's controls answer from here on
  const figure = nextToken(page);
  await openFigure(page, figure);
  const input = figure.getByLabel('Text so far');
  await input.fill(book);
  const note = figure.getByTestId('dropped');
  await expect(note).toHaveAttribute('data-dropped', String(all - nPositions));
  await expect(note).toContainText(`only the last ${nPositions} of the ${all.toLocaleString('en')} tokens`);
  await expect(note).toContainText(`The first ${(all - nPositions).toLocaleString('en')} are cut off`);
  // the note comes first, then an ellipsis, then the model's context
  const order = await figure.evaluate((f) => {
    const n = f.querySelector('[data-testid="dropped"]')!;
    const t = f.querySelector('.tokens')!;
    return n.compareDocumentPosition(t) & Node.DOCUMENT_POSITION_FOLLOWING;
  });
  expect(order).toBeTruthy();
  await expect(figure.locator('.tokens .chip:not(.cut)')).toHaveCount(nPositions);

  // typing at the end still works, and the answer follows the new end
  await input.press('End');
  await page.keyboard.type(' She');
  await expect(figure.locator('ol.bars')).toHaveAttribute('data-prompt', `${book} She`);
  await expect(input).toHaveValue(`${book} She`);

  // the generation figure refuses the same text in words, and keeps it
  const gen = generation(page);
  await openFigure(page, gen);
  await gen.getByLabel('Prompt', { exact: true }).fill(book);
  await expect(gen.getByTestId('generation-error')).toContainText(`at most ${nPositions} tokens`);
  await expect(gen.getByLabel('Prompt', { exact: true })).toHaveValue(book);

});

const unicode = [
  { name: 'an emoji ZWJ sequence', text: '👩‍👩‍👧‍👦 and 🏳️‍🌈' },
  { name: 'CJK', text: '中文字符，日本語のテキスト' },
  { name: 'Arabic, right to left', text: 'مرحبا بالعالم' },
  { name: 'combining marks', text: 'e\u0301 a\u0308 Z\u0335\u0331' },
  { name: 'a NUL', text: 'a\u0000b' }
];

for (const { name, text } of unicode) {
  test(`${name} reaches the model unchanged, in both figures`, async ({ page }) => {
    await page.goto('/the-loop?backend=cpu');
    await page.locator('html[data-hydrated]').waitFor(); // the page's controls answer from here on
    const figure = nextToken(page);
    await openFigure(page, figure);
    await figure.getByLabel('Text so far').fill(text);
    await expect(figure.locator('ol.bars')).toHaveAttribute('data-prompt', text);
    await expect(figure.locator('.tokens .chip')).toHaveCount(tokenizer.encode(text).length);
    await expect(figure.getByTestId('prompt-error')).toHaveCount(0);

    const gen = generation(page);
    await openFigure(page, gen);
    await gen.getByLabel('Prompt', { exact: true }).fill(text);
    await expect(gen.getByTestId('generated')).toHaveAttribute('data-prompt', text);
    await gen.getByRole('button', { name: 'Step', exact: true }).click();
    await expect(gen.locator('button.new')).toHaveCount(1);
    await expect(gen.locator('.detail .context .piece')).toHaveCount(tokenizer.encode(text).length); // step 1 saw the prompt
    await expect(gen.getByTestId('generation-error')).toHaveCount(0);
  });
}

test('Reset, pressed from the keyboard, keeps the focus where the reader is', async ({ page }) => {
  await page.goto('/the-loop?backend=cpu');
  await page.locator('html[data-hydrated]').waitFor(); // the page's controls answer from here on
  const figure = nextToken(page);
  await openFigure(page, figure);
  const input = figure.getByLabel('Text so far');
  const initial = await input.inputValue();
  await input.focus();
  await page.keyboard.press('End');
  await page.keyboard.type(' cat');
  await page.keyboard.press('Tab');
  const reset = figure.getByRole('button', { name: 'Reset', exact: true });
  await expect(reset).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(input).toHaveValue(initial);
  await expect(reset).toBeFocused();
  await expect(reset).toHaveAttribute('aria-disabled', 'true');
  await page.keyboard.press('Tab'); // on to the first bar
  await expect(figure.locator('ol.bars li[data-rank="0"] button')).toBeFocused();
});

for (const colorScheme of ['light', 'dark'] as const) {
  test(`figures showing a refusal, their last answer behind it, have no axe violations (${colorScheme})`, async ({ page }) => {
    await page.emulateMedia({ colorScheme });
    await page.goto('/the-loop?backend=cpu');
    await page.locator('html[data-hydrated]').waitFor(); // the page's controls answer from here on
    const figure = nextToken(page);
    await openFigure(page, figure);
    await figure.getByLabel('Text so far').fill('');
    await expect(figure.getByTestId('prompt-error')).toBeVisible();
    const gen = generation(page);
    await openFigure(page, gen);
    await gen.getByLabel('Seed', { exact: true }).fill('');
    await expect(gen.getByTestId('generation-error')).toBeVisible();
    await page.waitForFunction(() => document.getAnimations().length === 0);
    const { violations } = await new AxeBuilder({ page }).analyze();
    const summary = violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
    expect(summary).toEqual([]);
  });
}

test.describe('the address', () => {
  test('?backend= repeated with two backends takes the first, and says so', async ({ page }) => {
    await page.goto('/the-loop?backend=cpu&backend=webgpu');
    await page.locator('html[data-hydrated]').waitFor(); // the page's controls answer from here on
    const notice = page.getByTestId('engine-notice');
    await expect(notice).toContainText('names the backend 2 times (“cpu”, “webgpu”); the first counts');
    await expect(notice).toContainText('Using cpu');
    await openFigure(page, nextToken(page));
    await page.getByTestId('engine-toggle').click();
    await expect(page.getByRole('radio', { name: /^CPU/ })).toBeChecked();
    await expect(page.getByTestId('backend-now')).toHaveText('CPU');
  });

  test('?backend= repeated with the same backend needs no notice', async ({ page }) => {
    await page.goto('/the-loop?backend=cpu&backend=CPU');
    await openFigure(page, nextToken(page));
    await expect(page.getByTestId('engine-notice')).toHaveCount(0);
  });

  test('an empty ?backend= says it has no value, and uses auto', async ({ page }) => {
    await page.goto('/the-loop?backend=');
    await expect(page.getByTestId('engine-notice')).toContainText('The address gives backend no value (use cpu, webgpu or auto). Using auto.');
  });

  test('a 3000-character ?backend= with control characters is cut short, shown visibly, and does not widen a phone’s page', async ({ page }) => {
    await page.setViewportSize({ width: 375, height: 812 });
    await page.goto(`/the-loop?backend=%00${'x'.repeat(3000)}`);
    await page.locator('html[data-hydrated]').waitFor(); // the page's controls answer from here on
    const notice = page.getByTestId('engine-notice');
    await expect(notice).toContainText(`“\ufffd${'x'.repeat(23)}…”, which does not exist`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, 'horizontal overflow in px').toBeLessThanOrEqual(0);
    await expect(notice.getByRole('button', { name: 'Dismiss' })).toBeInViewport();
    await notice.getByRole('button', { name: 'Dismiss' }).click();
    await expect(notice).toHaveCount(0);
  });
});

// For a person to look at: test-results/screens/the-loop-bad-input-<state>-<width>-<scheme>.png
test.describe('screenshots', () => {
  for (const width of [1280, 375]) {
    for (const colorScheme of ['light', 'dark'] as const) {
      test(`a 200 KB paste and an empty seed, ${width}px ${colorScheme}`, async ({ page }) => {
        await page.setViewportSize({ width, height: width > 600 ? 900 : 812 });
        await page.emulateMedia({ colorScheme });
        await page.goto(`/the-loop?backend=cpu&backend=${'x'.repeat(200)}`);
        await page.locator('html[data-hydrated]').waitFor(); // the page's controls answer from here on
        const figure = nextToken(page);
        await openFigure(page, figure);
        await figure.getByLabel('Text so far').fill(book);
        await expect(figure.getByTestId('dropped')).toBeVisible();
        const gen = generation(page);
        await openFigure(page, gen);
        await gen.getByLabel('Seed', { exact: true }).fill('');
        await expect(gen.getByTestId('generation-error')).toBeVisible();
        await page.waitForFunction(() => document.getAnimations().length === 0);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, 'horizontal overflow in px').toBeLessThanOrEqual(0);
        const file = `test-results/screens/the-loop-bad-input`;
        await figure.screenshot({ path: `${file}-long-paste-${width}-${colorScheme}.png` });
        await gen.screenshot({ path: `${file}-empty-seed-${width}-${colorScheme}.png` });
        await page.evaluate(() => window.scrollTo(0, 0));
        await page.screenshot({ path: `${file}-notice-${width}-${colorScheme}.png` });
      });
    }
  }
});
