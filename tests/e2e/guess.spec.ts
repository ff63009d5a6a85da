// Chapter 8's "Guess the next token", played the way a reader plays it: the model's probability for
// each true token and both running cross-entropies must be the engine's, checked against
// `npm run trace` for a sentence the test chooses. The page runs ?backend=cpu, the same float32
// arithmetic as the CLI.
import { execFileSync } from 'node:child_process';
import { expect, test } from '@playwright/test';
import { modelDir } from './site';

// The sentence's ids and its (T, V) logits from the command line (the same text, no <|endoftext|>
// before it, as the figure reads it)
function traceLogits(prompt: string): { ids: number[]; V: number; logits: number[] } {
  const out = execFileSync('npm', ['run', '--silent', 'trace', '--', '--prompt', prompt, '--model', modelDir, '--keys', 'logits', '--json'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 2 ** 20
  });
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`npm run trace printed no JSON:\n${out}`);
  const j = JSON.parse(line) as { ids: number[]; tensors: { logits: { shape: number[]; data: number[] } } };
  return { ids: j.ids, V: j.tensors.logits.shape[1], logits: j.tensors.logits.data };
}

// softmax(row t − 1)[ids[t]]: the probability of token t given the tokens before it, written out here
function pOf(tr: { ids: number[]; V: number; logits: number[] }, t: number): number {
  const row = tr.logits.slice((t - 1) * tr.V, t * tr.V);
  const max = Math.max(...row);
  const sum = row.reduce((s, z) => s + Math.exp(z - max), 0);
  return Math.exp(row[tr.ids[t]] - max) / sum;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

test('guess: three guesses; the model’s p for each truth and both means are the engine’s', async ({ page }) => {
  await page.goto('/training?backend=cpu');
  const figure = page.locator('[data-widget="guess"]');
  await figure.scrollIntoViewIfNeeded();
  await expect(figure).toHaveAttribute('data-ready', '');

  const sentence = 'The old farmer sold his two horses at the market last week.';
  await figure.getByRole('textbox', { name: 'The sentence to guess' }).fill(sentence);
  const want = traceLogits(sentence);
  const strip = figure.getByRole('list', { name: 'The sentence so far' });
  await expect(strip.locator('[data-id]')).toHaveCount(1);
  await expect(strip.locator('[data-id]').first()).toHaveAttribute('data-id', String(want.ids[0]));
  await expect(figure.getByTestId('reader-mean')).toHaveText('–');

  const choices = figure.getByTestId('choices').locator('button');
  const readerNats: number[] = [];
  const modelNats: number[] = [];
  // right, wrong, right: the second with the keyboard
  for (const [t, how] of [[1, 'right'], [2, 'wrong'], [3, 'right']] as const) {
    await expect(figure.getByTestId('choices')).toHaveAttribute('data-position', String(t));
    await expect(choices).toHaveCount(4);
    const ids = (await choices.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-id')))));
    expect(ids, 'the truth is among the choices').toContain(want.ids[t]);
    expect(new Set(ids).size).toBe(4);
    const target = how === 'right' ? want.ids[t] : ids.find((id) => id !== want.ids[t])!;
    const button = figure.locator(`[data-testid="choices"] button[data-id="${target}"]`);
    if (how === 'wrong') {
      await button.focus();
      await page.keyboard.press('Enter');
    } else await button.click();

    const p = pOf(want, t);
    const shownP = figure.getByTestId('model-p');
    await expect(figure.getByTestId('truth')).toHaveAttribute('data-id', String(want.ids[t]));
    expect(Number(await shownP.getAttribute('data-value')), `p of token ${t}`).toBeCloseTo(p, 5);
    await expect(shownP).toHaveText(p >= 0.01 ? `${(p * 100).toFixed(1)}%` : `${(p * 100).toPrecision(2)}%`);
    modelNats.push(-Math.log(p));
    readerNats.push(how === 'right' ? -Math.log(0.97) : -Math.log(0.03 / 3));
    await expect(strip.locator('[data-id]')).toHaveCount(t + 1);

    const m = figure.getByTestId('model-mean');
    const r = figure.getByTestId('reader-mean');
    expect(Number(await m.getAttribute('data-value'))).toBeCloseTo(mean(modelNats), 5);
    expect(Number(await r.getAttribute('data-value'))).toBeCloseTo(mean(readerNats), 10);
    await expect(m).toHaveText(mean(modelNats).toFixed(3));
    await expect(r).toHaveText(mean(readerNats).toFixed(3));
  }
  // the revealed tokens are the sentence's
  const shown = await strip.locator('[data-id]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-id'))));
  expect(shown).toEqual(want.ids.slice(0, 4));

  // the next sentence is another one, and the scores start again
  await figure.getByTestId('next-sentence').click();
  await expect(figure.getByRole('textbox', { name: 'The sentence to guess' })).not.toHaveValue(sentence);
  await expect(figure).toHaveAttribute('data-ready', '');
  await expect(figure.getByTestId('reader-mean')).toHaveText('–');
  await expect(figure.getByTestId('choices')).toHaveAttribute('data-position', '1');
});
