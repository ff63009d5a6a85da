// What the opened-model specs share: the small folder they open (written at test time with random
// weights by `npm run init-model`, in a shape unlike the shipped model's in every dimension) and
// opening a folder with the page's Model control, as a reader does.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, type Page } from '@playwright/test';

export const smallName = 'small-test';
export const smallShape = { layers: 3, heads: 2, embd: 64, context: 64, vocab: 600 };
export const folderFiles = (dir: string, names = ['config.json', 'model.safetensors', 'tokenizer.json']) => names.map((n) => join(dir, n));

// Writes the small folder to dir (the same weights every time: seed 7).
export function writeSmallFolder(dir: string): string {
  const s = smallShape;
  execFileSync('npm', ['run', '--silent', 'init-model', '--', '--vocab', String(s.vocab), '--layers', String(s.layers), '--heads', String(s.heads), '--embd', String(s.embd), '--context', String(s.context), '--name', smallName, '--out', dir, '--seed', '7'], { stdio: 'ignore' });
  return dir;
}

// Opens the Model control's panel (the header's, or the one under an embed) if it is closed.
export async function modelPanel(page: Page): Promise<void> {
  const toggle = page.getByTestId('model-toggle');
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
}

// Picks the files (or, with folder, a whole folder) in the Model control; nothing is opened yet.
export async function pickFiles(page: Page, paths: string[] | string, { folder = false } = {}): Promise<void> {
  await modelPanel(page);
  await page.getByTestId(folder ? 'model-folder' : 'model-files').setInputFiles(paths);
}

// Picks the folder's files, opens them (kept in the browser too, with keep), and waits until the
// page runs the model.
export async function openFolder(page: Page, dir: string, { keep = false, name = smallName } = {}): Promise<void> {
  await pickFiles(page, folderFiles(dir));
  if (keep) await page.getByTestId('model-keep').check();
  await page.getByTestId('model-open').click();
  await expect(page.getByTestId('model-control')).toHaveAttribute('data-model', name);
  await expect(page.getByTestId('model-control')).toHaveAttribute('data-opened', 'true');
}
