import { existsSync } from 'node:fs';
import { defineConfig, devices } from '@playwright/test';

// Debian's Chromium when the machine has it (no download needed); otherwise Playwright's own,
// which `npx playwright install chromium` provides. CHROMIUM_PATH overrides both.
const systemChromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const executablePath = existsSync(systemChromium) ? systemChromium : undefined;

// PORT lets several checkouts run their browser tests at once without testing each other's build
const port = Number(process.env.PORT ?? 4173);

export default defineConfig({
  testDir: 'tests/e2e',
  outputDir: 'test-results/playwright',
  fullyParallel: false,
  // Two at a time: a test mostly waits on its page's worker, so two workers keep both cores of a
  // small machine busy (measured here: the suite in about half the time). PW_WORKERS overrides.
  workers: Number(process.env.PW_WORKERS ?? 2),
  forbidOnly: !!process.env.CI,
  // No retries, in CI or here: a test that passes only on a second try is flaky, and a retry would
  // count it as passed. A flaky test fails the run until it is fixed.
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 20_000 },
  // the JSON report lets `npm test` print one closing count over both test runners
  reporter: [['list'], ['json', { outputFile: 'test-results/playwright.json' }]],
  use: {
    baseURL: `http://localhost:${port}`,
    // No trace unless asked (PW_TRACE=1 keeps one for each failed test): recording one snapshots
    // the page's DOM around every action, in the page's main thread, which made the long-task
    // reports of drags and typing count Playwright's work (measured: 48 tasks over 50 ms while
    // dragging the temperature slider with a trace, none without) and slowed every test.
    trace: process.env.PW_TRACE === '1' ? 'retain-on-failure' : 'off',
    // The site's service worker would answer requests that tests route (download.spec.ts) from its
    // cache; only tests/e2e/offline.spec.ts lets it run.
    serviceWorkers: 'block'
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          executablePath,
          args: [
            '--no-sandbox',
            '--headless=new',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run',
            '--enable-unsafe-webgpu',
            '--enable-features=Vulkan'
          ]
        }
      }
    }
  ],
  // The built site, served as it would be in production. `npm test` builds first; run
  // `npm run build` yourself before `npx playwright test`.
  webServer: {
    command: `npx vite preview --port ${port} --strictPort`,
    url: `http://localhost:${port}`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000
  }
});
