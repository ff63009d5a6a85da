// The model download failing in each way a network fails, as a reader meets it: every figure says
// what went wrong in words, and its Try again button (clicked here) downloads again and brings the
// figures' numbers back, once the network is well again.
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { modelDir, trace, waitForEngineError, waitForFigures } from './site';

const chapter = '/the-loop?backend=cpu';
const file = '**/models/*/model.safetensors';
const size = readFileSync(`${modelDir}/model.safetensors`).length;

// Click Try again in the first figure; the whole page recovers, with the engine's numbers.
async function tryAgain(page: Page) {
  await page.locator('figure.widget').first().getByTestId('engine-error').getByRole('button', { name: 'Try again' }).click();
  await waitForFigures(page);
  const first = page.locator('figure.widget').first();
  const prompt = await first.locator('ol.bars').getAttribute('data-prompt');
  const ids = await first.locator('ol.bars li').evaluateAll((li) => li.map((l) => Number(l.getAttribute('data-id'))));
  expect(ids).toEqual(trace(prompt!).top.map((t) => t.id));
}

test('a 404 for the parameter file: the server’s answer in words, then Try again works', async ({ page }) => {
  await page.route(file, (route) => route.fulfill({ status: 404, body: 'not here' }));
  await page.goto(chapter);
  for (const text of await waitForEngineError(page)) expect(text).toContain('Could not download model.safetensors: the server answered 404.');
  await page.unroute(file);
  await tryAgain(page);
});

for (const [what, reason] of [
  ['a network error (the connection is gone)', 'internetdisconnected'],
  ['an aborted request', 'aborted']
] as const) {
  test(`${what}: a message that says to check the connection, then Try again works`, async ({ page }) => {
    await page.route(file, (route) => route.abort(reason));
    await page.goto(chapter);
    for (const text of await waitForEngineError(page)) {
      expect(text).toMatch(/Could not download model\.safetensors: .+\. Check the connection and try again\./);
    }
    await page.unroute(file);
    await tryAgain(page);
  });
}

// A server that sends the headers and the first 64 kB, then drops the connection: what a phone
// going into a tunnel does to a download. Playwright cannot cut a response midway, so the request
// is sent on to this server.
test.describe('a download that breaks off midway', () => {
  let server: Server;
  let url = '';
  test.beforeAll(async () => {
    const bytes = readFileSync(`${modelDir}/model.safetensors`);
    server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length), 'access-control-allow-origin': '*' });
      res.write(bytes.subarray(0, 64 * 1024), () => setTimeout(() => res.socket?.destroy(), 100));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/model.safetensors`;
  });
  test.afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('says how far it got, then Try again works', async ({ page }) => {
    await page.route(file, (route) => route.continue({ url }));
    await page.goto(chapter);
    for (const text of await waitForEngineError(page)) {
      expect(text).toMatch(new RegExp(`The download of model\\.safetensors broke off after [\\d,]+ of ${size.toLocaleString('en')} bytes \\(.+\\)\\. Try again\\.`));
    }
    await page.unroute(file);
    await tryAgain(page);
  });
});
