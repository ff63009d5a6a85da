// Chapter 5, read the way a reader reads it: the block diagram's norms, the logit lens and the
// neuron ranking on screen equal what `npm run trace` computes for the same text (opened with
// ?backend=cpu, so the page runs the same float32 arithmetic as the command line).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { countParams, parseConfig } from '../../engine/config';
import { norm } from '../../engine/residual';
import { percent } from '../../src/lib/format';
import { modelConfig, modelDir } from './site';
import { reportLongTasks, resetLongTasks, watchLongTasks } from './long-tasks';

interface Traced {
  ids: number[];
  pieces: string[];
  top: { id: number; p: number }[];
  lens: { id: number; text: string; p: number }[][][]; // [position][row][rank]
  tensors: Record<string, { shape: number[]; data: number[] }>;
}

// each test runs the CLI (tsx start-up and a traced pass) besides the page: roomier than the default
test.describe.configure({ timeout: 180_000 });

const C = modelConfig.n_embd as number;
const L = modelConfig.n_layer as number;

// the CLI with the logit lens (top k at every position) and the traced tensors asked for
function traceCli(prompt: string, k: number, keys: string[]): Traced {
  const out = execFileSync('npm', ['run', '--silent', 'trace', '--', '--prompt', prompt, '--model', modelDir, '--json', '--lens', String(k), '--keys', keys.join(',')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 1 << 28
  });
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`npm run trace printed no JSON:\n${out}`);
  return JSON.parse(line) as Traced;
}

const rowOf = (t: Traced, name: string, i: number) => t.tensors[name].data.slice(i * C, (i + 1) * C);
const close = (a: number, b: number, rel = 1e-5) => expect(Math.abs(a - b)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(b)));
// block-parts.ts num(): three significant digits, a real minus sign
const three = (v: number) => Number(v.toPrecision(3)).toString().replace('-', '−');

async function open(page: Page) {
  await watchLongTasks(page);
  await page.goto('/block?backend=cpu');
  await expect(page.getByRole('heading', { level: 1, name: 'The Transformer block' })).toBeVisible();
}

// type into a figure's text box and wait until its tokens are the CLI's and it is idle
async function typeInto(figure: Locator, prompt: string, ids: number[]) {
  await figure.scrollIntoViewIfNeeded();
  await figure.getByLabel('Your text').fill(prompt);
  await expect.poll(() => figure.locator('.strip .chip[data-id]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-id'))))).toEqual(ids);
  await expect(figure).toHaveAttribute('aria-busy', 'false');
}

test('the logit lens on screen equals the CLI’s, at the last token and at a clicked one', async ({ page }) => {
  await open(page);
  const prompt = 'The boy took the book from the';
  const k = 5;
  const t = traceCli(prompt, k, ['x0']);
  const fig = page.locator('[data-widget="residual"]');
  await resetLongTasks(page);
  await typeInto(fig, prompt, t.ids);

  async function check(position: number) {
    await expect(fig).toHaveAttribute('data-token', String(position));
    await expect(fig).toHaveAttribute('aria-busy', 'false');
    const rows = fig.locator('tbody tr');
    await expect(rows).toHaveCount(L + 1);
    for (let r = 0; r <= L; r++) {
      const cells = await rows.nth(r).locator('td').evaluateAll((tds) => tds.map((td) => ({ id: Number(td.getAttribute('data-id')), p: Number(td.getAttribute('data-value')), text: td.querySelector('.p')?.textContent ?? '' })));
      const want = t.lens[position][r];
      expect(cells.map((c) => c.id)).toEqual(want.map((g) => g.id));
      cells.forEach((c, i) => {
        close(c.p, want[i].p);
        expect(c.text).toBe(percent(c.p)); // the visible percentage is the data-value, rounded
      });
    }
    // the lens after the last block is the model's own next-token distribution
    if (position === t.ids.length - 1) expect(t.lens[position][L].map((g) => g.id)).toEqual(t.top.slice(0, k).map((g) => g.id));
  }

  await check(t.ids.length - 1);
  await fig.locator('.strip .chip').nth(1).click();
  await check(1);
  // keyboard: the selected chip has the Tab stop; arrow right then Enter picks the next token
  await fig.locator('.strip .chip').nth(1).press('ArrowRight');
  await page.keyboard.press('Enter');
  await check(2);
  await reportLongTasks(page, 'typing into the logit lens and picking tokens');
});

test('the block diagram’s vectors, norms and changes equal the CLI’s trace; arrows move between boxes', async ({ page }) => {
  await open(page);
  const prompt = 'A man and his wife lived in the';
  const keys = ['x0', 'ln1', 'attn.out', 'res1', 'ln2', 'mlp.out', 'res2'];
  const t = traceCli(prompt, 1, keys);
  const fig = page.locator('[data-widget="block"]');
  await resetLongTasks(page);
  await typeInto(fig, prompt, t.ids);

  const layer = Math.min(1, L - 1);
  const position = Math.min(2, t.ids.length - 1);
  await fig.locator(`button.layer[data-layer="${layer}"]`).click();
  await fig.locator('.strip .chip').nth(position).click();
  await expect(fig).toHaveAttribute('data-layer', String(layer));
  await expect(fig).toHaveAttribute('data-token', String(position));
  await expect(fig).toHaveAttribute('aria-busy', 'false');

  const names: Record<string, string> = {
    in: layer === 0 ? 'x0' : `h.${layer - 1}.res2`,
    ln1: `h.${layer}.ln1`, 'attn.out': `h.${layer}.attn.out`, res1: `h.${layer}.res1`,
    ln2: `h.${layer}.ln2`, 'mlp.out': `h.${layer}.mlp.out`, res2: `h.${layer}.res2`
  };
  for (const [point, name] of Object.entries(names)) {
    const box = fig.locator(`button.box[data-point="${point}"]`);
    const v = rowOf(t, name, position);
    const shownNorm = box.getByTestId('norm');
    const n = Number(await shownNorm.getAttribute('data-value'));
    close(n, norm(v));
    await expect(shownNorm).toHaveText(three(n));
    const cells = await box.locator('.cell').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
    expect(cells.length).toBeGreaterThan(0);
    cells.forEach((c, d) => close(c, v[d]));
  }
  const change = async (id: string) => Number(await fig.getByTestId(id).getAttribute('data-value'));
  close(await change('attn-change'), norm(rowOf(t, names['attn.out'], position)) / norm(rowOf(t, names.in, position)));
  close(await change('mlp-change'), norm(rowOf(t, names['mlp.out'], position)) / norm(rowOf(t, names.res1, position)));
  await expect(fig.getByTestId('attn-change')).toHaveText(`${three((await change('attn-change')) * 100)}%`);

  // the stream's length after the embedding and after every block
  const stream = await fig.locator('.bars li .n').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
  expect(stream).toHaveLength(L + 1);
  close(stream[0], norm(rowOf(t, 'x0', position)));
  for (let l = 0; l < L; l++) close(stream[l + 1], norm(rowOf(t, `h.${l}.res2`, position)));

  // keyboard: from the pressed box, arrow up moves the selection and the focus
  const pressed = fig.locator('button.box[aria-pressed="true"]');
  await pressed.focus();
  await expect(pressed).toHaveAttribute('data-point', 'res2');
  await page.keyboard.press('ArrowUp');
  await expect(fig.locator('button.box[aria-pressed="true"]')).toHaveAttribute('data-point', 'mlp.out');
  await expect(fig.locator('button.box[data-point="mlp.out"]')).toBeFocused();
  const detail = await fig.locator('.detail .values [data-value]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
  detail.forEach((d, i) => close(d, rowOf(t, names['mlp.out'], position)[i]));
  await reportLongTasks(page, 'typing into the block diagram and clicking');
});

test('the neuron ranking equals the CLI’s mlp.act; the GELU points are mlp.pre; examples come from neurons.json', async ({ page }) => {
  await open(page);
  const prompt = 'The committee met on Monday to vote on the new law.';
  const t = traceCli(prompt, 1, ['mlp.pre', 'mlp.act']);
  const fig = page.locator('[data-widget="neurons"]');
  await resetLongTasks(page);
  await typeInto(fig, prompt, t.ids);
  const layer = L - 1;
  await fig.getByRole('group', { name: 'layer' }).getByRole('button', { name: String(layer), exact: true }).click();
  await expect(fig).toHaveAttribute('data-layer', String(layer));
  await expect(fig).toHaveAttribute('aria-busy', 'false');

  const F = 4 * C;
  const T = t.ids.length;
  const act = t.tensors[`h.${layer}.mlp.act`].data; // (T, 4C)
  const max = Array.from({ length: F }, (_, f) => Math.max(...Array.from({ length: T }, (_, i) => act[i * F + f])));
  const order = max.map((_, f) => f).sort((a, b) => max[b] - max[a] || a - b);
  // the ranking redraws once the chosen layer's activations arrive from the worker
  const rankedIds = () => fig.locator('.ranked button').evaluateAll((bs) => bs.map((b) => Number(b.getAttribute('data-id'))));
  await expect.poll(async () => { const ids = await rankedIds(); return ids.length > 0 && ids.every((id, i) => id === order[i]); }, { timeout: 20_000 }).toBe(true);
  const shown = await fig.locator('.ranked button').evaluateAll((bs) => bs.map((b) => ({ id: Number(b.getAttribute('data-id')), v: Number(b.querySelector('.v')!.getAttribute('data-value')), text: b.querySelector('.v')!.textContent })));
  expect(shown.map((s) => s.id)).toEqual(order.slice(0, shown.length));
  shown.forEach((s) => {
    close(s.v, max[s.id]);
    expect(s.text).toBe(three(s.v));
  });
  await expect(fig.getByTestId('neuron-count')).toHaveAttribute('data-value', String(F));

  // pick the third neuron with the keyboard
  await fig.locator('.ranked button').nth(2).focus();
  await page.keyboard.press('Enter');
  const neuron = shown[2].id;
  await expect(fig).toHaveAttribute('data-neuron', String(neuron));
  const pre = t.tensors[`h.${layer}.mlp.pre`].data;
  const points = await fig.locator('svg.gelu circle').evaluateAll((cs) => cs.map((c) => Number(c.getAttribute('data-value'))));
  expect(points).toHaveLength(T);
  points.forEach((x, i) => close(x, pre[i * F + neuron]));

  // the precomputed examples, as neurons.json holds them for this neuron
  const file = JSON.parse(readFileSync(`${modelDir}/neurons.json`, 'utf8')) as { layers: number[][][]; windows: number[][] };
  const flat = file.layers[layer][neuron];
  const examples = fig.locator('.contexts li');
  await expect(examples).toHaveCount(flat.length / 3);
  const got = await examples.evaluateAll((lis) => lis.map((li) => [Number(li.getAttribute('data-window')), Number(li.getAttribute('data-t')), Number(li.querySelector('[data-value]')!.getAttribute('data-value'))]));
  expect(got.flat()).toEqual(flat);
  await reportLongTasks(page, 'typing into the neurons figure and picking a neuron');
});

test('the parameter table counts our model by the same formula as countParams', async ({ page }) => {
  await open(page);
  const fig = page.locator('[data-widget="param-count"]');
  await fig.scrollIntoViewIfNeeded();
  const ours = fig.locator('tr[data-model="ours"]');
  const config = parseConfig(JSON.parse(readFileSync(`${modelDir}/config.json`, 'utf8')));
  await expect(ours.getByTestId('total')).toHaveAttribute('data-value', String(countParams(config)));
  const share = Number(await ours.getByTestId('mlp-share').getAttribute('data-value'));
  expect(share).toBeGreaterThan(0.6);
  expect(share).toBeLessThan(0.7);
  await expect(fig.locator('tr[data-model="gpt2"]').getByTestId('total')).toHaveAttribute('data-value', '124439808');
  // the prose's inline numbers are the loaded model's
  await expect(page.locator('[data-fact="layers"]').first()).toHaveAttribute('data-value', String(config.n_layer));
  await expect(page.locator('[data-fact="params"]')).toHaveText(countParams(config).toLocaleString('en-US'));
});
