// npm test: unit tests, a production build, then the browser tests against that build.
// Finds a Chromium by itself: the system's (/usr/bin/chromium, or CHROMIUM_PATH) when there is one,
// otherwise Playwright's own, downloading it only if it is missing.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { ensureModel } from './model.mjs';

function step(title, command, args, env = {}) {
  console.log(`\n▶ ${title}`);
  const r = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) {
    console.error(`\n✖ ${title} failed (${r.error?.message ?? `exit code ${r.status}`})`);
    process.exit(r.status || 1);
  }
}

async function findChromium() {
  const system = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (existsSync(system)) return { env: { CHROMIUM_PATH: system }, label: system };
  const { chromium } = await import('@playwright/test');
  if (!existsSync(chromium.executablePath())) {
    console.log(`\n▶ no ${system}; installing Playwright's Chromium`);
    const r = spawnSync('npx', ['playwright', 'install', 'chromium'], { stdio: 'inherit' });
    if (r.status !== 0 || !existsSync(chromium.executablePath())) {
      console.error(
        '\n✖ No browser for the browser tests. Install Chromium (Debian/Ubuntu: apt-get install chromium),\n' +
          '  set CHROMIUM_PATH to a Chromium or Chrome binary, or allow `npx playwright install chromium`\n' +
          '  to download one.'
      );
      process.exit(1);
    }
  }
  return { env: {}, label: chromium.executablePath() };
}

try {
  ensureModel();
} catch (e) {
  console.error(`\n✖ ${e.message}`);
  process.exit(1);
}
rmSync('test-results/vitest.json', { force: true });
rmSync('test-results/playwright.json', { force: true });
step('unit tests (vitest)', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=test-results/vitest.json']);
step('build (vite build)', 'npx', ['vite', 'build']);
const browser = await findChromium();
step(`browser tests (playwright, ${browser.label})`, 'npx', ['playwright', 'test'], browser.env);
// one closing line over both runners, in the plain "N passed, N failed" form CI reads
const unit = JSON.parse(readFileSync('test-results/vitest.json', 'utf8'));
const e2e = JSON.parse(readFileSync('test-results/playwright.json', 'utf8')).stats;
const passed = unit.numPassedTests + e2e.expected + e2e.flaky;
const failed = unit.numFailedTests + e2e.unexpected;
const skipped = unit.numPendingTests + unit.numTodoTests + e2e.skipped;
console.log(`\n✔ all tests passed (${unit.numPassedTests} unit, ${e2e.expected + e2e.flaky} in the browser)`);
console.log(`Tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
