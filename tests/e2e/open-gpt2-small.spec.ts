// GPT-2 small's exact shape (12 layers, 12 heads, C = 768, context 1,024, vocabulary 50,257:
// 124,439,808 parameters), random weights written at test time by `npm run init-model -- --preset
// gpt2`, opened from disk in the page on the CPU backend: the plan names its shape and memory
// before it starts, it opens without a request, and chapter 1's first figure shows the CLI's next
// tokens for the same folder. The tokenizer learns 4,096 tokens from the Brown corpus and is padded
// to 50,257 (Tokenizer.padded): learning all the corpus allows would take minutes and still stop
// near 44,000. Slow by nature: the times are printed, not asserted.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { trace, waitForFigures } from './site';
import { countParams, parseConfig } from '../../engine/config';

test.describe.configure({ timeout: 900_000 });

let dir = '';
let made = false;

test.beforeAll(() => {
  // OPEN_MODEL_GPT2_DIR reuses a folder written before by the same command (to rerun the test
  // without writing 480 MB again); otherwise the folder is written here and removed afterwards
  const given = process.env.OPEN_MODEL_GPT2_DIR;
  if (given && existsSync(join(given, 'model.safetensors'))) {
    dir = given;
    return;
  }
  dir = join(mkdtempSync(join(tmpdir(), 'gpt2-small-')), 'gpt2-small-random');
  made = true;
  const t0 = Date.now();
  execFileSync('npm', ['run', '--silent', 'init-model', '--', '--preset', 'gpt2', '--learn', '4096', '--name', 'gpt2-small-random', '--out', dir], { stdio: 'ignore' });
  console.log(`init-model --preset gpt2: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

test.afterAll(() => {
  if (made) rmSync(join(dir, '..'), { recursive: true, force: true });
});

test('a GPT-2-small-sized folder opens in the page and chapter 1 shows the CLI’s numbers for it', async ({ page }) => {
  const config = parseConfig(readFileSync(join(dir, 'config.json'), 'utf8'));
  expect([config.n_layer, config.n_head, config.n_embd, config.n_positions, config.vocab_size]).toEqual([12, 12, 768, 1024, 50257]);
  const nParams = countParams(config);
  expect(nParams).toBe(124_439_808); // GPT-2 small's count (the output layer is the token table)

  await page.goto('/the-loop?backend=cpu');
  await waitForFigures(page);
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.getByTestId('model-toggle').click();
  await page.getByTestId('model-files').setInputFiles(['config.json', 'model.safetensors', 'tokenizer.json'].map((f) => join(dir, f)));
  await expect(page.getByTestId('model-plan')).toContainText('12 layers, 12 heads, C = 768, vocabulary 50,257, context 1,024');
  const memory = Number(await page.getByTestId('model-memory').getAttribute('data-value'));
  console.log(`memory shown before opening: ${(memory / 1e9).toFixed(2)} GB for ${nParams.toLocaleString('en')} parameters`);

  const t0 = Date.now();
  await page.getByTestId('model-open').click();
  await expect(page.getByTestId('model-control')).toHaveAttribute('data-model', String(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).explorable_name), { timeout: 600_000 });
  const opened = Date.now();
  await waitForFigures(page);
  const shown = Date.now();
  console.log(`read + prepared: ${((opened - t0) / 1000).toFixed(1)} s; first figures with engine numbers after: ${((shown - opened) / 1000).toFixed(1)} s more`);
  expect(requests, 'requests while opening').toEqual([]);

  const first = page.locator('figure.widget').first();
  const prompt = (await first.locator('ol.bars').getAttribute('data-prompt'))!;
  const ids = await first.locator('ol.bars li').evaluateAll((li) => li.map((l) => Number(l.getAttribute('data-id'))));
  const want = trace(prompt, undefined, { model: dir });
  expect(ids).toEqual(want.top.map((t) => t.id));
  const ms = await page.getByTestId('ms-per-token').textContent().catch(() => null);
  console.log(`engine control after the figures: ${ms ?? '(no pass shown)'}`);
});
