// Every chapter's figures on a model the reader opened from disk: the numbers they show must be
// the command line's for that folder (`npm run trace / generate / eval -- --model DIR`), as the
// per-chapter specs check them for the shipped model. The folder is written here, at test time,
// with random weights (`npm run init-model`) in a shape unlike the shipped model's (3 layers, 2
// heads, C = 64, context 64, vocabulary 600), so a figure that assumed the shipped shape, or showed
// the shipped model's numbers, fails here. Where the CLI has no counterpart (the PCA of wte, the
// surprise after <|endoftext|>), the engine's own functions run on the same folder in this process;
// where a figure shows data precomputed for the shipped model only, the test checks it says so.
// Each chapter is opened with ?backend=cpu, the same float32 arithmetic as the command line.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { evaluate, generate, headScores, modelDir, trace, waitForFigures, type TraceOutput } from './site';
import { openFolder, smallName, smallShape, writeSmallFolder } from './opened';
import { createRunner } from '../../engine/backend';
import { loadModelDir } from '../../engine/cli/common';
import { countParams, parseConfig, type GPTConfig } from '../../engine/config';
import { readSafetensorsHeader, parseSafetensors } from '../../engine/safetensors';
import { Tokenizer } from '../../engine/tokenizer';
import { pca } from '../../engine/pca';
import { norm } from '../../engine/residual';
import { distribution, logSumExp, Rng, sample } from '../../engine/sampling';
import { liveRecipe } from '../../engine/train/live';
import { percent, visibleToken } from '../../src/lib/format';

const name = smallName;
const shippedName = basename(modelDir); // the site's own model
const shape = smallShape;

let root = '';
let dir = ''; // the opened folder
let config: GPTConfig;
let tokenizer: Tokenizer;
let st: Uint8Array; // model.safetensors, as on disk

// a chapter's figures run the CLI beside the page on a small shared machine
test.describe.configure({ timeout: 240_000 });

test.beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'open-model-figures-'));
  dir = writeSmallFolder(join(root, name));
  config = parseConfig(readFileSync(join(dir, 'config.json'), 'utf8'));
  tokenizer = Tokenizer.fromJSON(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  st = new Uint8Array(readFileSync(join(dir, 'model.safetensors')));
});

test.afterAll(() => rmSync(root, { recursive: true, force: true }));

// the CLI on the opened folder
const cliTrace = (prompt: string, opts: Parameters<typeof trace>[2] = {}, ablate?: string): TraceOutput => trace(prompt, ablate, { model: dir, ...opts });
const cliGenerate = (a: Omit<Parameters<typeof generate>[0], 'model'>) => generate({ ...a, model: dir });

// Open the chapter, open the folder from the header's Model control, wait for every figure to show
// the opened model's numbers (the ready rule; an engine error fails it).
async function openOn(page: Page, slug: string): Promise<void> {
  await page.goto(`/${slug}?backend=cpu`);
  await page.locator('html[data-hydrated]').waitFor();
  await openFolder(page, dir);
  await page.keyboard.press('Escape'); // the panel closes; the figures are in view again
  await waitForFigures(page);
}

const widget = (page: Page, kind: string) => page.locator(`figure[data-widget="${kind}"]`);
const dataValues = (loc: Locator) => loc.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
const dataIds = (loc: Locator) => loc.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-id'))));
const near = (a: number, b: number, tol: number, what: string) => expect(Math.abs(a - b), `${what}: page ${a}, CLI ${b}`).toBeLessThanOrEqual(tol);
const cliRow = (t: TraceOutput, key: string, i: number, C = config.n_embd) => t.tensors![key].data.slice(i * C, (i + 1) * C);

function cos(a: number[], b: number[]): number {
  let [ab, aa, bb] = [0, 0, 0];
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] ** 2;
    bb += b[i] ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}


// a ranked list of bars (ol.bars li): id, p, the percentage a reader sees
const bars = (list: Locator) =>
  list.locator('li').evaluateAll((lis) =>
    lis.map((li) => ({ id: Number(li.getAttribute('data-id')), p: Number(li.getAttribute('data-p')), kept: !li.classList.contains('out'), pct: li.querySelector('.pct')?.textContent?.trim() ?? '' }))
  );

function expectTop(shown: { id: number; p: number }[], top: TraceOutput['top'], what: string) {
  const n = Math.min(shown.length, top.length);
  expect(n, `${what}: rows compared`).toBeGreaterThan(0);
  expect(shown.slice(0, n).map((s) => s.id), `${what}: ids`).toEqual(top.slice(0, n).map((t) => t.id));
  shown.slice(0, n).forEach((s, i) => near(s.p, top[i].p, 1e-6, `${what}: p at rank ${i}`));
}

test.describe('an opened folder: every chapter’s figures show the CLI’s numbers for it', () => {
  test('1 the loop: next-token bars = trace; the generation = generate; the parameter file = the folder’s', async ({ page }) => {
    await openOn(page, 'the-loop');

    // the next-token distribution, for its own prompt and for one typed here; the folder's config
    // marks its weights as random, and the figure says so
    const first = page.locator('figure.widget').first();
    await expect(first.getByTestId('random-model')).toBeVisible();
    for (const prompt of [(await first.locator('ol.bars').getAttribute('data-prompt'))!, 'The little dog ran to the']) {
      await first.getByLabel('Text so far').fill(prompt);
      const list = first.locator(`ol.bars[data-prompt="${prompt}"]`);
      await expect(list).toBeVisible();
      const want = cliTrace(prompt);
      const shown = await bars(list);
      expect(shown).toHaveLength(10);
      expectTop(shown, want.top, `next token after "${prompt}"`);
      expect(shown.map((s) => s.pct)).toEqual(want.top.map((t) => percent(t.p)));
      const chips = first.locator('.tokens .chip');
      expect(await chips.evaluateAll((els) => els.map((e) => Number(e.getAttribute('title')?.replace('token id ', ''))))).toEqual(want.ids);
      expect(await chips.allInnerTexts()).toEqual(want.pieces.map(visibleToken));
    }

    // the generation figure, played to its end, with settings a reader sets
    const gen = page.locator('figure.widget').filter({ hasText: 'The loop, one step at a time' });
    const s = { prompt: 'The little dog', temperature: 0.7, topK: 12, topP: 0.9, seed: 42, maxTokens: 8 };
    await gen.scrollIntoViewIfNeeded();
    await gen.getByLabel('Prompt', { exact: true }).fill(s.prompt);
    await gen.getByLabel('Temperature', { exact: true }).fill(String(s.temperature));
    await gen.getByLabel('top-p', { exact: true }).fill(String(s.topP));
    await gen.getByLabel('top-k', { exact: true }).fill(String(s.topK));
    await gen.getByLabel('Seed', { exact: true }).fill(String(s.seed));
    await gen.getByLabel('Max new tokens', { exact: true }).fill(String(s.maxTokens));
    const text = gen.getByTestId('generated');
    await expect(text).toHaveAttribute('data-prompt', s.prompt);
    await expect(text).toHaveAttribute('data-top-k', String(s.topK));
    await expect(text).toHaveAttribute('data-seed', String(s.seed));
    await expect(text).toHaveAttribute('data-max-tokens', String(s.maxTokens));
    const want = cliGenerate({ prompt: s.prompt, tokens: s.maxTokens, temperature: s.temperature, topK: s.topK, topP: s.topP, seed: s.seed });
    await gen.getByRole('button', { name: 'Play', exact: true }).click();
    await expect(gen.getByTestId('stop-reason')).toHaveAttribute('data-stop', want.stop);
    expect(await dataIds(gen.locator('[data-testid="generated"] button.new'))).toEqual(want.ids.slice(want.prompt_tokens));
    await gen.locator('[data-testid="generated"] button.new').first().click();
    const detail = gen.locator('.detail[data-step="1"]');
    const rows = await detail.locator('ol.dist li').evaluateAll((lis) => lis.map((li) => ({ id: Number(li.getAttribute('data-id')), p: Number(li.getAttribute('data-p')), kept: li.getAttribute('data-kept') === 'true' })));
    expectTop(rows.filter((r) => r.kept), want.steps[0].top, 'generation step 1, kept tokens');
    await expect(detail.getByTestId('cache-length')).toHaveAttribute('data-cache', String(want.steps[0].cache_length));

    // the parameter file: the folder's count and size
    const file = page.locator('figure.widget').filter({ hasText: 'The parameter file' });
    await file.scrollIntoViewIfNeeded();
    const totals = file.locator('dl[data-ready]');
    await expect(totals).toHaveAttribute('data-params', String(countParams(config)));
    await expect(totals).toHaveAttribute('data-bytes', String(st.byteLength));
    await expect(file.getByTestId('param-total')).toHaveText(countParams(config).toLocaleString('en'));
    // and it says where the numbers came from: the reader's file, not a download
    await expect(file.locator('figcaption')).toContainText(`Everything ${name} knows is in this one file`);
    await expect(file.locator('figcaption')).toContainText('read here from the file you opened');
    await expect(file.locator('figcaption')).not.toContainText('downloaded');
  });

  test('2 tokens: our column’s ids = trace’s; the inline ids, the vocabulary size and the language counts are the folder tokenizer’s', async ({ page }) => {
    await openOn(page, 'tokens');
    const view = widget(page, 'tokenizer');
    const col = view.locator('section.column[data-encoding="ours"]');
    await expect(col.locator('.name'), 'the column is named for the opened model, not ours').toHaveText(name);
    for (const text of [(await view.getByLabel('Your text').inputValue()), 'Hello world, the cat sat on the mat. 你好 👍']) {
      await view.getByLabel('Your text').fill(text);
      const want = cliTrace(text);
      await expect.poll(() => dataIds(col.locator('.chip[data-id]')), { message: `ids of ${JSON.stringify(text)}` }).toEqual(want.ids);
      expect(await col.locator('.chip[data-id]').allTextContents()).toEqual(want.pieces.map(visibleToken));
      await expect(col.getByTestId('token-count')).toHaveAttribute('data-value', String(want.ids.length));
    }

    const inline = page.getByTestId('inline-tokens');
    await inline.scrollIntoViewIfNeeded();
    await expect(inline).toHaveAttribute('data-ready', '');
    for (const t of [' cat', 'cat']) expect(await dataIds(inline.locator(`[data-text="${t}"]`)), JSON.stringify(t)).toEqual(cliTrace(t).ids);
    await expect(page.getByTestId('vocab-size')).toHaveAttribute('data-value', String(shape.vocab));
    await expect(page.getByTestId('vocab-size')).toHaveText(shape.vocab.toLocaleString('en'));

    // the language chart: 22 texts, counted by the folder's tokenizer (the engine's, as the CLI uses it)
    const langs = widget(page, 'languages');
    await langs.scrollIntoViewIfNeeded();
    for (const mode of ['Greeting', 'Sentence']) {
      await langs.getByLabel(mode).check();
      const rows = await langs.locator('li.lang').evaluateAll((lis) => lis.map((li) => ({ text: li.querySelector('.text')?.textContent ?? '', n: Number(li.querySelector('[data-encoding="ours"]')?.getAttribute('data-value')) })));
      expect(rows.length).toBeGreaterThanOrEqual(10);
      for (const r of rows) expect(r.n, `${mode}: ${r.text}`).toBe(tokenizer.encode(r.text).length);
    }
    // one of them through the CLI too
    const english = langs.locator('li.lang[data-lang="en"]');
    const en = (await english.locator('.text').textContent())!;
    await expect(english.locator('[data-encoding="ours"]')).toHaveAttribute('data-value', String(cliTrace(en).ids.length));
  });
  test('3 embeddings: the sizes, the map’s PCA and neighbours, a − b + c, and the input vectors are the folder’s (x0 = trace --keys)', async ({ page }) => {
    await openOn(page, 'embeddings');
    const { tensors } = parseSafetensors(st);
    const wte = tensors.get('wte.weight')!.data; // (V, C)
    const wpe = tensors.get('wpe.weight')!.data; // (P, C)
    const [V, C, P] = [config.vocab_size, config.n_embd, config.n_positions];
    const row = (m: Float32Array, i: number) => Array.from(m.subarray(i * C, i * C + C));
    const ranked = (v: number[]) => Array.from({ length: V }, (_, j) => ({ id: j, cosine: cos(v, row(wte, j)) })).sort((a, b) => b.cosine - a.cosine || a.id - b.id);

    // the prose's sizes
    const n = (key: string) => page.locator(`.model-number[data-name="${key}"]`).first();
    await expect(n('vocab_size')).toHaveText(V.toLocaleString('en'));
    await expect(n('n_embd')).toHaveText(C.toLocaleString('en'));
    await expect(n('wte')).toHaveText((V * C).toLocaleString('en'));
    await expect(n('n_positions')).toHaveText(P.toLocaleString('en'));
    await expect(n('wpe')).toHaveText((P * C).toLocaleString('en'));

    // the map: the PCA of this wte (engine/pca.ts here; no CLI prints it), and a searched word's neighbours
    const map = widget(page, 'embedding-map');
    await map.scrollIntoViewIfNeeded();
    const ref = pca(wte, V, C, 2);
    near(Number(await map.getByTestId('pc1').getAttribute('data-value')), ref.explained[0], 1e-9, 'variance on PC1');
    near(Number(await map.getByTestId('pc2').getAttribute('data-value')), ref.explained[1], 1e-9, 'variance on PC2');
    await expect(map.getByTestId('wte-shape')).toContainText(`(${V.toLocaleString('en')}, ${C.toLocaleString('en')})`);
    const words = Array.from({ length: V }, (_, i) => i).filter((i) => /^ \p{L}{3,}$/u.test(tokenizer.tokenText(i)) && tokenizer.encode(tokenizer.tokenText(i).slice(1)).length > 1);
    expect(words.length, 'word tokens in the folder’s vocabulary').toBeGreaterThan(5);
    const id = words[Math.floor(words.length / 2)];
    await map.getByLabel('Find a token').fill(tokenizer.tokenText(id).slice(1));
    await expect(map).toHaveAttribute('data-selected', String(id));
    const label = map.locator('text[data-kind="query"]');
    await expect(label).toHaveAttribute('data-id', String(id));
    expect(Number(await label.getAttribute('data-pc1'))).toBeCloseTo(ref.projected[id * 2], 5);
    const want = ranked(row(wte, id)).filter((x) => x.id !== id).slice(0, 10);
    const neighbours = map.locator('.side li[data-id]');
    await expect.poll(() => dataIds(neighbours)).toEqual(want.map((x) => x.id));
    (await dataValues(neighbours)).forEach((v, i) => near(v, want[i].cosine, 1e-6, `neighbour ${i}`));

    // a − b + c with three of this vocabulary's words
    const arith = widget(page, 'arithmetic');
    await arith.scrollIntoViewIfNeeded();
    const [a, b, c] = [words[0], words[1], words[2]];
    for (const [box, w] of [['a', a], ['− b', b], ['+ c', c]] as const) await arith.getByLabel(box, { exact: true }).fill(tokenizer.tokenText(w).slice(1));
    for (const [slot, w] of [['a', a], ['b', b], ['c', c]] as const) await expect(arith.locator(`[data-slot="${slot}"]`)).toHaveAttribute('data-id', String(w));
    const sum = row(wte, a).map((x, j) => x - row(wte, b)[j] + row(wte, c)[j]);
    const others = ranked(sum).filter((x) => ![a, b, c].includes(x.id)).slice(0, 10);
    const results = arith.locator('.out li[data-id]');
    await expect.poll(() => dataIds(results)).toEqual(others.map((x) => x.id));
    (await dataValues(results)).forEach((v, i) => near(v, others[i].cosine, 1e-6, `a − b + c, rank ${i}`));

    // the input the first block receives: a row of wte plus a row of wpe, = the CLI's x0
    const posFig = widget(page, 'positions');
    await posFig.scrollIntoViewIfNeeded();
    const text = 'the cat and the dog';
    await posFig.getByLabel('Your text', { exact: true }).fill(text);
    const t = cliTrace(text, { keys: ['tok_emb', 'pos_emb', 'x0'] });
    await expect.poll(() => dataIds(posFig.locator('[role="listbox"] [data-id]'))).toEqual(t.ids);
    const at = 3;
    await posFig.locator(`[role="listbox"] [data-index="${at}"]`).click();
    await expect(posFig).toHaveAttribute('data-token', String(at));
    const vectors = posFig.getByTestId('vectors');
    await expect(vectors).toHaveAttribute('data-id', String(t.ids[at]));
    for (const key of ['tok_emb', 'pos_emb', 'x0']) {
      const shown = await dataValues(vectors.locator(`[data-key="${key}"] rect[data-col]`));
      expect(shown, key).toEqual(cliRow(t, key, at));
    }
    expect(await dataValues(vectors.locator('[data-key="pos_emb"] rect[data-col]'))).toEqual(row(wpe, at));
    // the heatmap of wpe: the rows shown, every cell as the file holds it; its shape
    const cells = await posFig.getByTestId('wpe').locator('rect[data-row]').evaluateAll((rs) => rs.map((r) => [Number(r.getAttribute('data-row')), Number(r.getAttribute('data-col')), Number(r.getAttribute('data-value'))]));
    expect(cells.length % C, 'whole rows of C cells').toBe(0);
    expect(cells.length).toBeGreaterThan(0);
    for (const [r, col, v] of cells) expect(v).toBe(wpe[r * C + col]);
    await expect(posFig.getByTestId('wpe')).toContainText(`(${P.toLocaleString('en')}, ${C.toLocaleString('en')})`);
  });
  test('4 attention: the inspector, Q·K, the mask, the named heads, every head’s map = trace; switching heads off = trace --ablate', async ({ page }) => {
    await openOn(page, 'attention');
    const [L, NH, hs] = [config.n_layer, config.n_head, config.n_embd / config.n_head];
    const prompt = 'The cat sat on the mat because it was tired.';
    const t = cliTrace(prompt, { keys: ['q', 'k', 'attn.scores'] });
    const T = t.ids.length;
    const w = (l: number, h: number) => t.layers[l].heads[h].weights;
    const at = (key: string, l: number, h: number, i: number, j: number, cols: number) => t.tensors![`h.${l}.${key}`].data[(h * T + i) * cols + j];
    const pick = async (fig: Locator, layer: number, head: number) => {
      await fig.getByRole('group', { name: 'Layer' }).getByRole('radio', { name: String(layer), exact: true }).check();
      await fig.getByRole('group', { name: 'Head' }).getByRole('radio', { name: String(head), exact: true }).check();
      await expect(fig).toHaveAttribute('data-layer', String(layer));
      await expect(fig).toHaveAttribute('data-head', String(head));
    };
    const typeText = async (fig: Locator) => {
      await fig.scrollIntoViewIfNeeded();
      await fig.getByLabel('Your text', { exact: true }).fill(prompt);
      await expect.poll(() => dataIds(fig.getByRole('listbox').first().getByRole('option'))).toEqual(t.ids);
    };

    // the inspector: a clicked token's row of weights, in the last layer and head and in the first
    const insp = widget(page, 'attention');
    await typeText(insp);
    await expect(insp.getByRole('group', { name: 'Layer' }).getByRole('radio')).toHaveCount(L);
    await expect(insp.getByRole('group', { name: 'Head' }).getByRole('radio')).toHaveCount(NH);
    for (const [layer, head, i] of [[L - 1, NH - 1, T - 3], [0, 0, 4]]) {
      await pick(insp, layer, head);
      await insp.getByRole('listbox').getByRole('option').nth(i).click();
      await expect(insp).toHaveAttribute('data-token', String(i));
      const cells = await dataValues(insp.locator(`table.row tr[data-row="${i}"] td.w`));
      expect(cells).toHaveLength(T);
      cells.forEach((v, j) => near(v, w(layer, head)[i][j], 1e-5, `inspector ${layer}.${head} weight ${i},${j}`));
      // a key's score: q · k / √d_k, the CLI's attn.scores
      const j = i - 1;
      await insp.locator(`table.row tr[data-col="${j}"] button.key`).click();
      const score = Number(await insp.locator(`table.row tr[data-row="${i}"][data-col="${j}"] td.s`).getAttribute('data-value'));
      near(score, at('attn.scores', layer, head, i, j, T), 1e-5, `inspector ${layer}.${head} score ${i},${j}`);
    }

    // Q, K, V: the query and key vectors drawn, the score and the weights = the CLI's q, k, attn.scores
    const qkv = widget(page, 'qkv');
    await typeText(qkv);
    const [layer, head, i, j] = [L - 1, NH - 1, T - 1, 2];
    await pick(qkv, layer, head);
    await qkv.getByRole('listbox').nth(0).getByRole('option').nth(i).click();
    await qkv.getByRole('listbox').nth(1).getByRole('option').nth(j).click();
    await expect(qkv).toHaveAttribute('data-token', String(i));
    await expect(qkv).toHaveAttribute('data-key', String(j));
    const pair = await dataValues(qkv.locator('.heatmap').nth(0).locator('rect[data-row]'));
    expect(pair).toHaveLength(2 * hs);
    pair.slice(0, hs).forEach((v, d) => near(v, at('q', layer, head, i, d, hs), 1e-5, `q[${d}]`));
    pair.slice(hs).forEach((v, d) => near(v, at('k', layer, head, j, d, hs), 1e-5, `k[${d}]`));
    near(Number(await qkv.getByTestId('model-score').getAttribute('data-value')), at('attn.scores', layer, head, i, j, T), 1e-5, 'the model’s score');
    const blend = await dataValues(qkv.getByRole('list', { name: `Weights of query ${i} on each token` }).getByRole('listitem'));
    blend.forEach((v, k) => near(v, w(layer, head)[i][k], 1e-5, `blend weight ${k}`));

    // the causal mask, stepped to the weights: every row of the chosen head
    const mask = widget(page, 'causal-mask');
    await typeText(mask);
    await pick(mask, 1, 1);
    const step = mask.getByRole('button', { name: 'Step', exact: true });
    for (let n = 0; n < 3; n++) await step.click();
    await expect(mask).toHaveAttribute('data-step', '3');
    const maskCells = await mask.locator('svg rect[data-row][data-col]').evaluateAll((rs) => rs.map((r) => ({ r: Number(r.getAttribute('data-row')), c: Number(r.getAttribute('data-col')), v: Number(r.getAttribute('data-value')) })));
    expect(maskCells).toHaveLength(T * T);
    for (const c of maskCells.filter((c) => c.c <= c.r)) near(c.v, w(1, 1)[c.r][c.c], 1e-5, `mask weight ${c.r},${c.c}`);

    // the prose's named heads: the strongest previous-token and first-token heads in this trace
    for (const pattern of ['previous', 'first'] as const) {
      const fact = page.locator(`[data-widget="head-pattern"][data-pattern="${pattern}"]`);
      let best = { share: -1, layer: -1, head: -1 };
      t.layers.forEach((ly, l) =>
        ly.heads.forEach((h, hd) => {
          let sum = 0;
          for (let r = 1; r < T; r++) sum += h.weights[r][pattern === 'previous' ? r - 1 : 0];
          if (sum / (T - 1) > best.share) best = { share: sum / (T - 1), layer: l, head: hd };
        })
      );
      await expect(fact).toHaveAttribute('data-layer', String(best.layer));
      await expect(fact).toHaveAttribute('data-head', String(best.head));
      near(Number(await fact.getAttribute('data-value')), best.share, 1e-5, `${pattern}-token head’s share`);
    }

    // every head: L × NH maps, each the CLI's weights, and the heads named under them
    const grid = widget(page, 'heads-grid');
    await grid.scrollIntoViewIfNeeded();
    await grid.getByLabel('Your text').fill(prompt);
    await expect(grid).toHaveAttribute('data-tokens', String(T));
    await expect(grid.locator('button.head')).toHaveCount(L * NH);
    await expect(grid.getByTestId('shape')).toContainText(`(${NH}, ${T}, ${T}); ${L} layers × ${NH} heads = ${L * NH} maps`);
    const readMaps = () =>
      grid.locator('button.head').evaluateAll((bs) =>
        bs.map((b) => ({ l: Number(b.getAttribute('data-layer')), h: Number(b.getAttribute('data-head')), cells: Array.from(b.querySelectorAll('rect[data-row]'), (r) => [Number(r.getAttribute('data-row')), Number(r.getAttribute('data-col')), Number(r.getAttribute('data-value'))]) }))
      );
    // the figure's first text has as many tokens as this one: wait for this one's maps
    const worst = (maps: Awaited<ReturnType<typeof readMaps>>) => Math.max(...maps.flatMap((m) => m.cells.filter(([r, c]) => c <= r).map(([r, c, v]) => Math.abs(v - w(m.l, m.h)[r][c]))));
    await expect.poll(async () => worst(await readMaps()), { message: 'max |page − CLI| over every map' }).toBeLessThanOrEqual(1e-5);
    const maps = await readMaps();
    for (const m of maps) {
      expect(m.cells, `map ${m.l}.${m.h}`).toHaveLength(T * T);
      for (const [r, c, v] of m.cells) {
        if (c > r) expect(v).toBe(-Infinity);
        else near(v, w(m.l, m.h)[r][c], 1e-5, `map ${m.l}.${m.h} cell ${r},${c}`);
      }
    }
    const all = t.layers.flatMap((ly, l) => ly.heads.map((h, hd) => ({ l, hd, s: headScores(h.weights) })));
    for (const score of ['prev', 'self', 'first', 'sharpness', 'entropy'] as const) {
      const top = all.reduce((a, b) => (b.s[score] > a.s[score] ? b : a));
      const item = grid.locator(`.leaders li[data-score="${score}"]`);
      await expect(item, score).toHaveAttribute('data-layer', String(top.l));
      await expect(item, score).toHaveAttribute('data-head', String(top.hd));
      near(Number(await item.getAttribute('data-value')), top.s[score], 1e-5, `the ${score} head’s score`);
    }

    // a head switched off: before = trace, after = trace --ablate L.H; a whole layer: --ablate L.all
    const abl = widget(page, 'ablation');
    await abl.scrollIntoViewIfNeeded();
    const short = 'When he came home, he';
    await abl.getByLabel('Your text').fill(short);
    const before = cliTrace(short);
    for (const [l, h] of [[L - 1, String(NH - 1)], [1, '0'], [0, 'all']] as const) {
      await abl.getByTestId('ablate-layer').selectOption(String(l));
      await abl.getByTestId('ablate-head').selectOption(h);
      await expect(abl).toHaveAttribute('data-layer', String(l));
      await expect(abl).toHaveAttribute('data-head', h);
      const after = cliTrace(short, {}, `${l}.${h}`);
      const n = await abl.getByTestId('after').locator('li').count(); // the figure's top n (the CLI lists 10)
      expect(n).toBeGreaterThan(0);
      await expect.poll(async () => (await bars(abl.getByTestId('after'))).map((b) => b.id), { message: `after ${l}.${h}` }).toEqual(after.top.slice(0, n).map((x) => x.id));
      expectTop(await bars(abl.getByTestId('before')), before.top, 'before switching off');
      expectTop(await bars(abl.getByTestId('after')), after.top, `after switching off ${l}.${h}`);
    }
    // the ranking counts every head of this model
    await expect(abl.locator('.effects li')).toHaveCount(L * NH);
    await expect(abl.locator('[data-testid="layers"] [data-layer]')).toHaveCount(L);
  });
  test('5 block: the diagram = trace --keys, the logit lens = trace --lens, the neurons = mlp.act; counts from the file; no shipped examples', async ({ page }) => {
    await openOn(page, 'block');
    const [L, C] = [config.n_layer, config.n_embd];
    const prompt = 'A man and his wife lived in the';
    const k = 5;
    const t = cliTrace(prompt, { lens: k, keys: ['x0', 'ln1', 'attn.out', 'res1', 'ln2', 'mlp.out', 'res2', 'mlp.pre', 'mlp.act'] });
    const T = t.ids.length;
    const close = (a: number, b: number, what: string) => near(a, b, 1e-5 * Math.max(1, Math.abs(b)), what);
    const typeInto = async (fig: Locator) => {
      await fig.scrollIntoViewIfNeeded();
      await fig.getByLabel('Your text').fill(prompt);
      await expect.poll(() => dataIds(fig.locator('.strip .chip[data-id]'))).toEqual(t.ids);
      await expect(fig).toHaveAttribute('aria-busy', 'false');
    };

    // the block diagram: the last block, a middle token; each box's vector and norm
    const block = widget(page, 'block');
    await typeInto(block);
    await expect(block.locator('button.layer[data-layer]')).toHaveCount(L);
    const [layer, position] = [L - 1, 3];
    await block.locator(`button.layer[data-layer="${layer}"]`).click();
    await block.locator('.strip .chip').nth(position).click();
    await expect(block).toHaveAttribute('data-layer', String(layer));
    await expect(block).toHaveAttribute('data-token', String(position));
    await expect(block).toHaveAttribute('aria-busy', 'false');
    const names: Record<string, string> = {
      in: `h.${layer - 1}.res2`, ln1: `h.${layer}.ln1`, 'attn.out': `h.${layer}.attn.out`, res1: `h.${layer}.res1`,
      ln2: `h.${layer}.ln2`, 'mlp.out': `h.${layer}.mlp.out`, res2: `h.${layer}.res2`
    };
    for (const [point, key] of Object.entries(names)) {
      const box = block.locator(`button.box[data-point="${point}"]`);
      const v = cliRow(t, key, position);
      close(Number(await box.getByTestId('norm').getAttribute('data-value')), norm(v), `${point}: norm`);
      const cells = await dataValues(box.locator('.cell'));
      expect(cells.length, point).toBeGreaterThan(0);
      cells.forEach((c, d) => close(c, v[d], `${point}[${d}]`));
    }
    const stream = await dataValues(block.locator('.bars li .n'));
    expect(stream).toHaveLength(L + 1);
    close(stream[0], norm(cliRow(t, 'x0', position)), 'stream after the embedding');
    for (let l = 0; l < L; l++) close(stream[l + 1], norm(cliRow(t, `h.${l}.res2`, position)), `stream after block ${l}`);

    // the logit lens at the last token and at a clicked one: L + 1 rows of top k
    const lens = widget(page, 'residual');
    await typeInto(lens);
    for (const at of [T - 1, 2]) {
      if (at !== T - 1) await lens.locator('.strip .chip').nth(at).click();
      await expect(lens).toHaveAttribute('data-token', String(at));
      await expect(lens).toHaveAttribute('aria-busy', 'false');
      const rows = lens.locator('tbody tr');
      await expect(rows).toHaveCount(L + 1);
      for (let r = 0; r <= L; r++) {
        const cells = await rows.nth(r).locator('td').evaluateAll((tds) => tds.map((td) => ({ id: Number(td.getAttribute('data-id')), p: Number(td.getAttribute('data-value')) })));
        const want = t.lens![at][r];
        expect(cells.map((c) => c.id), `lens at ${at}, row ${r}`).toEqual(want.map((g) => g.id));
        cells.forEach((c, i) => close(c.p, want[i].p, `lens at ${at}, row ${r}, rank ${i}`));
      }
    }

    // the neurons: the ranking by the largest mlp.act over the text, the GELU's inputs mlp.pre
    const neurons = widget(page, 'neurons');
    await typeInto(neurons);
    await neurons.getByRole('group', { name: 'layer' }).getByRole('button', { name: String(layer), exact: true }).click();
    await expect(neurons).toHaveAttribute('data-layer', String(layer));
    const F = 4 * C;
    await expect(neurons.getByTestId('neuron-count')).toHaveAttribute('data-value', String(F));
    const act = t.tensors![`h.${layer}.mlp.act`].data; // (T, 4C)
    const max = Array.from({ length: F }, (_, f) => Math.max(...Array.from({ length: T }, (_, i) => act[i * F + f])));
    const order = max.map((_, f) => f).sort((a, b) => max[b] - max[a] || a - b);
    const ranked = neurons.locator('.ranked button');
    await expect.poll(async () => { const ids = await dataIds(ranked); return ids.length > 0 && ids.every((id, i) => id === order[i]); }, { message: 'the ranking is the CLI’s' }).toBe(true);
    const shownMax = await ranked.evaluateAll((bs) => bs.map((b) => Number(b.querySelector('.v')!.getAttribute('data-value'))));
    shownMax.forEach((v, i) => close(v, max[order[i]], `neuron ${order[i]}'s largest activation`));
    await ranked.nth(2).click();
    await expect(neurons).toHaveAttribute('data-neuron', String(order[2]));
    const pre = t.tensors![`h.${layer}.mlp.pre`].data;
    const points = await dataValues(neurons.locator('svg.gelu circle'));
    expect(points).toHaveLength(T);
    points.forEach((x, i) => close(x, pre[i * F + order[2]], `GELU input at token ${i}`));
    // the corpus examples are precomputed for the shipped model only: the figure offers to find them
    // for this one (open-model.spec.ts checks what it finds against `npm run neurons --model`)
    await expect(neurons.getByTestId('neurons-find')).toHaveText(`Find them for ${name}`);
    await expect(neurons.locator('.contexts li')).toHaveCount(0);

    // the counts: the parameter table and the prose, summed from the file's own tensors
    const { entries } = readSafetensorsHeader(st);
    const count = (test: (n: string) => boolean) => entries.filter((e) => test(e.name)).reduce((a, e) => a + e.shape.reduce((x, y) => x * y, 1), 0);
    const total = count(() => true);
    const perLayer = count((n) => n.startsWith('h.0.'));
    const ours = widget(page, 'param-count').locator('tr[data-model="ours"]');
    await ours.scrollIntoViewIfNeeded();
    await expect(ours.getByTestId('total')).toHaveAttribute('data-value', String(total));
    await expect(ours.getByTestId('attention')).toHaveAttribute('data-value', String(count((n) => n.startsWith('h.0.attn.'))));
    await expect(ours.getByTestId('mlp')).toHaveAttribute('data-value', String(count((n) => n.startsWith('h.0.mlp.'))));
    await expect(page.locator('[data-fact="layers"]').first()).toHaveAttribute('data-value', String(L));
    await expect(page.locator('[data-fact="width"]').first()).toHaveAttribute('data-value', String(C));
    await expect(page.locator('[data-fact="neurons"]').first()).toHaveAttribute('data-value', String(F));
    await expect(page.locator('[data-fact="block-params"]').first()).toHaveAttribute('data-value', String(perLayer));
    await expect(page.locator('[data-fact="params"]').first()).toHaveText(total.toLocaleString('en-US'));
  });
  test('6 sampling: the bars and the formula = trace (--keys logits); each temperature, top-k and top-p = trace with them; the dice = generate', async ({ page }) => {
    await openOn(page, 'sampling');
    const V = config.vocab_size;
    const lastLogits = (t: TraceOutput) => Float32Array.from(t.tensors!.logits.data.slice((t.ids.length - 1) * V));
    const fillPrompt = async (fig: Locator, prompt: string) => {
      await fig.scrollIntoViewIfNeeded();
      await fig.getByLabel('Text so far').fill(prompt);
      await expect(fig.locator(`ol.bars[data-prompt="${prompt}"]`).or(page.locator(`[data-widget="${await fig.getAttribute('data-widget')}"][data-prompt="${prompt}"]`)).first()).toBeVisible();
    };

    // scores to probabilities, written out: z, e^z and P of the top rows, and log Σ e^z over all V
    const next = widget(page, 'next-token');
    const jury = 'The jury said that';
    await fillPrompt(next, jury);
    const t1 = cliTrace(jury, { keys: ['logits'] });
    const z = lastLogits(t1);
    expectTop(await bars(next.locator(`ol.bars[data-prompt="${jury}"]`)), t1.top, 'next token, with the formula');
    const formula = next.getByTestId('softmax-formula');
    near(Number(await formula.getAttribute('data-log-sum')), logSumExp(z, 1), 1e-9, 'log Σ e^z');
    const rows = await formula.locator('li').evaluateAll((lis) => lis.map((li) => ({ id: Number(li.getAttribute('data-id')), values: [...li.querySelectorAll('[data-value]')].map((e) => Number(e.getAttribute('data-value'))) })));
    expect(rows.map((r) => r.id)).toEqual(t1.top.slice(0, rows.length).map((x) => x.id));
    rows.forEach((r, i) => {
      expect(r.values[0], `z of ${r.id}`).toBe(z[r.id]);
      near(r.values[2], t1.top[i].p, 1e-6, `P of ${r.id}`);
    });

    // the sampling figure at several temperatures, then top-k and top-p: the CLI with the same settings
    const fig = widget(page, 'sampling');
    const prompt = 'The old man looked at the';
    await fillPrompt(fig, prompt);
    const list = fig.locator(`ol.bars[data-prompt="${prompt}"]`);
    const setTemperature = async (T: number) => {
      await fig.getByLabel('Temperature', { exact: true }).fill(String(T));
      await expect(fig).toHaveAttribute('data-temperature', String(T));
    };
    for (const T of [0.5, 1, 1.7]) {
      await setTemperature(T);
      const want = cliTrace(prompt, { temperature: T, top: 12 });
      const shown = await bars(list);
      expect(shown).toHaveLength(12);
      expectTop(shown, want.top, `T = ${T}`);
      expect(shown.every((b) => b.kept)).toBe(true);
      await expect(fig.getByTestId('live-kept-count')).toHaveAttribute('data-value', String(want.kept_count));
    }
    const keptMatches = async (what: string, want: TraceOutput) => {
      const shown = await bars(list);
      expect(shown.filter((b) => b.kept).map((b) => b.id), `${what}: the kept tokens`).toEqual(want.top.slice(0, shown.filter((b) => b.kept).length).map((x) => x.id));
      await expect(fig.getByTestId('live-kept-count')).toHaveAttribute('data-value', String(want.kept_count));
      near(Number(await fig.getByTestId('live-kept-mass').getAttribute('data-value')), want.kept_mass, 1e-9, `${what}: the kept mass`);
    };
    await setTemperature(0.8);
    await fig.getByRole('checkbox', { name: 'top-k' }).check();
    await fig.getByLabel('k: how many tokens top-k keeps').fill('5');
    await expect(fig).toHaveAttribute('data-top-k', '5');
    await keptMatches('top-k 5 at T 0.8', cliTrace(prompt, { temperature: 0.8, topK: 5, top: 12 }));
    await fig.getByRole('checkbox', { name: 'top-k' }).uncheck();
    await setTemperature(1);
    await fig.getByLabel('top-p', { exact: true }).fill('0.6');
    await expect(fig).toHaveAttribute('data-top-p', '0.6');
    await keptMatches('top-p 0.6 at T 1', cliTrace(prompt, { temperature: 1, topP: 0.6, top: 12 }));
    // T = 0 is greedy: generate's first token, with probability 1
    await fig.getByLabel('top-p', { exact: true }).fill('1');
    await setTemperature(0);
    const greedy = await bars(list);
    expect(greedy[0].p).toBe(1);
    expect(greedy[0].id).toBe(cliGenerate({ prompt, tokens: 1, temperature: 0, seed: 0 }).steps[0].chosen);

    // the dice: each seed's draw from the CLI's distribution, the first as generate draws it, and the
    // counter's 10,000 draws replayed here
    const dice = widget(page, 'dice');
    const little = 'The little dog';
    await fillPrompt(dice, little);
    const d = distribution(lastLogits(cliTrace(little, { keys: ['logits'] })), { temperature: 1 });
    const rolls = await dice.locator('ol.rolls li').evaluateAll((lis) => lis.map((li) => ({ seed: Number(li.getAttribute('data-seed')), id: Number(li.getAttribute('data-id')) })));
    expect(rolls).toHaveLength(6);
    for (const r of rolls) expect(r.id, `seed ${r.seed}`).toBe(sample(d, new Rng(r.seed).next()));
    expect(cliGenerate({ prompt: little, tokens: 1, temperature: 1, seed: rolls[0].seed }).steps[0].chosen).toBe(rolls[0].id);
    await expect(dice.getByTestId('draws')).toHaveAttribute('data-value', '10000', { timeout: 30_000 });
    const rng = new Rng(rolls[0].seed);
    const counts = new Map<number, number>();
    for (let i = 0; i < 10000; i++) {
      const id = sample(d, rng.next());
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const freq = await dice.locator('ol.freq li').evaluateAll((lis) => lis.map((li) => ({ id: Number(li.getAttribute('data-id')), p: Number(li.getAttribute('data-p')), count: Number(li.getAttribute('data-count')) })));
    expect(freq.map((f) => f.id)).toEqual([...d.kept.subarray(0, freq.length)]);
    for (const f of freq) {
      expect(f.count, `draws of ${f.id}`).toBe(counts.get(f.id) ?? 0);
      near(f.p, d.probs[f.id], 1e-6, `p of ${f.id}`);
    }
  });
  test('7 generation: the KV cache’s tokens and rows, the timed texts and a forced token’s continuation = generate', async ({ page }) => {
    await openOn(page, 'generation');
    const [L, C, P] = [config.n_layer, config.n_embd, config.n_positions];
    const n = (key: string) => page.locator(`.model-number[data-name="${key}"]`).first();
    await expect(n('n_layer')).toHaveText(String(L));
    await expect(n('n_embd')).toHaveText(C.toLocaleString('en'));
    await expect(n('n_positions')).toHaveText(P.toLocaleString('en'));
    const ids = async (el: Locator) => ((await el.getAttribute('data-ids')) ?? '').split(',').filter((x) => x !== '').map(Number);
    const start = async (name: string, prompt: string, done: string) => {
      const fig = widget(page, name);
      await fig.scrollIntoViewIfNeeded();
      await fig.getByLabel('Prompt').fill(prompt);
      await expect(fig).toHaveAttribute('data-text', prompt);
      await expect(fig).toHaveAttribute(done, /.*/);
      return fig;
    };

    // the cache: the tokens the CLI writes greedily; one row per token read, in each of the L layers
    const cat = 'The cat sat on the';
    const kv = await start('kv-cache', cat, 'data-rows');
    const cli = cliGenerate({ prompt: cat, tokens: 12, temperature: 0, seed: 0, pastEot: true });
    expect(await dataIds(kv.locator('p.tokens .tok'))).toEqual(cli.ids);
    const promptLen = cli.prompt_tokens;
    for (const step of [1, 2, 5]) {
      while (Number(await kv.getAttribute('data-step')) < step) await kv.getByRole('button', { name: 'Step', exact: true }).click();
      await expect(kv).toHaveAttribute('data-step', String(step));
      const rows = promptLen + step - 1;
      await expect(kv.getByTestId('rows')).toHaveAttribute('data-value', String(rows));
      await expect(kv.getByTestId('fresh')).toHaveAttribute('data-value', String(step === 1 ? promptLen : 1));
      await expect(kv.locator('.layer[data-kind="K"]')).toHaveCount(L);
      for (let l = 0; l < L; l++) await expect(kv.locator(`.layer[data-layer="${l}"][data-kind="V"] .slot`)).toHaveCount(rows);
      await expect(kv.getByTestId('bytes-now')).toHaveAttribute('data-value', String(2 * L * rows * C * 4));
    }
    await expect(kv.getByTestId('bytes-full')).toHaveAttribute('data-value', String(2 * L * P * C * 4));
    expect(Number(await kv.getByTestId('drift').getAttribute('data-value'))).toBeLessThan(1e-5);

    // with and without the cache: the same text, the CLI's at T = 0
    const dog = 'The dog ran to the';
    const timing = await start('kv-timing', dog, 'data-done');
    const steps = Number(await timing.getAttribute('data-steps'));
    expect(steps).toBeGreaterThan(0);
    const written = cliGenerate({ prompt: dog, tokens: steps, temperature: 0, seed: 0, pastEot: true }).steps.map((x) => x.chosen);
    expect(await ids(timing.getByTestId('text-cached'))).toEqual(written);
    expect(await ids(timing.getByTestId('text-uncached'))).toEqual(written);

    // a forced token: the continuation is the CLI's for the prompt with that token appended
    const jury = 'The jury said that';
    const force = await start('force-token', jury, 'data-forced');
    const tokens = 16;
    const orig = cliGenerate({ prompt: jury, tokens, temperature: 0, seed: 0 });
    const original = orig.steps.map((x) => x.chosen);
    expect(await ids(force.getByTestId('original'))).toEqual(original);
    const at = 2;
    await force.locator(`[data-testid="original"] button[data-index="${at}"]`).click();
    await expect(force).toHaveAttribute('data-step', String(at));
    const prefix = [...orig.ids.slice(0, orig.prompt_tokens), ...original.slice(0, at - 1)];
    const candidates = await dataIds(force.locator(`ol.bars[data-step="${at}"] li`));
    expect(candidates).toContain(original[at - 1]);
    // a candidate whose text, appended, tokenizes back to these ids, so the CLI (which takes text) continues the same ids
    const roundTrips = (id: number) => tokenizer.encode(tokenizer.decode([...prefix, id])).join() === [...prefix, id].join();
    const pick = candidates.find((id) => id !== original[at - 1] && roundTrips(id));
    expect(pick, 'a candidate other than the model’s own that tokenizes back to itself').toBeDefined();
    await force.locator(`ol.bars[data-step="${at}"] li[data-id="${pick}"] button`).click();
    await expect(force.getByTestId('forced')).toHaveAttribute('data-forced', String(pick));
    const want = cliGenerate({ prompt: tokenizer.decode([...prefix, pick!]), tokens: tokens - at, temperature: 0, seed: 0 });
    expect(want.ids.slice(0, want.prompt_tokens)).toEqual([...prefix, pick]);
    await expect.poll(() => ids(force.getByTestId('forced'))).toEqual(want.steps.map((x) => x.chosen));
  });
  test('8 training: surprise and guess = the folder’s logits (engine, trace --keys logits); counting vs learning = eval --paragraphs; the other figures say whose run they show', async ({ page }) => {
    // eval takes seconds (it fits the n-grams): started now, awaited once the page has its numbers
    const paragraphs = 8; // the figure's first slice (checked below)
    const heldout = evaluate({ model: dir, paragraphs });
    await openOn(page, 'training');
    const model = loadModelDir(dir);
    const runner = await createRunner(model, { backend: 'cpu' });
    const V = config.vocab_size;
    const eos = config.eos_token_id;
    const nll = (logits: ArrayLike<number>, t: number, id: number) => {
      const row = Array.from({ length: V }, (_, j) => logits[t * V + j]);
      const max = Math.max(...row);
      return max + Math.log(row.reduce((a, z) => a + Math.exp(z - max), 0)) - row[id];
    };

    // surprise: −log P of each token after <|endoftext|> (no CLI prompt can hold that token: the
    // engine's runner on the same folder, in this process)
    const surprise = widget(page, 'surprise');
    await surprise.scrollIntoViewIfNeeded();
    await expect(surprise.getByTestId('random-model')).toBeVisible(); // this folder's weights are random, and its config says so
    const real = surprise.locator('[data-text="real"]');
    const sentence = 'She walked to the store and bought some bread.';
    await real.getByRole('textbox', { name: 'A real sentence' }).fill(sentence);
    const ids = tokenizer.encode(sentence);
    const { logits } = await runner.forward([eos, ...ids.slice(0, -1)]);
    const nats = ids.map((id, t) => nll(logits, t, id));
    await expect.poll(() => dataIds(real.locator('[role="option"]'))).toEqual(ids);
    (await dataValues(real.locator('[role="option"]'))).forEach((v, i) => near(v, nats[i], 1e-4, `surprise of token ${i}`));
    near(Number(await real.getByTestId('mean').getAttribute('data-value')), nats.reduce((a, b) => a + b, 0) / nats.length, 1e-4, 'mean surprise');

    // guess the next token: the model's p of each true token = softmax of the CLI's logits
    const guess = widget(page, 'guess');
    await guess.scrollIntoViewIfNeeded();
    const farmer = 'The old farmer sold his two horses at the market last week.';
    await guess.getByRole('textbox', { name: 'The sentence to guess' }).fill(farmer);
    const want = cliTrace(farmer, { keys: ['logits'] });
    const strip = guess.getByRole('list', { name: 'The sentence so far' });
    await expect(strip.locator('[data-id]')).toHaveCount(1);
    await expect(strip.locator('[data-id]').first()).toHaveAttribute('data-id', String(want.ids[0]));
    const modelNats: number[] = [];
    for (const t of [1, 2, 3]) {
      await expect(guess.getByTestId('choices')).toHaveAttribute('data-position', String(t));
      const choices = await dataIds(guess.getByTestId('choices').locator('button'));
      expect(choices, 'the truth is among the choices').toContain(want.ids[t]);
      expect(choices.every((id) => id >= 0 && id < V)).toBe(true);
      await guess.locator(`[data-testid="choices"] button[data-id="${want.ids[t]}"]`).click();
      await expect(guess.getByTestId('truth')).toHaveAttribute('data-id', String(want.ids[t]));
      const lossHere = nll(want.tensors!.logits.data, t - 1, want.ids[t]);
      near(Number(await guess.getByTestId('model-p').getAttribute('data-value')), Math.exp(-lossHere), 1e-5, `p of token ${t}`);
      modelNats.push(lossHere);
      near(Number(await guess.getByTestId('model-mean').getAttribute('data-value')), modelNats.reduce((a, b) => a + b, 0) / modelNats.length, 1e-5, `mean after ${t}`);
    }

    // counting vs learning: the held-out numbers = npm run eval -- --paragraphs n on the folder
    const ngram = widget(page, 'ngram');
    await ngram.scrollIntoViewIfNeeded();
    await expect(ngram).toHaveAttribute('data-paragraphs', String(paragraphs));
    const num = (key: string) => ngram.locator(`table:not(.mine) tr[data-row="${key}"] .num`);
    await expect(num('model')).toHaveAttribute('data-value', /\d/);
    const cli = await heldout;
    for (const key of ['unigram', 'bigram', 'trigram', 'model'] as const) {
      near(Number(await num(key).getAttribute('data-value')), cli[key], key === 'model' ? 1e-6 : 1e-12, `held-out ${key}`);
      await expect(num(key)).toHaveText(cli[key].toFixed(4));
    }
    // and the reader's text, scored by this model: <|endoftext|>, the text, <|endoftext|>, per character
    const text = 'A tall man stood by the river and watched the boats go by.';
    await ngram.getByRole('textbox', { name: 'Your text, scored both ways' }).fill(text);
    const mine = ngram.locator(`[data-testid="mine"][data-text="${text}"]`);
    await expect(mine).toBeVisible();
    const stream = [eos, ...tokenizer.encode(text), eos];
    const pass = await runner.forward(stream.slice(0, -1));
    let sum = 0;
    for (let t = 0; t < stream.length - 1; t++) sum += nll(pass.logits, t, stream[t + 1]);
    near(Number(await mine.locator('tr[data-row="model"] .num').getAttribute('data-value')), sum / ([...text].length + 1), 1e-4, 'the reader’s text, model nats per character');

    // watch it learn trains a fresh model of its own, and says so with its own shape, not the opened one's
    const live = widget(page, 'training');
    await live.scrollIntoViewIfNeeded();
    await expect(live.locator('p.model')).toContainText(`${liveRecipe.nLayer} layers, ${liveRecipe.nHead} heads, C = ${liveRecipe.nEmbd}, context ${liveRecipe.nPositions}`);
    await expect(live).toContainText('A fresh model');
    // the scale figure shows the site's own run, from its model card, named as such
    const ours = widget(page, 'scale').locator('tr[data-row="ours"]');
    await expect(ours.locator('th')).toHaveText(`ours (${shippedName})`);
  });
  test('9 two files: the parameter file = the folder’s safetensors header; quantize = eval --quantize and generate; the sizes are this model’s', async ({ page }) => {
    // the four evals take seconds each: started now, awaited once the page has scored its slice
    const slice = JSON.parse(readFileSync('src/lib/engine/heldout-slice.json', 'utf8')) as { chars: number };
    const precisions = ['fp32', 'fp16', 'int8', 'int4'] as const;
    const losses = precisions.map((quantize) => evaluate({ model: dir, quantize, chars: slice.chars }));
    await openOn(page, 'two-files');
    const { headerBytes, entries } = readSafetensorsHeader(st);
    const { tensors } = parseSafetensors(st);
    const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
    const total = entries.reduce((a, e) => a + sizeOf(e.shape), 0);

    // the parameter file: every tensor of the header once, with its shape, count and bytes
    const file = widget(page, 'parameter-file');
    await file.scrollIntoViewIfNeeded();
    await expect(file.locator('dl[data-ready]')).toHaveAttribute('data-params', String(total));
    await expect(file.locator('dl[data-ready]')).toHaveAttribute('data-bytes', String(statSync(join(dir, 'model.safetensors')).size));
    await expect(file).toContainText(`The file opens with ${headerBytes.toLocaleString('en')} bytes of header`);
    const rows = await file.locator('tr[data-name]').evaluateAll((trs) => trs.map((tr) => ({ name: tr.getAttribute('data-name')!, count: Number(tr.getAttribute('data-count')), bytes: Number(tr.getAttribute('data-bytes')), shape: tr.querySelector('.shape')?.textContent ?? '' })));
    expect(rows.map((r) => r.name).sort()).toEqual(entries.map((e) => e.name).sort());
    for (const r of rows) {
      const e = entries.find((x) => x.name === r.name)!;
      expect(r.shape, r.name).toBe(`(${e.shape.join(', ')})`);
      expect(r.count, r.name).toBe(sizeOf(e.shape));
      expect(r.bytes, r.name).toBe(e.end - e.begin);
    }
    const groups = await file.locator('details[data-group]').evaluateAll((ds) => ds.map((d) => d.getAttribute('data-group')));
    expect(groups).toEqual(['embeddings', ...Array.from({ length: config.n_layer }, (_, i) => `h.${i}`), 'ln_f']);
    const values = file.getByTestId('tensor-values');
    await expect(values).toHaveAttribute('data-name', 'wte.weight');
    expect(JSON.parse((await values.getAttribute('data-values'))!)).toEqual(Array.from(tensors.get('wte.weight')!.data.subarray(0, 12)));
    const last = `h.${config.n_layer - 1}.mlp.c_fc.weight`;
    await file.locator(`details[data-group="h.${config.n_layer - 1}"] summary`).click();
    await file.getByRole('button', { name: new RegExp(`^${last.replaceAll('.', '\\.')}:`) }).click();
    await expect(values).toHaveAttribute('data-name', last);
    expect(JSON.parse((await values.getAttribute('data-values'))!)).toEqual(Array.from(tensors.get(last)!.data.subarray(0, 12)));
    await expect(values).toContainText(`shape (${entries.find((e) => e.name === last)!.shape.join(', ')})`);
    const n = (key: string) => page.locator(`.model-number[data-name="${key}"]`).first();
    await expect(n('n_layer')).toHaveText(String(config.n_layer));
    await expect(n('n_embd')).toHaveText(config.n_embd.toLocaleString('en'));

    // quantize: the fp32 continuation is generate's at T = 0; each precision's held-out loss is eval's
    const quant = widget(page, 'quantize');
    await quant.scrollIntoViewIfNeeded();
    const prompt = 'He looked at the house and';
    await quant.getByLabel('Prompt', { exact: true }).fill(prompt);
    const greedy = cliGenerate({ prompt, tokens: 20, temperature: 0, seed: 0 });
    await expect(quant.locator('[data-testid="continuations"] [data-precision="fp32"]')).toHaveAttribute('data-ids', JSON.stringify(greedy.ids));
    const bytes = async (p: string) => Number(await quant.locator(`tr[data-precision="${p}"] [data-testid="bytes"]`).getAttribute('data-value'));
    expect(await bytes('fp32')).toBe(4 * total);
    expect(await bytes('fp16')).toBe(2 * total);
    for (const [i, precision] of precisions.entries()) {
      const cell = quant.locator(`tr[data-precision="${precision}"] [data-testid="loss"]`);
      await expect(cell).toHaveAttribute('data-value', /\d/, { timeout: 120_000 });
      const cli = await losses[i];
      expect(cli.precision).toBe(precision);
      near(Number(await cell.getAttribute('data-value')), cli.model, 1e-9, `${precision} held-out loss`);
      await expect(cell).toHaveText(cli.model.toFixed(4));
    }
    // the slice it scored: paragraphs, characters and tokens, as eval counts them for this tokenizer
    const fp32 = await losses[0];
    expect(await dataValues(quant.getByTestId('loss-note').locator('[data-value]'))).toEqual([fp32.paragraphs, fp32.chars, fp32.tokens]);

    // what the parameters weigh: ours is this file's count, by its name
    const weights = widget(page, 'model-weights').locator('section[data-model="ours"]');
    await weights.scrollIntoViewIfNeeded();
    await expect(weights).toHaveAttribute('data-params', String(total));
    await expect(weights.locator('.name strong')).toHaveText(`ours (${name})`);
    await expect(weights.locator('[data-precision="fp32"] .num')).toHaveAttribute('data-value', String(4 * total));

    // LoRA on this model's matrices: their shapes from the header
    const lora = widget(page, 'lora');
    await lora.scrollIntoViewIfNeeded();
    const blockMatrices = entries.filter((e) => e.name.startsWith('h.') && e.shape.length === 2);
    const options = await lora.getByTestId('lora-tensor').locator('option').allTextContents();
    expect(options.sort()).toEqual(blockMatrices.map((e) => e.name).sort());
    const rank = Number(await lora.getAttribute('data-rank'));
    const tensorName = await lora.getAttribute('data-tensor');
    const chosen = entries.find((e) => e.name === tensorName)!;
    expect(chosen, `the matrix shown, ${tensorName}, is one of the file's`).toBeDefined();
    const [r0, c0] = chosen.shape;
    await expect(lora.getByTestId('full')).toHaveAttribute('data-value', String(r0 * c0));
    await expect(lora.getByTestId('adapter')).toHaveAttribute('data-value', String(rank * (r0 + c0)));
    await expect(lora.getByTestId('all')).toHaveAttribute('data-value', String(blockMatrices.reduce((a, e) => a + rank * (e.shape[0] + e.shape[1]), 0)));
  });
  test('10 what it is not: the greedy and seeded continuations = generate, each token’s p = softmax of trace --keys logits', async ({ page }) => {
    await openOn(page, 'what-it-is-not');
    const V = config.vocab_size;
    const softmaxAt = (logits: number[], t: number, id: number) => {
      const row = logits.slice(t * V, (t + 1) * V);
      const max = Math.max(...row);
      return Math.exp(row[id] - max) / row.reduce((a, z) => a + Math.exp(z - max), 0);
    };
    // the p under each token of a line: the model's at temperature 1 given the tokens before it, from
    // a full pass over the line's text; where that text reads back as other ids the comparison stops
    async function expectProbabilities(run: Locator, what: string): Promise<number> {
      const ids = JSON.parse((await run.getAttribute('data-ids'))!) as number[];
      const shown = await dataValues(run.locator('.tok'));
      const promptLen = ids.length - shown.length;
      const full = cliTrace((await run.getAttribute('data-text'))!, { keys: ['logits'] });
      let compared = 0;
      for (let i = 0; i < shown.length && promptLen + i < full.ids.length; i++) {
        if (full.ids.slice(0, promptLen + i + 1).join() !== ids.slice(0, promptLen + i + 1).join()) break;
        near(shown[i], softmaxAt(full.tensors!.logits.data, promptLen + i - 1, ids[promptLen + i]), 1e-5, `${what}: p of token ${i}`);
        compared++;
      }
      expect(compared, `${what}: tokens compared with the trace`).toBeGreaterThanOrEqual(1);
      return compared;
    }

    for (const [kind, tokens] of [['confabulation', 14], ['autocomplete', 20]] as const) {
      const fig = widget(page, kind);
      await fig.scrollIntoViewIfNeeded();
      const prompt = await fig.getByLabel('Prompt', { exact: true }).inputValue();
      const greedy = cliGenerate({ prompt, tokens, temperature: 0, seed: 0 });
      await expect(fig.locator('[data-seed="greedy"]')).toHaveAttribute('data-ids', JSON.stringify(greedy.ids));
      // (the question's greedy line may begin with a token its text does not read back as: its ids only)
      if (kind === 'confabulation') await expectProbabilities(fig.locator('[data-seed="greedy"]'), `${kind}, greedy`);
      // each seeded line is generate with that seed at the line's temperature
      const runs = fig.locator('section.run:not([data-seed="greedy"])');
      expect(await runs.count()).toBeGreaterThan(0);
      for (const run of await runs.all()) {
        const seed = Number(await run.getAttribute('data-seed'));
        const temperature = Number(await run.getAttribute('data-temperature'));
        const n = await run.locator('.tok').count();
        const cli = cliGenerate({ prompt, tokens: n, temperature, seed });
        expect(JSON.parse((await run.getAttribute('data-ids'))!), `${kind}, seed ${seed} at T ${temperature}`).toEqual(cli.ids);
      }
      if (kind === 'confabulation') await expectProbabilities(runs.first(), `${kind}, first seed`);
    }
  });
});
