// The main thread's long tasks (Long Tasks API), for figures that must stay responsive while a
// reader drags, clicks and types. Reported in the test output, never asserted on time: timings
// depend on the machine.
import type { Page } from '@playwright/test';

declare global {
  interface Window {
    __longTasks?: number[];
  }
}

// Call before page.goto: starts recording every task over 50 ms.
export async function watchLongTasks(page: Page): Promise<void> {
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks!.push(e.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
}

// Forget what was recorded so far (the page load), so the report covers only the interaction.
export async function resetLongTasks(page: Page): Promise<void> {
  await page.evaluate(() => (window.__longTasks = []));
}

// Print the longest main-thread task since the last reset, and return it (ms; 0 if none over 50).
export async function reportLongTasks(page: Page, what: string): Promise<number> {
  const tasks = await page.evaluate(() => window.__longTasks ?? []);
  const longest = tasks.length ? Math.max(...tasks) : 0;
  console.log(`long tasks while ${what}: ${tasks.length} over 50 ms, longest ${Math.round(longest)} ms`);
  return longest;
}
