// A reader opens a GPT-2-shaped folder of their own. The folders are written here, at test time,
// with random weights (`npm run init-model`) in a shape unlike the shipped model's (3 layers, 2
// heads, C = 64, context 64, vocabulary 600), so a figure that assumed the shipped shape would show
// it. The figures' numbers are compared with `npm run trace --model` on the same folder; bad folders
// must give a clear error and leave the model in use; nothing may be requested while a folder opens.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { chapterSlugs, modelConfig, trace, waitForFigures, type TraceOutput } from './site';
import { folderFiles as files, modelPanel as panel, openFolder, pickFiles as openFiles, smallShape as shape, writeSmallFolder } from './opened';
import { countParams, parseConfig } from '../../engine/config';
import { serializeSafetensors, parseSafetensors } from '../../engine/safetensors';
import { Tokenizer } from '../../engine/tokenizer';

// GPT-2's files write each byte as one printable character: printable Latin-1 bytes as themselves,
// the others as the characters from U+0100 on, in byte order
const gpt2ByteChars: string[] = [];
for (let b = 0, next = 256; b < 256; b++) {
  const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  gpt2ByteChars.push(String.fromCharCode(printable ? b : next++));
}

test.describe.configure({ timeout: 180_000 });

let root = '';
let small = '';
const traceDir = (dir: string, prompt: string): TraceOutput => trace(prompt, undefined, { model: dir });

// A copy of the small folder with one file replaced (or removed, with null).
function variant(name: string, change: Record<string, string | Uint8Array | null>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) if (!(f in change)) copyFileSync(join(small, f), join(dir, f));
  for (const [f, data] of Object.entries(change)) if (data !== null) writeFileSync(join(dir, f), data);
  return dir;
}

test.beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'open-model-'));
  small = writeSmallFolder(join(root, 'small-test'));
});

test.afterAll(() => rmSync(root, { recursive: true, force: true }));


async function firstTop(page: Page): Promise<{ prompt: string; ids: number[] }> {
  const first = page.locator('figure.widget').first();
  const prompt = (await first.locator('ol.bars').getAttribute('data-prompt'))!;
  const ids = await first.locator('ol.bars li').evaluateAll((li) => li.map((l) => Number(l.getAttribute('data-id'))));
  return { prompt, ids };
}

test('an opened folder runs every figure of chapter 1 with the CLI’s numbers, and nothing is requested while it opens', async ({ page }) => {
  await page.goto('/the-loop?backend=cpu');
  await waitForFigures(page);
  const before = await firstTop(page);
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));

  await openFiles(page, files(small));
  const plan = page.getByTestId('model-plan');
  await expect(plan).toContainText('3 layers, 2 heads, C = 64, vocabulary 600, context 64');
  // the memory it will take, before it starts: two float32 copies of the weights, the file, caches
  const nParams = countParams(parseConfig(readFileSync(join(small, 'config.json'), 'utf8')));
  const memory = Number(await page.getByTestId('model-memory').getAttribute('data-value'));
  expect(memory).toBeGreaterThan(2 * 4 * nParams);
  await page.getByTestId('model-open').click();
  await expect(page.getByTestId('model-control')).toHaveAttribute('data-model', 'small-test');
  await expect(page.getByTestId('model-control')).toHaveAttribute('data-opened', 'true');
  await waitForFigures(page);
  expect(requests, 'requests while the folder opened and the figures recomputed').toEqual([]);

  const after = await firstTop(page);
  expect(after.prompt).toBe(before.prompt);
  expect(after.ids).toEqual(traceDir(small, after.prompt).top.map((t) => t.id));
  expect(after.ids.every((id) => id < shape.vocab)).toBe(true);
  await expect(page.getByTestId('model-now')).toContainText(`${nParams.toLocaleString('en')} parameters`);

  // the model lasts for the visit: another chapter, reached by a link, runs it too
  await page.getByRole('link', { name: 'Chapters' }).click();
  await page.locator('a[href$="/attention"]').first().click();
  await expect(page.getByTestId('model-control')).toHaveAttribute('data-model', 'small-test');
  const fig = page.locator('figure[data-widget="attention"]');
  await fig.scrollIntoViewIfNeeded();
  await expect(fig).toHaveAttribute('data-ready', '');
  // the layer and head pickers count the opened model's layers and heads
  await expect(fig.getByRole('group', { name: 'Layer' }).getByRole('radio')).toHaveCount(shape.layers);
  await expect(fig.getByRole('group', { name: 'Head' }).getByRole('radio')).toHaveCount(shape.heads);
  expect(requests.filter((u) => /models\//.test(u)), 'the shipped model is not fetched again').toEqual([]);
});

test('a folder picked as a folder, with vocab.json + merges.txt instead of tokenizer.json, opens the same model', async ({ page }) => {
  // GPT-2's own tokenizer files, written from our tokenizer: bytes in GPT-2's printable alphabet
  const tok = Tokenizer.fromJSON(readFileSync(join(small, 'tokenizer.json'), 'utf8'));
  const name = (id: number) => [...tok.tokenBytes(id)].map((b) => gpt2ByteChars[b]).join('');
  const vocab: Record<string, number> = {};
  for (let id = 0; id < tok.vocabSize - 1; id++) vocab[name(id)] = id;
  vocab['<|endoftext|>'] = tok.eotId;
  const merges = ['#version: 0.2', ...tok.merges.map((m) => `${name(m.pair[0])} ${name(m.pair[1])}`)].join('\n') + '\n';
  const dir = join(root, 'gpt2-files');
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(small, 'config.json'), join(dir, 'config.json'));
  copyFileSync(join(small, 'model.safetensors'), join(dir, 'model.safetensors'));
  writeFileSync(join(dir, 'vocab.json'), JSON.stringify(vocab));
  writeFileSync(join(dir, 'merges.txt'), merges);
  writeFileSync(join(dir, 'README.md'), 'not read');

  await page.goto('/the-loop?backend=cpu');
  await waitForFigures(page);
  await openFiles(page, dir, { folder: true });
  await page.getByTestId('model-open').click();
  await expect(page.getByTestId('model-control')).toHaveAttribute('data-model', 'small-test');
  await waitForFigures(page);
  const after = await firstTop(page);
  expect(after.ids).toEqual(traceDir(dir, after.prompt).top.map((t) => t.id));
});

test('bad folders: each says what is wrong, and the model in use keeps running', async ({ page }) => {
  const st = readFileSync(join(small, 'model.safetensors'));
  const config = JSON.parse(readFileSync(join(small, 'config.json'), 'utf8'));
  const { tensors } = parseSafetensors(new Uint8Array(st));
  const without = serializeSafetensors([...tensors].filter(([n]) => n !== 'h.1.mlp.c_fc.weight'));
  const cases: [string, string[], RegExp][] = [
    ['truncated', files(variant('truncated', { 'model.safetensors': st.subarray(0, Math.floor(st.length / 2)) })), /cut short|does not fit|do not fit/],
    ['missing tensor', files(variant('missing', { 'model.safetensors': without })), /tensor "h\.1\.mlp\.c_fc\.weight" is missing/],
    ['other architecture', files(variant('relu', { 'config.json': JSON.stringify({ ...config, activation_function: 'relu' }) })), /other than GPT-2/],
    ['vocabulary', files(variant('vocab', { 'config.json': JSON.stringify({ ...config, vocab_size: 700 }) })), /tokenizer has 600 tokens but config\.json says the model has 700/],
    ['no tokenizer', files(small, ['config.json', 'model.safetensors']), /missing: tokenizer\.json/],
    ['corrupt header', files(variant('garbage', { 'model.safetensors': new Uint8Array(st.length).fill(0x41) })), /header claims|Corrupt parameter file/]
  ];
  await page.goto('/the-loop?backend=cpu');
  await waitForFigures(page);
  const shipped = await page.getByTestId('model-control').getAttribute('data-model');
  const before = await firstTop(page);
  for (const [what, paths, message] of cases) {
    await openFiles(page, paths);
    // some folders are refused as soon as they are picked (their plan fails), the others once
    // opened: wait for whichever this one does (the plan is read asynchronously), then open it
    const open = page.getByTestId('model-open');
    const error = page.getByTestId('model-error');
    await expect(open.or(error.filter({ hasText: message })), what).toBeVisible();
    if (await open.isVisible()) await open.click();
    await expect(error, what).toHaveText(message);
    await expect(page.getByTestId('model-control')).toHaveAttribute('data-model', shipped!);
  }
  // the figures still run the shipped model: a new pass gives its numbers
  expect(Number(modelConfig.vocab_size)).toBeGreaterThan(0);
  const first = page.locator('figure.widget').first();
  await expect(first.locator('ol.bars li').first()).toHaveAttribute('data-id', String(before.ids[0]));
});

test('Cancel while it is read stops the open, and the model in use stays', async ({ page }) => {
  // a larger folder so the read takes a while: 8 layers at C = 256
  const big = join(root, 'larger');
  execFileSync('npm', ['run', '--silent', 'init-model', '--', '--vocab', '600', '--layers', '8', '--heads', '4', '--embd', '256', '--context', '64', '--name', 'larger', '--out', big], { stdio: 'ignore' });
  // a slow disk: each chunk the page reads from a picked file arrives 40 ms late, so the read
  // lasts seconds however fast this machine is (26 MB in 64 kB chunks: about 16 s)
  await page.addInitScript(() => {
    const stream = Blob.prototype.stream;
    Blob.prototype.stream = function (this: Blob) {
      const slow = new TransformStream({ transform: (chunk, out) => new Promise<void>((done) => setTimeout(() => (out.enqueue(chunk), done()), 40)) });
      return stream.call(this).pipeThrough(slow);
    };
  });
  await page.goto('/the-loop?backend=cpu');
  await waitForFigures(page);
  const shipped = await page.getByTestId('model-control').getAttribute('data-model');
  await openFiles(page, files(big));
  await page.getByTestId('model-open').click();
  await expect(page.getByTestId('model-progress')).toBeVisible();
  await page.getByTestId('model-cancel').click();
  await expect(page.getByTestId('model-error')).toContainText('cancelled');
  await expect(page.getByTestId('model-control')).toHaveAttribute('data-model', shipped!);
  await waitForFigures(page);
});

test('Keep it in this browser: the next visit offers it again, it opens from storage, and Forget removes it', async ({ page }) => {
  await page.goto('/the-loop?backend=cpu');
  await waitForFigures(page);
  await openFiles(page, files(small));
  await page.getByTestId('model-keep').check();
  await page.getByTestId('model-open').click();
  await expect(page.getByTestId('model-control')).toHaveAttribute('data-model', 'small-test');
  await expect(page.getByTestId('model-kept')).toHaveAttribute('data-name', 'small-test');
  await expect(page.getByTestId('model-progress'), 'no progress once it is open (a late report must not bring it back)').toHaveCount(0);

  // the next visit: the site's model runs, and the kept one is offered
  await page.reload();
  await waitForFigures(page);
  const shipped = await page.getByTestId('model-control').getAttribute('data-model');
  expect(shipped).not.toBe('small-test');
  await panel(page);
  await expect(page.getByTestId('model-kept')).toContainText('small-test');
  await page.locator('[data-testid="model-control"] [role="group"]').screenshot({ path: 'test-results/screens/model-kept.png' }); // for a person to look at
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.getByTestId('model-kept-open').click();
  await expect(page.getByTestId('model-plan')).toContainText('3 layers, 2 heads, C = 64, vocabulary 600, context 64');
  await expect(page.getByTestId('model-keep'), 'already kept: no second offer').toHaveCount(0);
  await page.getByTestId('model-open').click();
  await expect(page.getByTestId('model-control')).toHaveAttribute('data-model', 'small-test');
  await waitForFigures(page);
  expect(requests, 'opened from storage without a request').toEqual([]);
  const after = await firstTop(page);
  expect(after.ids).toEqual(traceDir(small, after.prompt).top.map((t) => t.id));

  // Forget: gone now and on the next visit
  await panel(page);
  await page.getByTestId('model-forget').click();
  await expect(page.getByTestId('model-kept')).toHaveCount(0);
  await page.reload();
  await waitForFigures(page);
  await panel(page);
  await expect(page.getByTestId('model-drop')).toBeVisible();
  await expect(page.getByTestId('model-kept')).toHaveCount(0);
});

test('every chapter runs on an opened model: each figure shows numbers, none an engine error', async ({ page }) => {
  test.setTimeout(600_000);
  await page.goto('/the-loop?backend=cpu');
  await waitForFigures(page);
  await openFolder(page, small);
  await waitForFigures(page);
  // chapter to chapter by the site's own links, as a reader would (the model lasts for the visit)
  for (const slug of chapterSlugs.filter((s) => s !== 'the-loop')) {
    await page.getByRole('link', { name: 'Chapters' }).click();
    await page.locator(`a[href$="/${slug}"]`).first().click();
    await expect(page).toHaveURL(new RegExp(`/${slug}`));
    await expect(page.getByTestId('model-control'), slug).toHaveAttribute('data-model', 'small-test');
    await waitForFigures(page); // fails on any figure's engine error
    if (slug === 'attention') {
      // and a figure's numbers are the CLI's for the opened folder: the inspector's row of weights
      const fig = page.locator('figure[data-widget="attention"]');
      const text = await fig.locator('textarea').first().inputValue();
      const want = traceDir(small, text);
      const [layer, head] = [Number(await fig.getAttribute('data-layer')), Number(await fig.getAttribute('data-head'))];
      const i = Math.min(3, want.ids.length - 1);
      await fig.getByRole('listbox').first().getByRole('option').nth(i).click();
      await expect(fig).toHaveAttribute('data-token', String(i));
      const shown = await fig.locator('table.row td.w').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
      const row = want.layers[layer].heads[head].weights[i];
      for (let j = 0; j <= i; j++) expect(Math.abs(shown[j] - row[j]), `attention weight ${i},${j} on the opened model`).toBeLessThan(1e-5);
    }
    // a figure may say plainly what this model cannot do (a context of 64 tokens cuts long texts)
    for (const note of await page.locator('figure.widget [data-testid="prompt-error"]').allInnerTexts()) console.log(`${slug}: ${note}`);
  }
});

test('on an opened model the neurons figure finds where each neuron fires, as `npm run neurons --model` does', async ({ page }) => {
  // the CLI's answer for the same folder (it writes neurons.json into it, as it does for ours)
  const dir = variant('neurons', {});
  execFileSync('npm', ['run', '--silent', 'neurons', '--', '--model', dir], { stdio: 'ignore' });
  const file = JSON.parse(readFileSync(join(dir, 'neurons.json'), 'utf8')) as { layers: number[][][]; source: string };

  await page.goto('/block?backend=cpu');
  await waitForFigures(page);
  await openFolder(page, dir);
  await waitForFigures(page);
  const fig = page.locator('figure[data-widget="neurons"]');
  await fig.scrollIntoViewIfNeeded();
  // not precomputed for this model: the figure says so and offers to find them, with progress
  await expect(fig.getByTestId('examples-find-note')).toBeVisible();
  await expect(fig.locator('.contexts li')).toHaveCount(0);
  await fig.getByTestId('neurons-find').click();
  await expect(fig.locator('.contexts li').first()).toBeVisible({ timeout: 120_000 });
  await expect(fig.getByTestId('examples')).toContainText(`${file.source}, for small-test (found in your browser)`);

  // the examples on show, flat as neurons.json holds them: window, token, activation, …
  const shown = () => fig.locator('.contexts li').evaluateAll((lis) => lis.flatMap((li) => [Number(li.getAttribute('data-window')), Number(li.getAttribute('data-t')), Number(li.querySelector('[data-value]')!.getAttribute('data-value'))]));
  const [layer, neuron] = [Number(await fig.getAttribute('data-layer')), Number(await fig.getAttribute('data-neuron'))];
  expect(await shown(), `layer ${layer}, neuron ${neuron}`).toEqual(file.layers[layer][neuron]);
  // another layer and neuron, from the same search
  const other = (layer + 1) % shape.layers;
  await fig.getByRole('group', { name: 'layer' }).getByRole('button', { name: String(other), exact: true }).click();
  await expect(fig).toHaveAttribute('data-layer', String(other));
  await fig.locator('.ranked button').nth(1).click();
  const n2 = Number(await fig.getAttribute('data-neuron'));
  await expect.poll(shown).toEqual(file.layers[other][n2]);
});
