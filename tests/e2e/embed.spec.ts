// The embed pages a teacher puts in a slide: /embed/<name>?<state>. For every registered widget:
// the state in the link is applied and the numbers shown are the engine's for that state (compared
// with `npm run trace`); an interaction writes the new state into the address; hostile values in
// every parameter are shown as text or dropped with a note, never run; the page fits 320×240 and
// 1920×1080; the height is posted to the parent. The pages run with ?backend=cpu, the same float32
// arithmetic as the command line.
import { readFileSync } from 'node:fs';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { modelConfig, trace, waitForFigures } from './site';
import { widgets, type Param, type WidgetEntry } from '../../src/lib/embed/registry';

const L = Number(modelConfig.n_layer);
const nh = Number(modelConfig.n_head);
const text = 'The dog chased the cat into the old barn.';
let traced: ReturnType<typeof trace> | null = null;
const want = () => (traced ??= trace(text));

test.describe.configure({ timeout: 120_000 });

// a state for each parameter that differs from the widget's default and is valid for any model
function chosen(p: Param): string {
  switch (p.name) {
    case 'text': return text;
    // the last layer and head (a figure with a model of its own, like the live training, has fewer)
    case 'layer': return String(p.type === 'int' && typeof p.max === 'number' ? Math.min(L - 1, p.max) : L - 1);
    case 'head': return String(p.type === 'int' && typeof p.max === 'number' ? Math.min(nh - 1, p.max) : nh - 1);
    case 'token': return '3';
    case 'key': return '1';
    case 'temperature': return '0.5';
    case 'top_k': return '5';
    case 'top_p': return '0.9';
    case 'seed': return '7';
    case 'step': return p.type === 'int' && p.max === 3 ? '3' : '2'; // a short text has only a few merges
    case 'merges': return '12';
    case 'new_text': return 'the other cat';
    case 'query': return 'she';
    case 'mode': return 'sentence';
    case 'view': return 'scores';
    case 'words': return 'father,man,woman,mother';
    case 'tensor': return 'h.0.attn.c_attn.weight';
    case 'other': return 'Cat the the into dog barn old chased.';
    case 'paragraphs': return '3';
    case 'force': return String(want().ids[1]); // a token the model knows
    case 'precision': return 'int8';
    case 'block': return '1';
    case 'rank': return '8';
    case 'max_tokens': return '10';
  }
  throw new Error(`no test value for parameter ${p.name}: add one here`);
}

function url(entry: WidgetEntry, values: Record<string, string>, extra = 'backend=cpu'): string {
  const q = new URLSearchParams(values).toString();
  return `/embed/${entry.name}?${[q, extra].filter(Boolean).join('&')}`;
}

const inputValues = (fig: Locator) => fig.evaluate((el) => [...el.querySelectorAll('textarea, input:not([type=radio]):not([type=checkbox]):not([type=range])')].map((i) => (i as HTMLInputElement).value));

// a widget that calls onstate (chapter 1's widgets are being reworked to do so)
const hasOnstate = (entry: WidgetEntry) => {
  const file = { 'next-token': 'NextTokenDistribution', generation: 'GenerationSteps', 'parameter-file': 'ParameterFile' }[entry.name];
  return !file || readFileSync(`src/lib/widgets/${file}.svelte`, 'utf8').includes('onstate');
};

for (const entry of widgets) {
  test(`${entry.name}: the link's state is applied, with the engine's numbers`, async ({ page }) => {
    const values = Object.fromEntries(entry.params.map((p) => [p.name, chosen(p)]));
    await page.goto(url(entry, values));
    await waitForFigures(page);
    const fig = page.locator('figure.widget').first() /* the page's one figure (chapter 1's do not all carry data-widget yet) */;
    await expect(page.getByTestId('link-notes'), 'a valid state needs no note').toHaveCount(0);
    // texts are in their boxes
    const texts = entry.params.filter((p) => p.type === 'text' || p.type === 'words');
    const shown = await inputValues(fig);
    for (const p of texts) {
      if (p.type === 'words') expect(shown.slice(0, 4)).toEqual(values[p.name].split(','));
      else if (p.name !== 'tensor') expect(shown, `${p.name} in its box`).toContain(values[p.name]);
    }
    // numbers the frame reports as data-*: layer, head, token, step, the sampling settings
    for (const [name, attr] of [['layer', 'layer'], ['head', 'head'], ['token', 'token'], ['step', 'step'], ['temperature', 'temperature'], ['top_k', 'top-k'], ['top_p', 'top-p'], ['seed', 'first-seed'], ['mode', 'mode'], ['view', 'view']]) {
      if (!(name in values)) continue;
      const has = await fig.getAttribute(`data-${attr}`);
      if (has !== null) await expect(fig, `data-${attr}`).toHaveAttribute(`data-${attr}`, values[name]);
    }
    // the tokens drawn for the link's text are the engine's (bpe draws its own merges instead)
    // (bpe draws its own merges; guess reveals its sentence a token at a time)
    if (values.text === text && entry.name !== 'bpe' && entry.name !== 'guess') {
      const strip = fig.locator('[role=listbox], [role=list]').filter({ has: page.locator('[data-id]') }).first();
      if (await strip.count()) {
        const ids = await strip.locator('[data-id]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-id'))));
        expect(ids).toEqual(want().ids);
      }
    }
    // and the state's numbers: attention weights of the chosen layer, head and token
    if (entry.name === 'attention') {
      const row = want().layers[L - 1].heads[nh - 1].weights[3];
      await fig.getByRole('radio', { name: /weights/ }).check(); // the view was scores; weights are in the row table either way
      const w = await fig.locator('table.row td.w').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
      expect(w.length).toBe(want().ids.length);
      for (let j = 0; j <= 3; j++) expect(Math.abs(w[j] - row[j]), `weight ${j}`).toBeLessThan(1e-5);
    }
    if (entry.name === 'causal-mask') {
      // step 3 is the softmax: the map holds the weights
      const row = want().layers[L - 1].heads[nh - 1].weights[3];
      for (let j = 0; j <= 3; j++) {
        const v = Number(await fig.locator(`[data-row="3"][data-col="${j}"][data-value]`).first().getAttribute('data-value'));
        expect(Math.abs(v - row[j]), `weight 3,${j}`).toBeLessThan(1e-5);
      }
    }
    if (entry.name === 'next-token') {
      const top = fig.locator('[data-rank="0"]').first();
      await expect(top).toHaveAttribute('data-id', String(want().top[0].id));
    }
  });

  if (hasOnstate(entry)) {
    test(`${entry.name}: changing the figure updates the address, without new history entries`, async ({ page }) => {
      await page.goto(url(entry, {}));
      await waitForFigures(page);
      const fig = page.locator('figure.widget').first() /* the page's one figure (chapter 1's do not all carry data-widget yet) */;
      const before = await page.evaluate(() => history.length);
      const q = () => new URL(page.url()).searchParams;
      const textParam = entry.params.find((p) => p.type === 'text' && p.name === 'text');
      if (textParam) {
        const box = fig.locator('textarea').first();
        await box.fill('A new text for the link.');
        await expect.poll(() => q().get('text')).toBe('A new text for the link.');
      } else if (entry.name === 'languages') {
        await fig.getByRole('radio', { name: 'Sentence' }).check();
        await expect.poll(() => q().get('mode')).toBe('sentence');
      } else if (entry.name === 'arithmetic') {
        await fig.locator('input[type=text]').first().fill('father');
        await expect.poll(() => q().get('words')?.split(',')[0]).toBe('father');
      } else if (entry.name === 'parameter-file') {
        await fig.getByRole('button', { name: /^wpe\.weight:/ }).click();
        await expect.poll(() => q().get('tensor')).toBe('wpe.weight');
      } else if (entry.params.length === 0) {
        // nothing to change: the address stays as it came
        await fig.locator('.title').first().click();
        expect([...q().keys()]).toEqual(['backend']);
      } else if (await fig.locator('input[type=range], select, input[type=radio]:not(:checked)').first().waitFor({ timeout: 20_000 }).then(() => true, () => false)) {
        // a slider or a menu of the figure's own: one step of it is a new state in the address
        const control = fig.locator('input[type=range], select, input[type=radio]:not(:checked)').first();
        if (await control.evaluate((el) => el.getAttribute('type') === 'radio')) {
          await control.check();
        } else if (await control.evaluate((el) => el.tagName === 'SELECT')) {
          const values = await control.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
          const now = await control.inputValue();
          await control.selectOption(values.find((v) => v !== now)!);
        } else {
          await control.focus();
          await control.press('ArrowRight');
        }
        await expect.poll(() => [...q().keys()].filter((k) => k !== 'backend').length).toBeGreaterThan(0);
      } else throw new Error(`no interaction for ${entry.name}: add one here`);
      expect(q().get('backend'), 'the page keeps its own parameters').toBe('cpu');
      expect(await page.evaluate(() => history.length)).toBe(before);
    });
  }
}

// Values an attacker might put in a link, all in one string, so one page load tries them all in
// every parameter at once.
const hostile = [
  '<img src=x onerror="window.__pwned=1" data-pwned>',
  'javascript:window.__pwned=1',
  '</script><script>window.__pwned=1</script>',
  '"><svg onload=window.__pwned=1 data-pwned>'
].join(' ');
// raw in the query string: malformed percent-encoding and lone surrogates (as UTF-8 bytes and as %uD800)
const rawHostile = '%E0%A4%A%ZZ%%ED%A0%80%uD800%F0%9F%98%';
// longer than the text cap (the server refuses over 16 kB of request line, so not in every parameter)
const long = 'x'.repeat(2_500);

test.describe('hostile values in every parameter', () => {
  for (const entry of widgets) {
    test(`${entry.name}: hostile parameters are shown as text or dropped with a note`, async ({ page }) => {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('dialog', (d) => {
        errors.push(`dialog: ${d.message()}`);
        void d.dismiss();
      });
      const names = [...entry.params.map((p) => p.name), 'theme', 'unknown_key'];
      const longNames = [...entry.params.filter((p) => p.type === 'text').map((p) => p.name), entry.params.find((p) => p.type !== 'text')?.name ?? 'theme'];
      const cases = [
        names.map((n) => `${encodeURIComponent(n)}=${encodeURIComponent(hostile)}`).join('&'),
        // malformed encodings, then a lone surrogate in the string itself (the browser sends it
        // as U+FFFD), in one value
        names.map((n) => `${n}=${rawHostile}a\uD800b`).join('&'),
        longNames.map((n) => `${n}=${long}`).join('&')
      ];
      for (const query of cases) {
        await page.goto(`/embed/${entry.name}?${query}&backend=cpu`);
        const fig = page.locator('figure.widget').first() /* the page's one figure (chapter 1's do not all carry data-widget yet) */;
        await expect(fig).toBeVisible();
        await expect(page.locator('[data-pwned]')).toHaveCount(0);
        expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
        // every box holds well-formed text no longer than the cap
        for (const v of await inputValues(fig)) {
          expect(v.length).toBeLessThanOrEqual(16 * Number(modelConfig.n_positions));
          expect(v.isWellFormed(), `well-formed: ${v.slice(0, 30)}`).toBe(true);
        }
        // a text from the link is in its box as the very characters of the link: text, not markup
        const textParam = entry.params.find((p) => p.type === 'text' && p.name !== 'tensor');
        if (textParam && query === cases[0]) expect(await inputValues(fig)).toContain(hostile);
        if (textParam && query === cases[2]) expect(await inputValues(fig)).toContain(long.slice(0, 16 * Number(modelConfig.n_positions)));
      }
      expect(errors, 'no script error, no dialog').toEqual([]);
    });
  }
});

test('a value out of range is clamped, with a note the reader can see', async ({ page }) => {
  await page.goto(`/embed/attention?layer=99&head=-3&token=abc&view=nope&backend=cpu`);
  await waitForFigures(page);
  const fig = page.locator('figure[data-widget="attention"]');
  await expect(fig).toHaveAttribute('data-layer', String(L - 1));
  await expect(fig).toHaveAttribute('data-head', '0');
  const notes = page.getByTestId('link-notes');
  await expect(notes).toContainText('layer: 99 is out of range');
  await expect(notes).toContainText('head: -3 is out of range');
  await expect(notes).toContainText('token: "abc" is not a whole number');
  await expect(notes).toContainText('view: "nope" is not one of weights, scores');
});

test('a text longer than the context is cut, with a note', async ({ page }) => {
  const long = 'the cat sat. '.repeat(400);
  await page.goto(`/embed/tokenizer?text=${encodeURIComponent(long)}&backend=cpu`);
  await waitForFigures(page);
  const cap = 16 * Number(modelConfig.n_positions);
  await expect(page.getByTestId('link-notes')).toContainText(`the first ${cap.toLocaleString('en')} are kept`);
  expect((await inputValues(page.locator('figure[data-widget="tokenizer"]')))[0].length).toBe(cap);
});

for (const [w, h] of [[320, 240], [1920, 1080]]) {
  test(`embeds fit a ${w}×${h} frame`, async ({ page }) => {
    await page.setViewportSize({ width: w, height: h });
    for (const name of ['attention', 'sampling', 'tokenizer']) {
      await page.goto(`/embed/${name}?backend=cpu`);
      await waitForFigures(page);
      const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(over, `${name}: no sideways scrolling`).toBeLessThanOrEqual(0);
      const box = (await page.locator('figure.widget').boundingBox())!;
      expect(box.width).toBeGreaterThan(w * 0.85); // it fills its frame
      expect(box.x).toBeGreaterThanOrEqual(0);
    }
  });
}

test('theme=dark and theme=light override the viewer’s setting', async ({ browser }) => {
  for (const [scheme, theme] of [['light', 'dark'], ['dark', 'light']] as const) {
    const context = await browser.newContext({ colorScheme: scheme });
    const page = await context.newPage();
    await page.goto(`/embed/sampling?theme=${theme}&backend=cpu`);
    // from the first paint, before the page's code has run (it is read as soon as the page loads)
    const first = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(theme === 'dark' ? Number(first.match(/\d+/)![0]) < 60 : Number(first.match(/\d+/)![0]) > 200, `${theme} background at load ${first}`).toBe(true);
    await expect(page.locator('figure.widget')).toHaveCount(1);
    await waitForFigures(page);
    const red = (css: string) => Number(css.match(/\d+/)![0]);
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(theme === 'dark' ? red(bg) < 60 : red(bg) > 200, `${theme} background ${bg}`).toBe(true);
    // and the marks with colours of their own follow it too: the token tints
    await page.goto(`/embed/tokenizer?theme=${theme}&backend=cpu`);
    await expect(page.locator('figure.widget')).toHaveCount(1);
    await waitForFigures(page);
    const chip = await page.locator('.tinted .chip').first().evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(theme === 'dark' ? red(chip) < 90 : red(chip) > 180, `${theme} token tint ${chip}`).toBe(true);
    await context.close();
  }
});

test('an embed posts its height to the page that frames it', async ({ page }) => {
  await page.goto('/');
  const height = await page.evaluate(
    () =>
      new Promise<number>((done) => {
        addEventListener('message', (e) => {
          if (e.data?.type === 'explorable-llm:resize' && e.data.height > 300) done(e.data.height);
        });
        const frame = document.createElement('iframe');
        frame.src = '/embed/sampling?backend=cpu';
        frame.width = '800';
        frame.height = '400';
        document.body.append(frame);
      })
  );
  expect(height).toBeGreaterThan(300);
});

test('the embed pages ignore keys they do not know and keep the page parameters', async ({ page }) => {
  await page.goto('/embed/residual?evil=1&token=2&theme=auto&backend=cpu');
  await waitForFigures(page);
  await expect(page.getByTestId('link-notes')).toHaveCount(0);
  const fig = page.locator('figure[data-widget="residual"]');
  await expect(fig.getByRole('option').nth(2)).toHaveAttribute('aria-selected', 'true');
});

export type { Page };
