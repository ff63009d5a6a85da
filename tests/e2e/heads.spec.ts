// The two many-heads figures (HeadsGrid, HeadAblation), read as a reader sees them: every small map
// equals `npm run trace` for its layer and head, the heads named on the page are the ones this test
// finds in the trace itself, and the ablation's bars are the CLI's with and without the same head.
// The page runs ?backend=cpu so it does the same float32 arithmetic as the command line. The page
// is chapter 4, which holds the figures.
import { expect, test, type Locator, type Page } from '@playwright/test';
import { headScores as scores, modelConfig, trace, type TraceOutput } from './site';
import { reportLongTasks, resetLongTasks, watchLongTasks } from './long-tasks';

const L = modelConfig.n_layer as number;
const NH = modelConfig.n_head as number;
const path = '/attention?backend=cpu';

// each test runs the CLI a few times and the page's figures on a small shared machine
test.describe.configure({ timeout: 180_000 });

async function open(page: Page) {
  await watchLongTasks(page);
  await page.goto(path);
}

// The figure's text box, filled, once the figure has loaded.
async function typeInto(figure: Locator, text: string) {
  await figure.scrollIntoViewIfNeeded();
  await expect(figure).toHaveAttribute('data-ready', '', { timeout: 90_000 }); // the model loads first
  await figure.getByLabel('Your text').fill(text);
}

// How often the figure went busy during `ms` of no input: a figure that recomputes without a
// change (an effect that reruns on its own answer) flips aria-busy again and again.
async function busyFlipsWhileIdle(figure: Locator, ms = 2000): Promise<number> {
  return figure.evaluate(
    (el, wait) =>
      new Promise<number>((done) => {
        let flips = 0;
        const watch = new MutationObserver(() => el.getAttribute('aria-busy') === 'true' && flips++);
        watch.observe(el, { attributes: true, attributeFilter: ['aria-busy'] });
        setTimeout(() => {
          watch.disconnect();
          done(flips);
        }, wait);
      }),
    ms
  );
}

// The percentage a reader sees ("36.7%", "0.0412%") stands for p, to the digits shown.
function expectPercentText(text: string, p: number) {
  const m = /(-?[\d.]+)%/.exec(text);
  expect(m, `a percentage in "${text}"`).not.toBeNull();
  const digits = m![1].split('.')[1]?.length ?? 0;
  expect(Math.abs(Number(m![1]) - 100 * p)).toBeLessThanOrEqual(0.5 * 10 ** -digits + 1e-9);
}

// A plain number on screen ("0.0381", "2.10") stands for v, to the digits shown.
function expectNumberText(text: string, v: number) {
  const m = /(-?\d+(?:\.\d+)?(?:e-?\d+)?)/.exec(text);
  expect(m, `a number in "${text}"`).not.toBeNull();
  const shown = m![1];
  const mantissa = shown.split('e')[0];
  const exp = shown.includes('e') ? Number(shown.split('e')[1]) : 0;
  const digits = mantissa.split('.')[1]?.length ?? 0;
  expect(Math.abs(Number(shown) - v)).toBeLessThanOrEqual(0.5 * 10 ** (exp - digits) * 1.0001);
}

interface ShownMap {
  layer: number;
  head: number;
  label: string;
  cells: { r: number; c: number; v: number }[];
}

async function readGrid(figure: Locator): Promise<ShownMap[]> {
  return figure.locator('button.head').evaluateAll((buttons) =>
    buttons.map((b) => ({
      layer: Number(b.getAttribute('data-layer')),
      head: Number(b.getAttribute('data-head')),
      label: b.getAttribute('aria-label') ?? '',
      cells: Array.from(b.querySelectorAll('rect[data-row]'), (rect) => ({
        r: Number(rect.getAttribute('data-row')),
        c: Number(rect.getAttribute('data-col')),
        v: Number(rect.getAttribute('data-value'))
      }))
    }))
  );
}

// worst |page − CLI| over every cell of every map; masked cells must be −∞ where the CLI has 0
function gridDiff(maps: ShownMap[], expected: TraceOutput): number {
  const T = expected.ids.length;
  if (maps.length !== L * NH) return Infinity;
  let worst = 0;
  for (const m of maps) {
    if (m.cells.length !== T * T) return Infinity;
    const w = expected.layers[m.layer].heads[m.head].weights;
    for (const { r, c, v } of m.cells) {
      if (c > r) {
        if (v !== -Infinity || w[r][c] !== 0) return Infinity;
      } else worst = Math.max(worst, Math.abs(v - w[r][c]));
    }
  }
  return worst;
}

test.describe('every head (heads-grid)', () => {
  for (const prompt of ['The cat sat on the mat. The cat sat on the', 'When she saw him, she said']) {
    test(`each small map equals npm run trace, and the named heads are the trace's: "${prompt}"`, async ({ page }) => {
      await open(page);
      const figure = page.locator('[data-widget="heads-grid"]');
      await typeInto(figure, prompt);
      const expected = trace(prompt);
      const T = expected.ids.length;
      await expect(figure).toHaveAttribute('data-tokens', String(T));
      await expect.poll(async () => gridDiff(await readGrid(figure), expected), { message: 'max |page − CLI| over all cells' }).toBeLessThanOrEqual(1e-4);
      const maps = await readGrid(figure);
      console.log(`heads-grid "${prompt}": ${maps.length} maps of ${T}×${T}, max |page − CLI| = ${gridDiff(maps, expected).toExponential(2)}`);
      // layer × head from the config, each labelled
      expect(new Set(maps.map((m) => `${m.layer}.${m.head}`)).size).toBe(L * NH);
      for (const m of maps) expect(m.label).toMatch(new RegExp(`^layer ${m.layer}, head ${m.head}\\b`));
      await expect(figure.getByTestId('shape')).toContainText(`(${NH}, ${T}, ${T}); ${L} layers × ${NH} heads = ${L * NH} maps`);

      // the heads named on the page are the ones this test finds in the CLI's weights
      const all = expected.layers.flatMap((layer, l) => layer.heads.map((h, hd) => ({ l, hd, s: scores(h.weights) })));
      for (const name of ['prev', 'self', 'first', 'sharpness', 'entropy'] as const) {
        const best = all.reduce((a, b) => (b.s[name] > a.s[name] ? b : a));
        const item = figure.locator(`.leaders li[data-score="${name}"]`);
        await expect(item).toHaveAttribute('data-layer', String(best.l));
        await expect(item).toHaveAttribute('data-head', String(best.hd));
        const value = Number(await item.getAttribute('data-value'));
        expect(Math.abs(value - best.s[name]), name).toBeLessThan(1e-5);
        await expect(item).toContainText(`layer ${best.l}, head ${best.hd}`);
        const text = (await item.locator('.how').textContent()) ?? '';
        if (name === 'entropy') expectNumberText(text, value);
        else expectPercentText(text, value);
      }
      // each map's tag is the largest of its prev / self / first, as shown
      const tags = await figure.locator('button.head').evaluateAll((buttons) =>
        buttons.map((b) => {
          const t = b.querySelector('.tag');
          return { l: Number(b.dataset.layer), hd: Number(b.dataset.head), score: t?.getAttribute('data-score'), value: Number(t?.getAttribute('data-value')), text: t?.textContent ?? '' };
        })
      );
      for (const { l, hd, s } of all) {
        const tag = tags.find((t) => t.l === l && t.hd === hd)!;
        const score = (['prev', 'self', 'first'] as const).reduce((a, b) => (s[b] > s[a] ? b : a));
        expect(tag.score, `layer ${l} head ${hd}`).toBe(score);
        expect(Math.abs(tag.value - s[score])).toBeLessThan(1e-5);
        expectPercentText(tag.text, tag.value);
      }
    });
  }

  test('opening a head by click and by keyboard; one Tab stop for the grid; typing stays responsive', async ({ page }) => {
    await open(page);
    const figure = page.locator('[data-widget="heads-grid"]');
    const prompt = 'The dog ran, and then the dog sat.';
    await typeInto(figure, prompt);
    const expected = trace(prompt);
    await expect.poll(async () => gridDiff(await readGrid(figure), expected)).toBeLessThanOrEqual(1e-4);

    await resetLongTasks(page);
    // a click on the map itself (the picture inside the button) opens that head
    const last = figure.locator(`button.head[data-layer="${L - 1}"][data-head="${NH - 1}"]`);
    await last.locator('svg').click({ position: { x: 3, y: 3 } });
    await expect(last).toHaveAttribute('aria-pressed', 'true');
    const detail = figure.getByTestId('head-detail');
    await expect(detail).toHaveAttribute('data-layer', String(L - 1));
    await expect(detail).toHaveAttribute('data-head', String(NH - 1));
    const want = scores(expected.layers[L - 1].heads[NH - 1].weights);
    for (const [name, v] of Object.entries(want)) {
      const li = detail.locator(`li[data-score="${name}"]`);
      expect(Math.abs(Number(await li.getAttribute('data-value')) - v), name).toBeLessThan(1e-5);
      const text = (await li.textContent()) ?? '';
      if (name === 'entropy') expectNumberText(text, v);
      else expectPercentText(text, v);
    }

    // keyboard: Tab from the last named head reaches the grid once; arrows move; Enter opens
    await figure.locator('.leaders li').last().locator('button').focus();
    await page.keyboard.press('Tab');
    const focused = page.locator('button.head:focus');
    await expect(focused).toHaveCount(1);
    await page.keyboard.press('Home');
    await expect(page.locator('button.head[data-layer="0"][data-head="0"]')).toBeFocused();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowDown');
    const target = figure.locator(`button.head[data-layer="${Math.min(1, L - 1)}"][data-head="${Math.min(1, NH - 1)}"]`);
    await expect(target).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(target).toHaveAttribute('aria-pressed', 'true');
    await expect(detail).toHaveAttribute('data-layer', String(Math.min(1, L - 1)));
    await page.keyboard.press('Tab'); // leaves the grid: no second head takes the focus
    await expect(page.locator('button.head:focus')).toHaveCount(0);

    await reportLongTasks(page, 'clicking a head and moving through the grid with the keyboard');

    // typing: every map recomputes (measured before reading the maps, which is the test's own work)
    const typed = trace(prompt + ' It');
    await resetLongTasks(page);
    await figure.getByLabel('Your text').pressSequentially(' It', { delay: 60 });
    await expect(figure).toHaveAttribute('data-tokens', String(typed.ids.length));
    await expect(figure).toHaveAttribute('aria-busy', 'false');
    await reportLongTasks(page, 'typing in heads-grid (every map redrawn per pass)');
    expect(await busyFlipsWhileIdle(figure), 'passes run with nothing changed').toBe(0);
    await expect.poll(async () => gridDiff(await readGrid(figure), typed)).toBeLessThanOrEqual(1e-4);
  });

  test('one token: maps but no names; no text: the hint', async ({ page }) => {
    await open(page);
    const figure = page.locator('[data-widget="heads-grid"]');
    await typeInto(figure, 'A');
    await expect(figure).toHaveAttribute('data-tokens', '1');
    await expect(figure.locator('.leaders')).toHaveCount(0);
    await expect(figure).toContainText('type a few more');
    await figure.getByLabel('Your text').fill('');
    await expect(figure.getByTestId('empty-hint')).toBeVisible();
    await expect(figure.getByTestId('prompt-error')).toContainText('empty');
  });
});

interface ShownBar {
  id: number;
  p: number;
  pct: string;
}
const readBars = (list: Locator): Promise<ShownBar[]> =>
  list.locator('li').evaluateAll((lis) =>
    lis.map((li) => ({ id: Number(li.getAttribute('data-id')), p: Number(li.getAttribute('data-p')), pct: li.querySelector('.pct')?.textContent ?? '' }))
  );

function barsDiff(shown: ShownBar[], top: TraceOutput['top']): number {
  if (shown.length === 0 || shown.some((s, i) => s.id !== top[i]?.id)) return Infinity;
  return Math.max(...shown.map((s, i) => Math.abs(s.p - top[i].p)));
}

test.describe('switch a head off (ablation)', () => {
  const prompt = 'When he came home, he';

  test("before is the CLI's top tokens; after is the CLI with the same head off; ranking over every head", async ({ page }) => {
    await open(page);
    const figure = page.locator('[data-widget="ablation"]');
    await typeInto(figure, prompt);
    const layer = L - 1;
    const head = NH - 1;
    await figure.getByTestId('ablate-layer').selectOption(String(layer));
    await figure.getByTestId('ablate-head').selectOption(String(head));
    await expect(figure).toHaveAttribute('data-layer', String(layer));
    await expect(figure).toHaveAttribute('data-head', String(head));

    const before = trace(prompt);
    const after = trace(prompt, `${layer}.${head}`);
    await expect.poll(async () => barsDiff(await readBars(figure.getByTestId('before')), before.top)).toBeLessThan(1e-6);
    await expect.poll(async () => barsDiff(await readBars(figure.getByTestId('after')), after.top)).toBeLessThan(1e-6);
    const shownBefore = await readBars(figure.getByTestId('before'));
    const shownAfter = await readBars(figure.getByTestId('after'));
    console.log(`ablation "${prompt}", layer ${layer} head ${head}: before top ${before.top[0].text} ${before.top[0].p.toFixed(4)}, after top ${after.top[0].text} ${after.top[0].p.toFixed(4)}`);
    for (const s of [...shownBefore, ...shownAfter]) expectPercentText(s.pct, s.p);
    // the moved distance, shown as its value
    const kl = figure.getByTestId('kl');
    const klValue = Number(await kl.getAttribute('data-value'));
    expect(klValue).toBeGreaterThan(0);
    expectNumberText((await kl.textContent()) ?? '', klValue);
    const tv = figure.getByTestId('tv');
    expectPercentText((await tv.textContent()) ?? '', Number(await tv.getAttribute('data-value')));
    await expect(figure.getByTestId('shape')).toContainText(`columns ${head * (Number(modelConfig.n_embd) / NH)} to`);

    // the ranking: every head, largest change first, each value as shown
    const items = figure.locator('.effects li');
    await expect(items).toHaveCount(Math.min(L * NH, L * NH <= 24 ? L * NH : 12));
    const ranked = await items.evaluateAll((lis) =>
      lis.map((li) => ({ layer: Number(li.dataset.layer), head: Number(li.dataset.head), kl: Number(li.dataset.value), text: li.querySelector('.num')?.textContent ?? '' }))
    );
    for (let i = 1; i < ranked.length; i++) expect(ranked[i - 1].kl).toBeGreaterThanOrEqual(ranked[i].kl);
    for (const e of ranked) expectNumberText(e.text, e.kl);
    // the ranked value of this head is the figure's own measure when the head is chosen
    const mine = ranked.find((e) => e.layer === layer && e.head === head);
    if (mine) expect(mine.kl).toBe(klValue);
    await expect(figure.locator('[data-testid="layers"] [data-layer]')).toHaveCount(L);

    // keyboard: the top-ranked head, chosen with Enter, shows its own before/after, equal to the CLI
    const topHead = ranked[0];
    await items.first().locator('button').focus();
    await resetLongTasks(page);
    await page.keyboard.press('Enter');
    await expect(figure).toHaveAttribute('data-layer', String(topHead.layer));
    await expect(figure).toHaveAttribute('data-head', String(topHead.head));
    const afterTop = trace(prompt, `${topHead.layer}.${topHead.head}`);
    await expect.poll(async () => barsDiff(await readBars(figure.getByTestId('after')), afterTop.top)).toBeLessThan(1e-6);
    await expect.poll(async () => Number(await kl.getAttribute('data-value'))).toBe(topHead.kl);
    await reportLongTasks(page, 'choosing a head to switch off in the ablation figure');
    await expect(figure).toHaveAttribute('aria-busy', 'false');
    expect(await busyFlipsWhileIdle(figure), 'passes run with nothing changed').toBe(0);
  });

  test("a whole layer's attention off equals the CLI's L.all; typing a new text re-ranks", async ({ page }) => {
    await open(page);
    const figure = page.locator('[data-widget="ablation"]');
    const text = 'She looked at the door and';
    await typeInto(figure, text);
    await figure.getByTestId('ablate-layer').selectOption('0');
    await figure.getByTestId('ablate-head').selectOption('all');
    await expect(figure).toHaveAttribute('data-head', 'all');
    const expected = trace(text, '0.all');
    await expect.poll(async () => barsDiff(await readBars(figure.getByTestId('after')), expected.top)).toBeLessThan(1e-6);
    await expect(figure.getByTestId('shape')).toContainText("Layer 0's attention adds nothing");
    // the layer line holds the same measure as the figure's KL for 0.all
    const kl = Number(await figure.getByTestId('kl').getAttribute('data-value'));
    await expect.poll(async () => Number(await figure.locator('[data-testid="layers"] [data-layer="0"]').getAttribute('data-value'))).toBe(kl);

    await resetLongTasks(page);
    await figure.getByLabel('Your text').pressSequentially(' then', { delay: 60 });
    const longer = trace(text + ' then', '0.all');
    await expect.poll(async () => barsDiff(await readBars(figure.getByTestId('after')), longer.top)).toBeLessThan(1e-6);
    await expect.poll(async () => Number(await figure.locator('[data-testid="layers"] [data-layer="0"]').getAttribute('data-value'))).toBe(
      Number(await figure.getByTestId('kl').getAttribute('data-value'))
    );
    await reportLongTasks(page, 'typing in the ablation figure (one pass per head re-ranked)');

    await figure.getByLabel('Your text').fill('');
    await expect(figure.getByTestId('empty-hint')).toBeVisible();
    await expect(figure.getByTestId('prompt-error')).toContainText('empty');
  });
});
