// The parameter-file figure of chapter 1: what it says about model.safetensors must be true of the
// file on disk and of the model the engine builds from it.
import { readFileSync, statSync } from 'node:fs';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { modelDir } from './site';
import { countParams, parseConfig } from '../../engine/config';
import { parseSafetensors } from '../../engine/safetensors';

const fileBytes = statSync(`${modelDir}/model.safetensors`).size;
const config = parseConfig(readFileSync(`${modelDir}/config.json`, 'utf8'));
const { tensors } = parseSafetensors(new Uint8Array(readFileSync(`${modelDir}/model.safetensors`)));

async function open(page: Page): Promise<Locator> {
  await page.goto('/the-loop?backend=cpu');
  const figure = page.locator('figure.widget').filter({ hasText: 'The parameter file' });
  await figure.scrollIntoViewIfNeeded();
  await expect(figure.locator('dl[data-ready]')).toBeVisible();
  return figure;
}

test('the total on screen is the engine’s parameter count, and the size is the file’s', async ({ page }) => {
  const figure = await open(page);
  const totals = figure.locator('dl[data-ready]');
  await expect(totals).toHaveAttribute('data-params', String(countParams(config)));
  await expect(totals).toHaveAttribute('data-bytes', String(fileBytes));
  // and what a reader reads says the same
  await expect(figure.getByTestId('param-total')).toHaveText(countParams(config).toLocaleString('en'));
  await expect(figure.getByTestId('file-bytes')).toContainText(`(${fileBytes.toLocaleString('en')} bytes)`);
});

test('every tensor of the file is listed once, with its shape’s size and its bytes', async ({ page }) => {
  const figure = await open(page);
  const rows = await figure.locator('tr[data-name]').evaluateAll((trs) =>
    trs.map((tr) => ({ name: tr.getAttribute('data-name')!, count: Number(tr.getAttribute('data-count')), bytes: Number(tr.getAttribute('data-bytes')) }))
  );
  expect(rows.map((r) => r.name).sort()).toEqual([...tensors.keys()].sort());
  for (const r of rows) {
    expect(r.count).toBe(tensors.get(r.name)!.data.length);
    expect(r.bytes).toBe(4 * r.count); // the shipped file is float32
  }
  // one group per block, between the embeddings and the final LayerNorm
  const groups = await figure.locator('details[data-group]').evaluateAll((ds) => ds.map((d) => d.getAttribute('data-group')));
  expect(groups).toEqual(['embeddings', ...Array.from({ length: config.n_layer }, (_, i) => `h.${i}`), 'ln_f']);
});

test('a tensor picked from the keyboard shows its first numbers, as the file holds them', async ({ page }) => {
  const figure = await open(page);
  const values = figure.getByTestId('tensor-values');
  // the first one shown is the token embedding
  await expect(values).toHaveAttribute('data-name', 'wte.weight');
  expect(JSON.parse((await values.getAttribute('data-values'))!)).toEqual(Array.from(tensors.get('wte.weight')!.data.subarray(0, 12)));

  // open block 1 from the keyboard and pick its MLP weight
  const block = figure.locator('details[data-group="h.1"]');
  await expect(block).not.toHaveAttribute('open', '');
  await block.locator('summary').focus();
  await page.keyboard.press('Enter');
  await expect(block).toHaveAttribute('open', '');
  const pick = block.getByRole('button', { name: /^h\.1\.mlp\.c_fc\.weight:/ });
  await pick.focus();
  await page.keyboard.press('Enter');
  await expect(pick).toHaveAttribute('aria-pressed', 'true');
  await expect(values).toHaveAttribute('data-name', 'h.1.mlp.c_fc.weight');
  expect(JSON.parse((await values.getAttribute('data-values'))!)).toEqual(Array.from(tensors.get('h.1.mlp.c_fc.weight')!.data.subarray(0, 12)));
  await expect(values).toContainText(`shape (${config.n_embd}, ${4 * config.n_embd})`);

  // and Enter on the summary again folds the block
  await block.locator('summary').focus();
  await page.keyboard.press('Enter');
  await expect(block).not.toHaveAttribute('open', '');
});
