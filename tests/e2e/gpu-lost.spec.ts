// The GPU lost in the middle of a reading session. Headless Chromium's WebGPU adapter is
// SwiftShader; the test keeps a handle on every device the engine worker creates and destroys
// them, which is how a lost device looks to the page (as in tests/engine/backends.test.ts). The
// page must keep the reader's text and settings, say that it moved to the CPU, and from then on
// show the CPU's numbers: the same as the command line's, exactly.
import { expect, test, type Worker } from '@playwright/test';
import { trace } from './site';

test('a GPU lost mid-session: text and settings kept, a notice, and the CPU’s numbers', async ({ page }) => {
  test.setTimeout(180_000); // SwiftShader runs the kernels on the CPU
  // Before the engine asks for a device, wrap requestDevice in the worker to keep what it returns.
  const workers: Worker[] = [];
  page.on('worker', (w) => {
    workers.push(w);
    void w.evaluate(() => {
      const g = globalThis as unknown as { __devices: GPUDevice[] };
      g.__devices = [];
      const request = GPUAdapter.prototype.requestDevice;
      GPUAdapter.prototype.requestDevice = async function (this: GPUAdapter, desc?: GPUDeviceDescriptor) {
        const device = await request.call(this, desc);
        g.__devices.push(device);
        return device;
      };
    }).catch(() => {});
  });
  await page.goto('/the-loop?backend=webgpu');
  const input = page.getByLabel('Text so far');
  await input.scrollIntoViewIfNeeded();
  await expect(page.locator('ol.bars li').first()).toBeVisible({ timeout: 90_000 }); // SwiftShader compiles the kernels
  await page.getByTestId('engine-toggle').click();
  await expect(page.getByTestId('backend-now')).toHaveText(/^WebGPU/);
  await page.keyboard.press('Escape');

  // the reader has typed a text and changed a generation setting
  const before = 'The old man sat by the';
  await input.fill(before);
  await expect(page.locator(`ol.bars[data-prompt="${before}"] li`)).toHaveCount(10);
  const generation = page.locator('figure.widget').filter({ hasText: 'The loop, one step at a time' });
  const seed = generation.getByLabel('Seed');
  await seed.fill('1234');

  const devices = await Promise.all(workers.map((w) => w.evaluate(() => (globalThis as unknown as { __devices?: GPUDevice[] }).__devices?.length ?? 0)));
  expect(devices.reduce((a, b) => a + b, 0), 'WebGPU devices the engine created').toBeGreaterThan(0);
  for (const w of workers) await w.evaluate(() => (globalThis as unknown as { __devices?: GPUDevice[] }).__devices?.forEach((d) => d.destroy()));

  // the next pass fails on the GPU and is recomputed on the CPU
  const after = 'The old man sat by the fire';
  await input.fill(after);
  await expect(page.getByTestId('engine-notice')).toContainText('WebGPU failed, continuing on the CPU');
  const bars = page.locator(`ol.bars[data-prompt="${after}"] li`);
  await expect(bars).toHaveCount(10);
  await expect(input).toHaveValue(after);
  await expect(seed).toHaveValue('1234');
  await page.getByTestId('engine-toggle').click();
  await expect(page.getByTestId('backend-now')).toHaveText(/^CPU/);
  await page.keyboard.press('Escape');

  // the CPU's numbers, exactly the command line's (the same float32 code)
  const shown = await bars.evaluateAll((lis) => lis.map((li) => ({ id: Number(li.getAttribute('data-id')), p: Number(li.getAttribute('data-p')) })));
  const expected = trace(after).top;
  expect(shown.map((s) => s.id)).toEqual(expected.map((t) => t.id));
  for (const [i, s] of shown.entries()) expect(s.p).toBeCloseTo(expected[i].p, 6);
});
