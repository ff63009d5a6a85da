// Chapter 3's figures: what they show must equal sums the test does itself over the model file
// (wte, wpe), with the tokenizer read from the same folder. Tokens are chosen from the vocabulary
// here, never typed in as a particular model's outputs.
import { readFileSync } from 'node:fs';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { modelDir } from './site';
import { reportLongTasks, resetLongTasks, watchLongTasks } from './long-tasks';
import { parseConfig } from '../../engine/config';
import { parseSafetensors } from '../../engine/safetensors';
import { Tokenizer } from '../../engine/tokenizer';
import { pca } from '../../engine/pca';

const config = parseConfig(readFileSync(`${modelDir}/config.json`, 'utf8'));
const { tensors } = parseSafetensors(new Uint8Array(readFileSync(`${modelDir}/model.safetensors`)));
const tokenizer = Tokenizer.fromJSON(readFileSync(`${modelDir}/tokenizer.json`, 'utf8'));
const wte = tensors.get('wte.weight')!.data; // (V, C)
const wpe = tensors.get('wpe.weight')!.data; // (P, C)
const V = config.vocab_size;
const C = config.n_embd;
const P = config.n_positions;
const row = (m: Float32Array, i: number) => Array.from(m.subarray(i * C, i * C + C));

function cos(a: number[], b: number[]): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] ** 2;
    bb += b[i] ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

// every token ranked by cosine with v, most similar first
const ranked = (v: number[]) =>
  Array.from({ length: V }, (_, j) => ({ id: j, cosine: cos(v, row(wte, j)) })).sort((a, b) => b.cosine - a.cosine || a.id - b.id);

// word tokens (a space and letters) whose bare form is not itself a token: typing the bare word
// must find the spaced token
const words = Array.from({ length: V }, (_, i) => i).filter((i) => {
  const t = tokenizer.tokenText(i);
  return /^ \p{L}{3,}$/u.test(t) && tokenizer.encode(t.slice(1)).length > 1;
});

async function open(page: Page, name: string): Promise<Locator> {
  await page.goto('/embeddings?backend=cpu');
  const figure = page.locator(`[data-widget="${name}"]`);
  // the figure may be re-rendered while the page hydrates: scroll to whichever is there
  await expect(async () => await figure.scrollIntoViewIfNeeded({ timeout: 2000 })).toPass();
  await expect(figure).toHaveAttribute('data-ready', '');
  return figure;
}

async function neighbourList(figure: Locator) {
  return figure.locator('.side li[data-id]').evaluateAll((lis) =>
    lis.map((li) => ({ id: Number(li.getAttribute('data-id')), value: Number(li.getAttribute('data-value')), text: li.textContent ?? '' }))
  );
}

test('the map shows the explained variance engine/pca.ts gives for wte, and the shape from the config', async ({ page }) => {
  const figure = await open(page, 'embedding-map');
  const ref = pca(wte, V, C, 2);
  await expect(figure.getByTestId('pc1')).toHaveAttribute('data-value', String(ref.explained[0]));
  await expect(figure.getByTestId('pc2')).toHaveAttribute('data-value', String(ref.explained[1]));
  await expect(figure.getByTestId('pc1')).toContainText(`${(100 * ref.explained[0]).toFixed(1)}%`);
  await expect(figure.getByTestId('explained')).toHaveText(`${(100 * (ref.explained[0] + ref.explained[1])).toFixed(1)}%`);
  await expect(figure.getByTestId('wte-shape')).toContainText(`(${V.toLocaleString('en')}, ${C.toLocaleString('en')})`);
  // a labelled point sits at its PCA coordinates
  const label = figure.locator('text[data-kind="query"]');
  const id = Number(await label.getAttribute('data-id'));
  expect(Number(await label.getAttribute('data-pc1'))).toBe(Math.fround(ref.projected[id * 2]));
  expect(Number(await label.getAttribute('data-pc2'))).toBe(Math.fround(ref.projected[id * 2 + 1]));
});

test('a searched word shows the neighbours the test finds by cosine over the file', async ({ page }) => {
  const figure = await open(page, 'embedding-map');
  for (const id of [words[0], words[Math.floor(words.length / 2)]]) {
    const word = tokenizer.tokenText(id);
    await figure.getByLabel('Find a token').fill(word.slice(1)); // typed without its space
    await expect(figure).toHaveAttribute('data-selected', String(id));
    const want = ranked(row(wte, id)).filter((x) => x.id !== id).slice(0, 10);
    await expect.poll(async () => (await neighbourList(figure)).map((n) => n.id)).toEqual(want.map((x) => x.id));
    const shown = await neighbourList(figure);
    shown.forEach((n, i) => {
      expect(n.value).toBeCloseTo(want[i].cosine, 6);
      expect(n.text).toContain(want[i].cosine.toFixed(3)); // and what a reader reads
      expect(n.text).toContain(tokenizer.tokenText(want[i].id).replaceAll(' ', '␣'));
    });
  }
});

test('a word that splits is shown in its pieces', async ({ page }) => {
  const figure = await open(page, 'embedding-map');
  const word = 'zqxjvkwpfh';
  await figure.getByLabel('Find a token').fill(word);
  const pieces = tokenizer.encode(word);
  const split = figure.getByTestId('split');
  await expect(split).toContainText(`splits it into ${pieces.length} pieces`);
  expect(await split.locator('button[data-id]').evaluateAll((bs) => bs.map((b) => Number(b.getAttribute('data-id'))))).toEqual(pieces);
});

test('keyboard: search box, arrows through the neighbours, Enter picks one', async ({ page }) => {
  const figure = await open(page, 'embedding-map');
  const box = figure.getByLabel('Find a token');
  await box.focus();
  const first = await neighbourList(figure);
  await page.keyboard.press('ArrowDown');
  await expect(figure.locator('.side li[data-rank="0"] button')).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await expect(figure.locator('.side li[data-rank="2"] button')).toBeFocused();
  // the focused neighbour is marked on the map
  await expect(figure.locator(`text[data-kind="focus"][data-id="${first[2].id}"]`)).toHaveCount(1);
  await page.keyboard.press('Enter');
  await expect(figure).toHaveAttribute('data-selected', String(first[2].id));
  await expect(box).toBeFocused();
  await expect(box).toHaveValue(tokenizer.tokenText(first[2].id));
  const want = ranked(row(wte, first[2].id)).filter((x) => x.id !== first[2].id).slice(0, 10);
  await expect.poll(async () => (await neighbourList(figure)).map((n) => n.id)).toEqual(want.map((x) => x.id));
  // Escape from the list goes back to the box
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Escape');
  await expect(box).toBeFocused();
});

test('zoom buttons, Ctrl + wheel and drag move the map; the reader’s text is marked (long tasks reported)', async ({ page }) => {
  await watchLongTasks(page);
  const figure = await open(page, 'embedding-map');
  const k = figure.getByTestId('zoom-k');
  await resetLongTasks(page);
  await figure.getByRole('button', { name: 'Zoom in' }).click();
  await expect(k).toHaveAttribute('data-value', '1.6');
  await figure.getByRole('button', { name: 'Zoom in' }).press('Enter'); // the keyboard too
  await expect(k).toHaveAttribute('data-value', String(1.6 * 1.6));
  const canvas = figure.locator('canvas');
  const b = (await canvas.boundingBox())!;
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) await page.mouse.move(b.x + b.width / 2 + 8 * i, b.y + b.height / 2 + 4 * i);
  await page.mouse.up();
  await page.keyboard.down('Control');
  await page.mouse.wheel(0, -5);
  await page.keyboard.up('Control');
  await expect.poll(async () => Number(await k.getAttribute('data-value'))).toBeGreaterThan(1.6 * 1.6);
  // a plain wheel scrolls the page, not the map
  const before = Number(await k.getAttribute('data-value'));
  await page.mouse.wheel(0, 100);
  expect(Number(await k.getAttribute('data-value'))).toBe(before);
  await reportLongTasks(page, 'zooming and panning the embedding map');
  await figure.getByTestId('zoom-reset').click();
  await expect(k).toHaveAttribute('data-value', '1');

  // the reader's text: its tokens are the strip's, and typing is reported too
  await resetLongTasks(page);
  const input = figure.getByLabel('Your text, on the map');
  await input.fill('');
  await input.pressSequentially('the other side of the river', { delay: 20 });
  const ids = tokenizer.encode('the other side of the river');
  await expect.poll(() => figure.locator('[role="listbox"] [data-id]').evaluateAll((cs) => cs.map((c) => Number(c.getAttribute('data-id'))))).toEqual(ids);
  await reportLongTasks(page, 'typing into the embedding map');
  // picking a token of the text selects it
  await figure.locator('[role="listbox"] [data-index="1"]').click();
  await expect(figure).toHaveAttribute('data-selected', String(ids[1]));
});

test('a − b + c equals the test’s own sum and ranking, inputs left out', async ({ page }) => {
  const figure = await open(page, 'arithmetic');
  const [a, b, c, d] = [words[1], words[2], words[3], words[5]];
  const boxes = ['a', '− b', '+ c', '≈ expected (optional)'];
  for (const [i, id] of [a, b, c, d].entries()) await figure.getByLabel(boxes[i], { exact: true }).fill(tokenizer.tokenText(id).slice(1));
  for (const [i, id] of [a, b, c].entries()) await expect(figure.locator(`[data-slot="${['a', 'b', 'c'][i]}"]`)).toHaveAttribute('data-id', String(id));
  const v = row(wte, a).map((x, j) => x - row(wte, b)[j] + row(wte, c)[j]);
  const all = ranked(v);
  const others = all.filter((x) => ![a, b, c].includes(x.id));
  const list = figure.locator('.out li[data-id]');
  await expect.poll(() => list.evaluateAll((lis) => lis.map((li) => Number(li.getAttribute('data-id'))))).toEqual(others.slice(0, 10).map((x) => x.id));
  const values = await list.evaluateAll((lis) => lis.map((li) => Number(li.getAttribute('data-value'))));
  values.forEach((x, i) => expect(x).toBeCloseTo(others[i].cosine, 6));
  await expect(list.first()).toContainText(others[0].cosine.toFixed(3));
  const rank = others.findIndex((x) => x.id === d) + 1;
  const expected = figure.getByTestId('expected');
  await expect(expected).toHaveAttribute('data-rank', String(rank));
  await expect(expected).toContainText(rank === 1 ? 'first' : `#${rank.toLocaleString('en')}`);
  await expect(figure.getByTestId('with-inputs')).toHaveAttribute('data-id', String(all[0].id));
});

test('a word that is not one token says so and shows its pieces', async ({ page }) => {
  const figure = await open(page, 'arithmetic');
  await figure.getByLabel('a', { exact: true }).fill('zqxjvkwpfh');
  const pieces = tokenizer.encode('zqxjvkwpfh');
  const note = figure.getByTestId('split-a');
  await expect(note).toContainText('not one token');
  const shown = await note.locator('.piece').evaluateAll((ps) => ps.map((p) => Number(p.getAttribute('data-id'))));
  expect(shown.slice(0, pieces.length)).toEqual(pieces); // then the spaced form's pieces
  await expect(figure.getByTestId('need-tokens')).toBeVisible();
});

test('the position heatmaps hold wpe and the cosine of its rows, as the file has them', async ({ page }) => {
  test.setTimeout(150_000); // thousands of cells, each an element, on a small shared machine
  const figure = await open(page, 'positions');
  const cells = figure.getByTestId('wpe').locator('rect[data-row]');
  const R = await figure.getByTestId('wpe').locator('rect[data-col="0"]').count();
  expect(R).toBeGreaterThan(0);
  expect(await cells.count()).toBe(R * C);
  const got = await cells.evaluateAll((rs) => rs.map((r) => [Number(r.getAttribute('data-row')), Number(r.getAttribute('data-col')), Number(r.getAttribute('data-value'))]));
  for (const [r, c, v] of got) expect(v).toBe(wpe[r * C + c]);
  const sim = await figure.getByTestId('similarity').locator('rect[data-row]').evaluateAll((rs) => rs.map((r) => [Number(r.getAttribute('data-row')), Number(r.getAttribute('data-col')), Number(r.getAttribute('data-value'))]));
  expect(sim.length).toBe(R * R);
  for (const [i, j, v] of sim.filter((_, n) => n % 37 === 0)) expect(v).toBeCloseTo(cos(row(wpe, i), row(wpe, j)), 5);
  await expect(figure.getByTestId('wpe')).toContainText(`(${P.toLocaleString('en')}, ${C.toLocaleString('en')})`);
  // all positions can be asked for (not clicked here: P × C cells take long on a small machine)
  await expect(figure.getByRole('button', { name: `all ${P.toLocaleString('en')}` })).toBeVisible();
});

test('token + position = the input vector, for a token picked from the keyboard', async ({ page }) => {
  test.setTimeout(150_000);
  const figure = await open(page, 'positions');
  const text = 'the cat and the dog';
  await figure.getByLabel('Your text', { exact: true }).fill(text);
  const ids = tokenizer.encode(text);
  await expect.poll(() => figure.locator('[role="listbox"] [data-id]').evaluateAll((cs) => cs.map((c) => Number(c.getAttribute('data-id'))))).toEqual(ids);
  // focus the strip, move to the fourth token, select it
  const chip = figure.locator('[role="listbox"] [tabindex="0"]');
  await chip.focus();
  await page.keyboard.press('Home');
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Enter');
  const t = 3;
  await expect(figure).toHaveAttribute('data-token', String(t));
  const vectors = figure.getByTestId('vectors');
  await expect(vectors).toHaveAttribute('data-id', String(ids[t]));
  const read = (key: string) => vectors.locator(`[data-key="${key}"] rect[data-col]`).evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('data-value'))));
  const tok = await read('tok_emb');
  const pe = await read('pos_emb');
  const x0 = await read('x0');
  expect(tok).toEqual(row(wte, ids[t]));
  expect(pe).toEqual(row(wpe, t));
  x0.forEach((v, i) => expect(v).toBe(Math.fround(wte[ids[t] * C + i] + wpe[t * C + i])));
  // the picked position is marked in wpe, and hovering a cell tells its value
  await expect(figure.getByTestId('wpe').locator('rect.sel')).toHaveCount(1);
  const cols = await vectors.locator('[data-key="x0"] rect[data-row="0"]').count();
  await vectors.locator('[data-key="x0"] rect[data-row="1"][data-col="5"]').hover();
  await expect(vectors.locator('[data-key="x0"] .readout')).toContainText(`row 1, column 5: ${x0[cols + 5].toFixed(3)}`);
});

test('the prose states our sizes from the loaded model', async ({ page }) => {
  await page.goto('/embeddings?backend=cpu');
  const n = (name: string) => page.locator(`.model-number[data-name="${name}"]`).first();
  await expect(n('vocab_size')).toHaveText(V.toLocaleString('en'));
  await expect(n('n_embd')).toHaveText(C.toLocaleString('en'));
  await expect(n('wte')).toHaveText((V * C).toLocaleString('en'));
  await expect(n('wpe')).toHaveText((P * C).toLocaleString('en'));
});
