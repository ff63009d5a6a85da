// Chapter 2, read the way a reader reads it: every token id, count and merge on screen must be what
// our tokenizer (the shipped tokenizer.json, loaded here with the engine's own Tokenizer) and
// gpt-tokenizer (OpenAI's r50k_base, cl100k_base and o200k_base, run in this test's process) give.
import { readFileSync } from 'node:fs';
import { expect, test, type Locator, type Page, type Response } from '@playwright/test';
import r50kRanks from 'gpt-tokenizer/bpeRanks/r50k_base';
import cl100kRanks from 'gpt-tokenizer/bpeRanks/cl100k_base';
import o200kRanks from 'gpt-tokenizer/bpeRanks/o200k_base';
import { encode as r50k } from 'gpt-tokenizer/encoding/r50k_base';
import { encode as cl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { encode as o200k } from 'gpt-tokenizer/encoding/o200k_base';
import { bytesText, Tokenizer, type MergeStep } from '../../engine/tokenizer';
import { visibleToken } from '../../src/lib/format';
import { modelConfig, modelDir } from './site';
import { reportLongTasks, resetLongTasks, watchLongTasks } from './long-tasks';

const ours = Tokenizer.fromJSON(readFileSync(`${modelDir}/tokenizer.json`, 'utf8'));
const utf8 = new TextEncoder();
const noSpecial = { disallowedSpecial: new Set<string>() };

type Name = 'ours' | 'r50k_base' | 'cl100k_base' | 'o200k_base';
const ranks: Record<Exclude<Name, 'ours'>, (string | number[])[]> = {
  r50k_base: r50kRanks as (string | number[])[],
  cl100k_base: cl100kRanks as (string | number[])[],
  o200k_base: o200kRanks as (string | number[])[]
};
const reference: Record<Name, { encode(s: string): number[]; piece(id: number): string }> = {
  ours: { encode: (s) => ours.encode(s), piece: (id) => ours.tokenText(id) },
  r50k_base: { encode: (s) => r50k(s, noSpecial), piece: (id) => openaiPiece('r50k_base', id) },
  cl100k_base: { encode: (s) => cl100k(s, noSpecial), piece: (id) => openaiPiece('cl100k_base', id) },
  o200k_base: { encode: (s) => o200k(s, noSpecial), piece: (id) => openaiPiece('o200k_base', id) }
};

function openaiPiece(name: Exclude<Name, 'ours'>, id: number): string {
  const entry = ranks[name][id];
  return bytesText(typeof entry === 'string' ? utf8.encode(entry) : Uint8Array.from(entry));
}

// A marker for each vocabulary: a long ASCII token of its table that no token of the other two
// holds, so a downloaded script holding it is that vocabulary.
const markers = Object.fromEntries(
  (Object.keys(ranks) as (keyof typeof ranks)[]).map((name) => {
    const others = (Object.keys(ranks) as (keyof typeof ranks)[])
      .filter((n) => n !== name)
      .flatMap((n) => ranks[n].filter((e): e is string => typeof e === 'string'))
      .join('\u0000');
    const table = ranks[name];
    for (let r = table.length - 1; r >= 0; r--) {
      const e = table[r];
      if (typeof e === 'string' && /^[A-Za-z]{9,}$/.test(e) && !others.includes(e)) return [name, e];
    }
    throw new Error(`no marker for ${name}`);
  })
) as Record<keyof typeof ranks, string>;

const prompts = [
  'Hello world, the cat sat on the mat.',
  'A family 👨‍👩‍👧‍👦, a thumb 👍🏽 and a flag 🏳️‍🌈.',
  '你好，世界。日本語のテキストも。',
  'مرحبا بالعالم',
  'မင်္ဂလာပါ ကမ္ဘာ',
  'cafe\u0301 n\u0303 a\u0308\u0301 — combining marks',
  ' cat cat\n\tcat  <|endoftext|>'
];

const codePoints = (s: string) => Array.from(s).length;

async function openChapter(page: Page) {
  await page.goto('/tokens?backend=cpu');
  await expect(page.getByRole('heading', { level: 1, name: 'Tokens' })).toBeVisible();
}

const view = (page: Page) => page.locator('[data-widget="tokenizer"]');
const column = (page: Page, name: Name) => view(page).locator(`section.column[data-encoding="${name}"]`);

async function chips(col: Locator) {
  return col.locator('.chip[data-id]').evaluateAll((els) => els.map((e) => ({ id: Number(e.getAttribute('data-id')), text: e.textContent ?? '' })));
}

// The column shows exactly the reference ids for the text, with the visible-token rule applied to
// each token's bytes, and the counts that follow from them.
async function expectColumn(page: Page, name: Name, text: string) {
  const col = column(page, name);
  const ids = reference[name].encode(text);
  await expect.poll(async () => (await chips(col)).map((c) => c.id), { message: `${name} ids for ${JSON.stringify(text)}` }).toEqual(ids);
  const shown = await chips(col);
  expect(shown.map((c) => c.text)).toEqual(ids.map((id) => visibleToken(reference[name].piece(id))));
  expect(shown.map((c) => c.text).join('')).not.toContain('\uFFFD');
  await expect(col.getByTestId('token-count')).toHaveAttribute('data-value', String(ids.length));
  await expect(col.getByTestId('token-count')).toHaveText(`${ids.length.toLocaleString('en')} ${ids.length === 1 ? 'token' : 'tokens'}`);
  const perToken = Number(await col.getByTestId('chars-per-token').getAttribute('data-value'));
  expect(perToken).toBeCloseTo(codePoints(text) / ids.length, 12);
}

test('every column shows its tokenizer’s ids and tokens, for text in many scripts', async ({ page }) => {
  await watchLongTasks(page);
  await openChapter(page);
  await expect(view(page)).toHaveAttribute('data-ready', '');
  for (const name of ['r50k_base', 'cl100k_base', 'o200k_base'] as const) await view(page).locator(`input[data-encoding="${name}"]`).check();
  const input = view(page).getByLabel('Your text');
  for (const text of prompts) {
    await input.fill(text);
    for (const name of Object.keys(reference) as Name[]) await expectColumn(page, name, text);
  }
  // typed key by key, as a reader types, with all four columns shown
  await resetLongTasks(page);
  await input.fill('');
  await input.pressSequentially('Typing into four tokenizers at once: 你好 👍', { delay: 30 });
  await expectColumn(page, 'o200k_base', 'Typing into four tokenizers at once: 你好 👍');
  await reportLongTasks(page, 'typing into the tokenizer view (four columns)');
});

test('comparison vocabularies are downloaded only when their column is shown', async ({ page }) => {
  const seen = new Set<string>();
  const bodies: Promise<void>[] = [];
  page.on('response', (r: Response) => {
    if (!r.url().endsWith('.js')) return;
    bodies.push(
      r.text().then(
        (body) => {
          for (const [name, marker] of Object.entries(markers)) if (body.includes(marker)) seen.add(name);
        },
        () => {}
      )
    );
  });
  const settled = async () => {
    await page.waitForLoadState('networkidle');
    await Promise.all(bodies);
  };
  await openChapter(page);
  await expect(view(page)).toHaveAttribute('data-ready', '');
  await expectColumn(page, 'ours', await view(page).getByLabel('Your text').inputValue());
  await settled();
  expect([...seen], 'vocabularies fetched before any column was shown').toEqual([]);

  await view(page).locator('input[data-encoding="cl100k_base"]').check();
  await expectColumn(page, 'cl100k_base', await view(page).getByLabel('Your text').inputValue());
  await settled();
  expect([...seen]).toEqual(['cl100k_base']);

  await view(page).locator('input[data-encoding="r50k_base"]').check();
  await expectColumn(page, 'r50k_base', await view(page).getByLabel('Your text').inputValue());
  await settled();
  expect([...seen].sort()).toEqual(['cl100k_base', 'r50k_base']);
});

test('empty text shows a hint, long text a cut note', async ({ page }) => {
  await openChapter(page);
  await expect(view(page)).toHaveAttribute('data-ready', '');
  const input = view(page).getByLabel('Your text');
  await input.fill('');
  await expect(view(page).getByTestId('empty-hint')).toBeVisible();
  await expect(column(page, 'ours').getByTestId('token-count')).toHaveAttribute('data-value', '0');
  await expect(column(page, 'ours').locator('.chip[data-id]')).toHaveCount(0);

  const long = 'the cat sat. '.repeat(400); // 5,200 characters
  await input.fill(long);
  const note = view(page).getByTestId('cut-note');
  await expect(note).toBeVisible();
  const cut = Number(await note.getAttribute('data-cut'));
  expect(cut).toBeGreaterThan(0);
  const kept = long.slice(0, codePoints(long) - cut);
  await expectColumn(page, 'ours', kept);
  await expect(note).toContainText(`the last ${cut.toLocaleString('en')} are left out`);
});

test('keyboard: tab to a token and read its id and bytes', async ({ page }) => {
  await openChapter(page);
  await expect(view(page)).toHaveAttribute('data-ready', '');
  const text = ' cat and café';
  await view(page).getByLabel('Your text').fill(text);
  await expectColumn(page, 'ours', text);
  await view(page).locator('input[data-encoding="o200k_base"]').focus();
  await page.keyboard.press('Tab');
  const ids = ours.encode(text);
  const first = column(page, 'ours').locator('.chip[data-id]').first();
  await expect(first).toBeFocused();
  const detail = column(page, 'ours').getByTestId('token-detail');
  await expect(detail.locator('[data-value]')).toHaveAttribute('data-value', String(ids[0]));
  await expect(detail).toContainText(`id ${ids[0]}`);
  const hex = Array.from(ours.tokenBytes(ids[0]), (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
  await expect(detail).toContainText(hex);
  await page.keyboard.press('ArrowRight');
  await expect(detail).toContainText(`id ${ids[1]}`);
});

test('the inline example and the vocabulary size come from the model', async ({ page }) => {
  await openChapter(page);
  const inline = page.getByTestId('inline-tokens');
  await inline.scrollIntoViewIfNeeded();
  await expect(inline).toHaveAttribute('data-ready', '');
  for (const t of [' cat', 'cat']) {
    const shown = await inline.locator(`[data-text="${t}"]`).evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-id'))));
    expect(shown).toEqual(ours.encode(t));
  }
  await expect(page.getByTestId('vocab-size')).toHaveAttribute('data-value', String(modelConfig.vocab_size));
  await expect(page.getByTestId('vocab-size')).toHaveText((modelConfig.vocab_size as number).toLocaleString('en'));
});

test('each BPE step shows the merge our tokenizer’s training makes, and its counts', async ({ page }) => {
  await watchLongTasks(page);
  await openChapter(page);
  const fig = page.locator('[data-widget="bpe"]');
  await fig.scrollIntoViewIfNeeded();
  await expect(fig).toHaveAttribute('data-ready', '');
  const text = 'low lower lowest; newer newest; wider widest; 你好你好 🐈🐈 the the the';
  const other = 'slowest newest 你好';
  await fig.getByRole('textbox', { name: 'Training text' }).fill(text);
  await fig.getByRole('textbox', { name: 'New text' }).fill(other);
  const trained: MergeStep[] = [];
  Tokenizer.train(text, 256 + 40 + 1, { onMerge: (s) => trained.push(s) });
  await expect(fig.locator('.stepper input[type="range"]')).toHaveAttribute('max', String(trained.length));

  await expect(fig.getByTestId('train-tokens')).toHaveAttribute('data-value', String(utf8.encode(text).length));
  await resetLongTasks(page);
  for (let k = 1; k <= 4; k++) {
    await fig.getByRole('button', { name: 'Step', exact: true }).click();
    const merge = fig.getByTestId('merge');
    const m = trained[k - 1];
    await expect(merge).toHaveAttribute('data-pair', m.pair.join(','));
    await expect(merge).toHaveAttribute('data-id', String(m.id));
    await expect(merge).toHaveAttribute('data-value', String(m.count));
    await expect(fig.locator('ol.bars li[data-rank="0"]')).toHaveAttribute('data-value', String(m.count));
    const upTo = new Tokenizer(trained.slice(0, k));
    await expect(merge).toContainText(visibleToken(upTo.tokenText(m.id)));
    await expect(fig.getByTestId('train-tokens')).toHaveAttribute('data-value', String(upTo.encode(text).length));
    await expect(fig.getByTestId('new-tokens')).toHaveAttribute('data-value', String(upTo.encode(other).length));
    await expect.poll(() => fig.locator('[data-testid="new-strip"] .chip').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-id'))))).toEqual(upTo.encode(other));
    await expect(fig.getByTestId('learned')).toHaveAttribute('data-value', String(k));
  }
  // the bars are counts in the order training ranks them: non-increasing
  const counts = await fig.locator('ol.bars li').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
  expect(counts).toEqual([...counts].sort((a, b) => b - a));
  // play to the end: every merge made, the new text encoded with all of them
  await fig.getByRole('button', { name: 'Play' }).click();
  await expect(fig.getByTestId('learned')).toHaveAttribute('data-value', String(trained.length), { timeout: 60_000 });
  const full = new Tokenizer(trained);
  await expect(fig.getByTestId('new-tokens')).toHaveAttribute('data-value', String(full.encode(other).length));
  await reportLongTasks(page, 'stepping and playing the BPE merges');
  // back one step undoes the last merge
  await fig.getByRole('button', { name: 'Back' }).click();
  await expect(fig.getByTestId('merge')).toHaveAttribute('data-id', String(trained[trained.length - 2].id));
});

test('BPE: empty training text shows a hint and no merges; long text a cut note', async ({ page }) => {
  await openChapter(page);
  const fig = page.locator('[data-widget="bpe"]');
  await fig.scrollIntoViewIfNeeded();
  await expect(fig).toHaveAttribute('data-ready', '');
  await fig.getByRole('textbox', { name: 'Training text' }).fill('');
  await expect(fig.getByTestId('empty-hint')).toBeVisible();
  await expect(fig.getByTestId('no-merges')).toBeVisible();
  await fig.getByRole('textbox', { name: 'Training text' }).fill('a long text, over and over. '.repeat(800));
  await expect(fig.getByTestId('cut-note')).toBeVisible({ timeout: 60_000 });
});

test('the language chart’s counts are the tokenizers’ counts', async ({ page }) => {
  await openChapter(page);
  const fig = page.locator('[data-widget="languages"]');
  await fig.scrollIntoViewIfNeeded();
  await expect(fig).toHaveAttribute('data-ready', '');
  for (const mode of ['Greeting', 'Sentence']) {
    await fig.getByLabel(mode).check();
    const rows = fig.locator('li.lang');
    expect(await rows.count()).toBeGreaterThanOrEqual(10);
    for (let i = 0; i < (await rows.count()); i++) {
      const row = rows.nth(i);
      const text = (await row.locator('.text').textContent()) ?? '';
      expect(text.length).toBeGreaterThan(0);
      for (const name of Object.keys(reference) as Name[]) {
        const n = reference[name].encode(text).length;
        await expect(row.locator(`[data-encoding="${name}"]`)).toHaveAttribute('data-value', String(n));
        await expect(row.locator(`[data-encoding="${name}"] .n`)).toHaveText(String(n));
      }
    }
  }
  // the quoted figures sit beside cl100k_base's real counts of our greetings
  const quoted = fig.locator('table.quoted tbody tr');
  await expect(quoted).toHaveCount(4);
  for (let i = 0; i < 4; i++) {
    const greeting = (await quoted.nth(i).locator('td').nth(1).textContent()) ?? '';
    const n = cl100k(greeting, noSpecial).length;
    await expect(quoted.nth(i).getByTestId('gpt4-count')).toHaveAttribute('data-value', String(n));
    await expect(quoted.nth(i).getByTestId('gpt4-count')).toHaveText(String(n));
  }
});
