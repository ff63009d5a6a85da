// Chapter 4, read the way a reader reads it: the weights, scores and vectors on screen are the
// engine's, for prompts this test chooses, compared with `npm run trace` (the same engine in Node).
// The page runs with ?backend=cpu, so it does the same float32 arithmetic as the command line.
import { expect, test, type Locator, type Page } from '@playwright/test';
import { modelConfig, trace, type TraceOutput } from './site';
import { reportLongTasks, resetLongTasks, watchLongTasks } from './long-tasks';

// the command line's attention: layers[l].heads[h].weights[i][j]
type Traced = TraceOutput & { layers: { heads: { weights: number[][] }[] }[] };
const traced = (prompt: string) => trace(prompt) as Traced;

const L = Number(modelConfig.n_layer);
const nh = Number(modelConfig.n_head);
const typed = 'She gave him the book and he thanked her.';

async function open(page: Page, name: string): Promise<Locator> {
  await page.goto('/attention?backend=cpu');
  const fig = page.locator(`figure[data-widget="${name}"]`);
  await fig.scrollIntoViewIfNeeded();
  await expect(fig).toHaveAttribute('data-ready', '');
  return fig;
}

async function pick(fig: Locator, layer: number, head: number) {
  await fig.getByRole('group', { name: 'Layer' }).getByRole('radio', { name: String(layer), exact: true }).check();
  await fig.getByRole('group', { name: 'Head' }).getByRole('radio', { name: String(head), exact: true }).check();
  await expect(fig).toHaveAttribute('data-layer', String(layer));
  await expect(fig).toHaveAttribute('data-head', String(head));
}

async function typeText(fig: Locator, text: string, expected: Traced) {
  await fig.getByLabel('Your text', { exact: true }).fill(text);
  const chips = fig.getByRole('listbox').first().getByRole('option');
  await expect(chips).toHaveCount(expected.ids.length);
  await expect(chips.first()).toHaveAttribute('data-id', String(expected.ids[0]));
  await expect(chips.last()).toHaveAttribute('data-id', String(expected.ids.at(-1)!));
}

// three figures each trace every layer of the text, and the CLI runs beside them: a busy machine
// needs more than the default minute
test.describe.configure({ timeout: 150_000 });

const values = (loc: Locator) => loc.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));

test('the inspector’s weights for a clicked token equal the engine’s, as data and as the rounded text', async ({ page }) => {
  const fig = await open(page, 'attention');
  for (const [prompt, layer, head] of [
    ['The cat sat on the mat because it was tired.', L - 1, nh - 1],
    [typed, Math.min(1, L - 1), 0]
  ] as const) {
    const want = traced(prompt);
    const T = want.ids.length;
    await typeText(fig, prompt, want);
    await pick(fig, layer, head);
    const i = Math.max(1, T - 3);
    const chips = fig.getByRole('listbox').getByRole('option');
    await chips.nth(i).click();
    await expect(fig).toHaveAttribute('data-token', String(i));
    const row = want.layers[layer].heads[head].weights[i]; // (T)

    // the shading of the chips
    const shaded = await values(chips);
    expect(shaded).toHaveLength(T);
    shaded.forEach((v, j) => expect(Math.abs(v - row[j]), `chip ${j}`).toBeLessThanOrEqual(1e-4));
    // the row of the matrix: its data and the text a reader sees
    const cells = fig.locator(`table.row tr[data-row="${i}"] td.w`);
    await expect(cells).toHaveCount(T);
    const shown = await cells.evaluateAll((tds) => tds.map((td) => ({ v: Number(td.getAttribute('data-value')), text: td.textContent!.trim() })));
    shown.forEach((s, j) => {
      expect(Math.abs(s.v - row[j]), `weight ${j}`).toBeLessThanOrEqual(1e-4);
      expect(Math.abs(Number(s.text) - row[j]), `text of weight ${j}`).toBeLessThanOrEqual(5e-4 + 1e-4);
    });
    // and the map's highlighted row
    const map = await values(fig.locator(`svg rect[data-row="${i}"][data-col]`));
    map.forEach((v, j) => expect(j > i ? v === -Infinity : Math.abs(v - row[j]) <= 1e-4, `map cell ${i},${j}`).toBe(true));
    expect(shown.slice(i + 1).every((s) => s.v === 0)).toBe(true);

    // a key of that row: the pair's weight equals the engine's
    const j = Math.max(0, i - 1);
    await fig.locator(`table.row tr[data-col="${j}"] button.key`).click();
    await expect(fig).toHaveAttribute('data-key', String(j));
    const w = Number(await fig.getByTestId('pair-weight').getAttribute('data-value'));
    expect(Math.abs(w - row[j])).toBeLessThanOrEqual(1e-4);
    // the locked row stays when the pointer moves away
    await fig.getByLabel('Your text', { exact: true }).hover();
    await expect(fig).toHaveAttribute('data-token', String(i));
  }
});

test('the inspector by keyboard alone: Tab to a token, arrows, Enter locks, Escape clears', async ({ page }) => {
  const fig = await open(page, 'attention');
  const want = traced('The cat sat on the mat because it was tired.');
  const T = want.ids.length;
  await fig.getByLabel('Your text', { exact: true }).focus();
  for (let n = 0; n < 12; n++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement?.getAttribute('role') === 'option')) break;
  }
  const active = page.locator(':focus');
  await expect(active).toHaveAttribute('role', 'option');
  await expect(active).toHaveAttribute('data-index', String(T - 1)); // the token locked at first
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  await expect(page.locator(':focus')).toHaveAttribute('data-index', String(T - 3));
  await expect(fig).toHaveAttribute('data-token', String(T - 1)); // arrows preview, they do not lock
  await page.keyboard.press('Enter');
  await expect(fig).toHaveAttribute('data-token', String(T - 3));
  const row = want.layers[0].heads[0].weights[T - 3];
  const shown = await values(fig.locator(`table.row tr[data-row="${T - 3}"] td.w`));
  shown.forEach((v, j) => expect(Math.abs(v - row[j])).toBeLessThanOrEqual(1e-4));
  await page.keyboard.press('Escape');
  await expect(fig).not.toHaveAttribute('data-token', /.*/);
  // layer and head by keyboard: the radio group takes arrows
  await fig.getByRole('group', { name: 'Layer' }).getByRole('radio', { name: '0', exact: true }).focus();
  await page.keyboard.press('ArrowRight');
  await expect(fig).toHaveAttribute('data-layer', String(Math.min(1, L - 1)));
});

test('the causal mask: −∞ above the diagonal, rows of weights that sum to 1, the worked row equal to the engine', async ({ page }) => {
  const fig = await open(page, 'causal-mask');
  const want = traced(typed);
  const T = want.ids.length;
  await typeText(fig, typed, want);
  const layer = L - 1;
  const head = Math.min(2, nh - 1);
  await pick(fig, layer, head);
  const i = T - 2;
  await fig.getByRole('listbox').getByRole('option').nth(i).click();
  await expect(fig).toHaveAttribute('data-token', String(i));

  const step = fig.getByRole('button', { name: 'Step', exact: true });
  await step.click();
  await expect(fig).toHaveAttribute('data-step', '1');
  const cells = await fig.locator('svg rect[data-row][data-col]').evaluateAll((rs) =>
    rs.map((r) => ({ r: Number(r.getAttribute('data-row')), c: Number(r.getAttribute('data-col')), v: r.getAttribute('data-value') }))
  );
  expect(cells).toHaveLength(T * T);
  for (const c of cells) {
    if (c.c > c.r) expect(c.v, `masked ${c.r},${c.c}`).toBe('-Infinity');
    else expect(Number.isFinite(Number(c.v)), `kept ${c.r},${c.c}`).toBe(true);
  }
  await expect(fig.locator(`td.masked[data-value="-Infinity"]`)).toHaveCount(T - 1 - i);

  await step.click();
  await step.click();
  await expect(fig).toHaveAttribute('data-step', '3');
  const weights = await fig.locator('svg rect[data-row][data-col]').evaluateAll((rs) =>
    rs.map((r) => ({ r: Number(r.getAttribute('data-row')), c: Number(r.getAttribute('data-col')), v: Number(r.getAttribute('data-value')) }))
  );
  for (let r = 0; r < T; r++) {
    const row = weights.filter((w) => w.r === r && w.c <= r);
    expect(Math.abs(row.reduce((a, w) => a + w.v, 0) - 1), `row ${r} sums to 1`).toBeLessThanOrEqual(1e-5);
    row.forEach((w) => expect(Math.abs(w.v - want.layers[layer].heads[head].weights[r][w.c])).toBeLessThanOrEqual(1e-4));
  }
  // the worked row: exp(s − max) / Σ computed on the page equals the model's weight, and the CLI's
  const worked = await fig.locator('td.weight').evaluateAll((tds) => tds.map((td) => ({ v: Number(td.getAttribute('data-value')), worked: Number(td.getAttribute('data-worked')), text: td.textContent!.trim() })));
  expect(worked).toHaveLength(T);
  worked.forEach((w, j) => {
    const cli = want.layers[layer].heads[head].weights[i][j];
    expect(Math.abs(w.worked - w.v)).toBeLessThanOrEqual(1e-6);
    expect(Math.abs(w.v - cli)).toBeLessThanOrEqual(1e-4);
    expect(Math.abs(Number(w.text) - cli)).toBeLessThanOrEqual(5e-5 + 1e-4);
  });
  const exps = await values(fig.locator('td.exp'));
  const sum = Number(await fig.getByTestId('row-sum').getAttribute('data-value'));
  expect(Math.abs(exps.reduce((a, b) => a + b, 0) - sum)).toBeLessThanOrEqual(1e-9 * T);
  expect(Math.max(...exps)).toBe(1); // the row's largest score, minus itself
  expect(Math.abs(Number(await fig.getByTestId('row-total').getAttribute('data-value')) - 1)).toBeLessThanOrEqual(1e-5);
});

test('q · k / √d_k in the Q, K, V figure is the inspector’s score cell, and the value blend is the head’s output', async ({ page }) => {
  const qkv = await open(page, 'qkv');
  const want = traced(typed);
  const T = want.ids.length;
  const layer = Math.min(2, L - 1);
  const head = nh - 1;
  const [i, j] = [T - 1, 2];
  await typeText(qkv, typed, want);
  await pick(qkv, layer, head);
  const strips = qkv.getByRole('listbox');
  await strips.nth(0).getByRole('option').nth(i).click();
  await strips.nth(1).getByRole('option').nth(j).click();
  await expect(qkv).toHaveAttribute('data-token', String(i));
  await expect(qkv).toHaveAttribute('data-key', String(j));
  const hs = Number(modelConfig.n_embd) / nh;
  await expect(qkv.locator('svg rect[data-row="0"]').first()).toBeVisible();
  const dot = Number(await qkv.getByTestId('qkv-dot').getAttribute('data-value'));
  const score = Number(await qkv.getByTestId('qkv-score').getAttribute('data-value'));
  const model = Number(await qkv.getByTestId('model-score').getAttribute('data-value'));
  expect(Math.abs(score - dot / Math.sqrt(hs))).toBeLessThanOrEqual(1e-9);
  expect(Math.abs(score - model)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(model)));
  // the products drawn are q[d] · k[d], and the visible sum is their sum
  const maps = qkv.locator('.heatmap');
  const pair = await values(maps.nth(0).locator('rect[data-row]'));
  const terms = await values(maps.nth(1).locator('rect[data-row]'));
  expect(pair).toHaveLength(2 * hs);
  expect(terms).toHaveLength(hs);
  terms.forEach((t, d) => expect(Math.abs(t - pair[d] * pair[hs + d])).toBeLessThanOrEqual(1e-6));
  expect(Math.abs(terms.reduce((a, b) => a + b, 0) - dot)).toBeLessThanOrEqual(1e-5);
  expect(Math.abs(Number(await qkv.getByTestId('qkv-score').textContent()) - score)).toBeLessThanOrEqual(5e-4);
  // the weights of the blend are the engine's and add up to 1; the blend equals the model's output
  const w = await values(qkv.getByRole('list', { name: `Weights of query ${i} on each token` }).getByRole('listitem'));
  w.forEach((v, k) => expect(Math.abs(v - want.layers[layer].heads[head].weights[i][k])).toBeLessThanOrEqual(1e-4));
  expect(Math.abs(Number(await qkv.getByTestId('weight-sum').getAttribute('data-value')) - 1)).toBeLessThanOrEqual(1e-5);
  expect(Number(await qkv.getByTestId('blend-gap').getAttribute('data-value'))).toBeLessThanOrEqual(1e-5);

  // the same pair in the inspector: its score cell is this dot product
  const insp = page.locator('figure[data-widget="attention"]');
  await insp.scrollIntoViewIfNeeded();
  await typeText(insp, typed, want);
  await pick(insp, layer, head);
  await insp.getByRole('listbox').getByRole('option').nth(i).click();
  await insp.locator(`table.row tr[data-col="${j}"] button.key`).click();
  const cell = Number(await insp.locator(`table.row tr[data-row="${i}"][data-col="${j}"] td.s`).getAttribute('data-value'));
  expect(Math.abs(cell - score)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(cell)));
  expect(Math.abs(Number(await insp.getByTestId('pair-score').getAttribute('data-value')) - cell)).toBe(0);
});

test('the prose’s claims about our heads are computed: the strongest previous-token and first-token heads', async ({ page }) => {
  await page.goto('/attention?backend=cpu');
  for (const pattern of ['previous', 'first'] as const) {
    const fact = page.locator(`[data-widget="head-pattern"][data-pattern="${pattern}"]`);
    await fact.scrollIntoViewIfNeeded();
    await expect(fact).toHaveAttribute('data-value', /\d/);
    const want = traced('The cat sat on the mat because it was tired.');
    const T = want.ids.length;
    let best = { share: -1, layer: -1, head: -1 };
    want.layers.forEach((l, layer) =>
      l.heads.forEach((h, head) => {
        let s = 0;
        for (let i = 1; i < T; i++) s += h.weights[i][pattern === 'previous' ? i - 1 : 0];
        if (s / (T - 1) > best.share) best = { share: s / (T - 1), layer, head };
      })
    );
    expect(Math.abs(Number(await fact.getAttribute('data-value')) - best.share)).toBeLessThanOrEqual(1e-4);
    await expect(fact).toHaveAttribute('data-layer', String(best.layer));
    await expect(fact).toHaveAttribute('data-head', String(best.head));
    await expect(fact).toContainText(new RegExp(`layer\\s${best.layer},\\shead\\s${best.head}`));
    await expect(fact).toContainText(`${(best.share * 100).toFixed(0)}%`);
  }
});

test('long main-thread tasks while clicking and typing in the attention figures (reported, not asserted)', async ({ page }) => {
  await watchLongTasks(page);
  const fig = await open(page, 'attention');
  await resetLongTasks(page);
  const chips = fig.getByRole('listbox').getByRole('option');
  for (let n = 0; n < 6; n++) await chips.nth(n).click();
  await fig.getByRole('group', { name: 'Layer' }).getByRole('radio', { name: String(L - 1), exact: true }).check();
  await fig.getByRole('radio', { name: /scores/ }).check();
  await reportLongTasks(page, 'clicking tokens, a layer and the scores view in the inspector');
  await resetLongTasks(page);
  await fig.getByLabel('Your text', { exact: true }).pressSequentially(' Then the dog ran after the ball all the way home.', { delay: 20 });
  await expect(fig.getByRole('listbox').getByRole('option').last()).toHaveText('.');
  await reportLongTasks(page, 'typing a sentence into the inspector');
  const mask = page.locator('figure[data-widget="causal-mask"]');
  await mask.scrollIntoViewIfNeeded();
  await expect(mask).toHaveAttribute('data-ready', '');
  await resetLongTasks(page);
  for (let n = 0; n < 3; n++) await mask.getByRole('button', { name: 'Step', exact: true }).click();
  await reportLongTasks(page, 'stepping the causal mask');
});
