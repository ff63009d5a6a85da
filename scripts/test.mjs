// npm test: unit tests, a production build, then the browser tests against that build.
// Finds a Chromium by itself: the system's (/usr/bin/chromium, or CHROMIUM_PATH) when there is one,
// otherwise Playwright's own, downloading it only if it is missing.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { ensureModel } from './model.mjs';

// keepGoing: report the failure but go on, so the closing count is still printed
function step(title, command, args, env = {}, { keepGoing = false } = {}) {
  console.log(`\n▶ ${title}`);
  const r = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) {
    console.error(`\n✖ ${title} failed (${r.error?.message ?? `exit code ${r.status}`})`);
    if (!keepGoing || !existsSync('test-results/playwright.json')) process.exit(r.status || 1);
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
step(`browser tests (playwright, ${browser.label})`, 'npx', ['playwright', 'test'], browser.env, { keepGoing: true });
// one closing line over both runners, in the plain "N passed, N failed" form CI reads. A browser
// test that passed only on a retry (`--retries` given by hand; the config sets none) is flaky: it is
// counted as failed, not passed, and named on its own line, so a retry never hides a bug.
const unit = JSON.parse(readFileSync('test-results/vitest.json', 'utf8'));
const report = JSON.parse(readFileSync('test-results/playwright.json', 'utf8'));
const e2e = report.stats;
const flakyNames = [];
(function walk(suite) {
  for (const spec of suite.specs ?? []) {
    for (const t of spec.tests ?? []) if (t.status === 'flaky') flakyNames.push(spec.title);
  }
  for (const s of suite.suites ?? []) walk(s);
})({ suites: report.suites });
const passed = unit.numPassedTests + e2e.expected;
const failed = unit.numFailedTests + e2e.unexpected + e2e.flaky;
const skipped = unit.numPendingTests + unit.numTodoTests + e2e.skipped;
if (e2e.flaky > 0) {
  console.error(`\n✖ ${e2e.flaky} flaky (passed only on a retry, counted as failed): ${flakyNames.join('; ')}`);
} else if (failed === 0) {
  console.log(`\n✔ all tests passed (${unit.numPassedTests} unit, ${e2e.expected} in the browser), none flaky`);
}
console.log(`Tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
if (failed > 0) process.exit(1);
