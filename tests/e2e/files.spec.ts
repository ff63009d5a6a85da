// Chapters 9 and 10 read as a reader sees them. Quantize it: each precision's held-out loss on the
// page equals `npm run eval -- --quantize P --chars N` for the same slice, its file size is the
// engine's, and the fp32 continuation is `npm run generate` at temperature 0. Plausible is not
// true: each token's probability under it equals softmax of the logits `npm run trace --keys
// logits` gives for the same ids, and its greedy line is `npm run generate` at temperature 0.
// The pages run ?backend=cpu so they do the same float32 arithmetic as the command line.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, test, type Locator } from '@playwright/test';
import { generate, modelDir } from './site';
import { reportLongTasks, resetLongTasks, watchLongTasks } from './long-tasks';

test.describe.configure({ timeout: 240_000 });

const slice = JSON.parse(readFileSync('src/lib/engine/heldout-slice.json', 'utf8')) as { chars: number };

function evalCli(precision: string): { model: number; precision: string; chars: number; tokens: number } {
  const out = execFileSync('npm', ['run', '--silent', 'eval', '--', '--quantize', precision, '--chars', String(slice.chars), '--model', modelDir, '--json'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe']
  });
  return JSON.parse(out.split('\n').find((l) => l.startsWith('{'))!);
}

// logits (T, V) of a full pass over a text, from the command line
function cliLogits(text: string): { ids: number[]; logits: number[]; V: number } {
  const out = execFileSync('npm', ['run', '--silent', 'trace', '--', '--prompt', text, '--keys', 'logits', '--model', modelDir, '--json'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 512 * 2 ** 20
  });
  const r = JSON.parse(out.split('\n').find((l) => l.startsWith('{'))!);
  return { ids: r.ids, logits: r.tensors.logits.data, V: r.tensors.logits.shape[1] };
}

function softmaxAt(logits: number[], V: number, t: number, id: number): number {
  const row = logits.slice(t * V, (t + 1) * V);
  const max = Math.max(...row);
  const sum = row.reduce((a, z) => a + Math.exp(z - max), 0);
  return Math.exp(row[id] - max) / sum;
}

async function ready(figure: Locator) {
  await figure.scrollIntoViewIfNeeded();
  await expect(figure).toHaveAttribute('data-ready', '', { timeout: 150_000 });
}

test('quantize: each precision\'s held-out loss equals eval --quantize on the same slice', async ({ page }) => {
  test.setTimeout(900_000); // four runs of the eval CLI, slow on a busy machine
  await watchLongTasks(page);
  await page.goto('/two-files?backend=cpu');
  const figure = page.locator('[data-widget="quantize"]');
  await ready(figure);
  for (const precision of ['fp32', 'fp16', 'int8', 'int4']) {
    const row = figure.locator(`table[data-testid="sizes"] tr[data-precision="${precision}"]`);
    const cell = row.locator('[data-testid="loss"]');
    const cli = evalCli(precision);
    await expect(cell).toHaveAttribute('data-value', /\d/, { timeout: 300_000 }); // scored after the figure is ready
    expect(cli.precision).toBe(precision);
    const onPage = Number(await cell.getAttribute('data-value'));
    console.log(`${precision}: page ${onPage}, cli ${cli.model} nats/char; ${await row.locator('[data-testid="bytes"]').getAttribute('data-value')} bytes`);
    expect(Math.abs(onPage - cli.model)).toBeLessThan(1e-9);
    expect(await cell.textContent()).toBe(cli.model.toFixed(4)); // what a reader sees
  }
  // the sizes: fp16 is exactly half of fp32, the integer formats smaller still
  const bytes = async (p: string) => Number(await figure.locator(`tr[data-precision="${p}"] [data-testid="bytes"]`).getAttribute('data-value'));
  expect(await bytes('fp16')).toBe((await bytes('fp32')) / 2);
  expect(await bytes('int8')).toBeLessThan(await bytes('fp16'));
  expect(await bytes('int4')).toBeLessThan(await bytes('int8'));
  resetLongTasks(page);
  await reportLongTasks(page, 'quantize, after the losses');
});

test('quantize: the fp32 continuation equals generate at T = 0; a block snaps to its levels', async ({ page }) => {
  await page.goto('/two-files?backend=cpu');
  await page.locator('html[data-hydrated]').waitFor(); // the page's controls answer from here on
  const figure = page.locator('[data-widget="quantize"]');
  await ready(figure);

  // the reader's prompt, continued greedily at fp32, is the command line's greedy text
  const prompt = 'He looked at the house and';
  await figure.getByLabel('Prompt', { exact: true }).fill(prompt);
  const fp32 = figure.locator('[data-testid="continuations"] [data-precision="fp32"]');
  const cli = generate({ prompt, tokens: 20, temperature: 0, seed: 0 });
  await expect(fp32).toHaveAttribute('data-ids', JSON.stringify(cli.ids), { timeout: 60_000 });
  await expect(fp32.locator('.prompt')).toHaveText(cli.pieces.slice(0, cli.prompt_tokens).join(''));

  // at int8 the histogram draws the 255 levels of one row
  await figure.getByTestId('precision').selectOption('int8');
  await expect(figure.getByTestId('block-note')).toContainText('255 values');
});

test('confabulation: every token\'s probability is the engine\'s; the greedy line is generate at T = 0', async ({ page }) => {
  await page.goto('/what-it-is-not?backend=cpu');
  await page.locator('html[data-hydrated]').waitFor(); // the page's controls answer from here on
  const figure = page.locator('[data-widget="confabulation"]');
  await ready(figure);
  const prompt = 'The river was named after the';
  await figure.getByLabel('Prompt', { exact: true }).fill(prompt);
  const greedy = figure.locator('[data-seed="greedy"]');
  const cli = generate({ prompt, tokens: 14, temperature: 0, seed: 0 });
  await expect(greedy).toHaveAttribute('data-ids', JSON.stringify(cli.ids), { timeout: 60_000 });

  // what a reader sees under a token ("36.7%") is its p to the digits shown
  async function expectShown(tok: Locator, p: number) {
    const shown = (await tok.locator('.pr').textContent())!.replace('%', '');
    const digits = shown.split('.')[1]?.length ?? 0;
    expect(Math.abs(Number(shown) - 100 * p)).toBeLessThanOrEqual(0.5 * 10 ** -digits + 1e-9);
  }
  let compared = 0;
  for (const run of await figure.locator('section.run').all()) {
    const seed = (await run.getAttribute('data-seed'))!;
    const ids = JSON.parse((await run.getAttribute('data-ids'))!) as number[];
    const toks = run.locator('.tok');
    const n = await toks.count();
    const promptLen = ids.length - n;
    if (seed === 'greedy') {
      // p of each token = softmax of the logits at the position before it, from a full pass over the
      // line's text read back into ids by the command line; where that text encodes to other ids
      // the comparison stops (the first token always compares: the prompt encodes alike)
      const full = cliLogits((await run.getAttribute('data-text'))!);
      let here = 0;
      for (let i = 0; i < n && promptLen + i < full.ids.length; i++) {
        if (full.ids.slice(0, promptLen + i + 1).join() !== ids.slice(0, promptLen + i + 1).join()) break;
        const p = Number(await toks.nth(i).getAttribute('data-value'));
        expect(Math.abs(p - softmaxAt(full.logits, full.V, promptLen + i - 1, ids[promptLen + i]))).toBeLessThan(1e-5);
        await expectShown(toks.nth(i), p);
        here++;
      }
      expect(here, 'greedy tokens compared with the trace').toBeGreaterThanOrEqual(1);
      compared += here;
    } else {
      // a seeded line is `npm run generate` with that seed at the line's temperature (the chapter
      // sets it): the same tokens, and each step's reported top 10 holds the chosen token's p when it ranks there
      const temperature = Number(await run.getAttribute('data-temperature'));
      expect(temperature).toBeGreaterThan(0);
      const cli = generate({ prompt, tokens: n, temperature, seed: Number(seed) });
      expect(ids).toEqual(cli.ids);
      // the p under each token is the model's at temperature 1 (what it believes, not what the dice
      // used): softmax of the logits of a full pass over the line, as for the greedy line
      const full = cliLogits((await run.getAttribute('data-text'))!);
      for (let i = 0; i < n && promptLen + i < full.ids.length; i++) {
        if (full.ids.slice(0, promptLen + i + 1).join() !== ids.slice(0, promptLen + i + 1).join()) break;
        const p = Number(await toks.nth(i).getAttribute('data-value'));
        expect(Math.abs(p - softmaxAt(full.logits, full.V, promptLen + i - 1, ids[promptLen + i]))).toBeLessThan(1e-5);
        await expectShown(toks.nth(i), p);
        compared++;
      }
    }
  }
  expect(compared, 'tokens compared with the command line').toBeGreaterThanOrEqual(5);
});

test('autocomplete: a question continues as the engine writes it', async ({ page }) => {
  await page.goto('/what-it-is-not?backend=cpu');
  const figure = page.locator('[data-widget="autocomplete"]');
  await ready(figure);
  const prompt = (await figure.getByLabel('Prompt', { exact: true }).inputValue());
  const cli = generate({ prompt, tokens: 20, temperature: 0, seed: 0 });
  await expect(figure.locator('[data-seed="greedy"]')).toHaveAttribute('data-ids', JSON.stringify(cli.ids));
});
