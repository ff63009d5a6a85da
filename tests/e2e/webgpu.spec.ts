// The WebGPU backend in Chromium (SwiftShader in CI, from --enable-unsafe-webgpu in
// playwright.config.ts): the /dev/parity page runs the same parity scenario as the Node suite
// (engine/backends/webgpu/parity.ts) and shows the largest difference per case. It must run on
// WebGPU: a fallback to the CPU would compare the reference with itself, so it fails the test.
import { expect, test } from '@playwright/test';

const tolerance = 1e-4; // parityTolerance in engine/backends/webgpu/parity.ts

interface Row {
  model: string;
  case: string;
  key: string;
  shape: string;
  rel: number;
  maxAbs: number;
}

test('every traced tensor of WebGPU in Chromium equals the CPU reference, on the shipped model and random ones', async ({ page }) => {
  test.setTimeout(180_000); // SwiftShader compiles and runs the kernels on the CPU
  await page.goto('/dev/parity');
  const section = page.locator('section[data-parity]');
  await expect(section).toHaveAttribute('data-status', /^(done|failed)$/, { timeout: 170_000 });
  const result = JSON.parse((await section.getAttribute('data-parity')) ?? '{}') as {
    status: string;
    backend: string;
    device: string;
    fallbacks: string[];
    rows: Row[];
    error: string | null;
  };
  console.log(`WebGPU in Chromium: ${result.device}`);
  for (const r of result.rows) console.log(`  ${r.model}, ${r.case}: ${r.rel.toExponential(2)} (abs ${r.maxAbs.toExponential(2)}, at ${r.key} ${r.shape})`);

  expect(result.error).toBeNull();
  expect(result.fallbacks).toEqual([]);
  expect(result.backend).toBe('webgpu');
  expect(result.rows).toHaveLength(3 * 5); // three models, five cases each
  for (const r of result.rows) expect(r.rel, `${r.model}, ${r.case}: ${r.key}`).toBeLessThanOrEqual(tolerance);

  // what the reader of the page sees is what was measured
  await expect(page.locator('.status')).toContainText(result.device);
  await expect(section.locator('tbody tr')).toHaveCount(result.rows.length);
  await expect(section.locator('tbody tr.fail')).toHaveCount(0);
});
