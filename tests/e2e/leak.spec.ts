// Nothing leaks: the generation figure of chapter 1 run through 300 generate → reset cycles in one
// page, as a reader presses Step and Reset. The page's and the engine worker's JS heaps (read
// through the Chrome DevTools Protocol after a forced garbage collection) must end within 10% of
// where they were after the first cycles. The figures are printed; the cycles are driven from
// inside the page so that 300 of them fit in a test of about a minute.
import { expect, test, type CDPSession, type Page } from '@playwright/test';

const cycles = 300;
const warmup = 20; // the heaps after these cycles are the baseline: caches and JIT code have settled
const batch = 20;

interface Heap {
  used: number; // bytes of JS objects in use after a collection
  buffers: number; // bytes behind ArrayBuffers (the model's tensors, KV caches, logits), outside `used`
}

// The engine's worker is a target of its own; our CDP session attaches to it (not flattened, so
// its commands go through Target.sendMessageToTarget and come back as events).
async function heapReaders(page: Page) {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  const workers: string[] = [];
  const pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  cdp.on('Target.attachedToTarget', (e) => {
    if (e.targetInfo.type === 'worker') workers.push(e.sessionId);
  });
  cdp.on('Target.detachedFromTarget', (e) => {
    const i = workers.indexOf(e.sessionId);
    if (i >= 0) workers.splice(i, 1);
  });
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const m = JSON.parse(e.message) as { id?: number; result?: unknown; error?: { message: string } };
    const p = m.id === undefined ? undefined : pending.get(m.id);
    if (!p) return;
    pending.delete(m.id!);
    if (m.error) p.reject(new Error(m.error.message));
    else p.resolve(m.result);
  });
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });

  function inWorker<T>(method: string, params: object = {}): Promise<T> {
    expect(workers, 'the engine worker, attached').toHaveLength(1);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      cdp.send('Target.sendMessageToTarget', { sessionId: workers[0], message: JSON.stringify({ id, method, params }) }).catch(reject);
    });
  }

  return {
    workers,
    async page(): Promise<Heap> {
      await cdp.send('HeapProfiler.collectGarbage');
      const h = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; backingStorageSize?: number };
      return { used: h.usedSize, buffers: h.backingStorageSize ?? 0 };
    },
    async worker(): Promise<Heap> {
      await inWorker('HeapProfiler.collectGarbage');
      const h = await inWorker<{ usedSize: number; backingStorageSize?: number }>('Runtime.getHeapUsage');
      return { used: h.usedSize, buffers: h.backingStorageSize ?? 0 };
    }
  };
}

// `n` cycles in the page: Step twice (two forward passes and draws), wait for both tokens, Reset,
// wait for the new session. Every wait has a deadline that says what it waited for.
function runCycles(page: Page, n: number): Promise<void> {
  return page.evaluate(async (n) => {
    const figure = document.querySelector('[data-widget="generation"]')!;
    const button = (name: string) => [...figure.querySelectorAll('button')].find((b) => b.textContent!.trim() === name)!;
    const count = () => figure.querySelectorAll('[data-testid="generated"] button.new').length;
    const until = async (what: string, ok: () => boolean) => {
      const t0 = performance.now();
      while (!ok()) {
        if (performance.now() - t0 > 15_000) throw new Error(`waited 15 s for ${what}`);
        await new Promise((r) => setTimeout(r, 2));
      }
    };
    const ready = () => !!figure.querySelector('[data-testid="generated"]') && count() === 0 && button('Step').getAttribute('aria-disabled') === 'false';
    for (let i = 0; i < n; i++) {
      await until('a session to step', ready);
      button('Step').click();
      await until('the first token', () => count() === 1);
      button('Step').click();
      await until('the second token', () => count() === 2);
      button('Reset').click();
      await until('the reset', ready);
    }
  }, n);
}

const mb = (b: number) => `${(b / 2 ** 20).toFixed(2)} MB`;

test(`${cycles} generate → reset cycles: the page's and the worker's heaps end within 10% of where they were after ${warmup}`, async ({ page }) => {
  test.setTimeout(240_000);
  const heaps = await heapReaders(page);
  await page.goto('/the-loop?backend=cpu');
  const figure = page.locator('[data-widget="generation"]');
  await figure.scrollIntoViewIfNeeded();
  await expect(figure).toHaveAttribute('data-ready', '');
  await expect(figure.getByTestId('generated')).toBeVisible();
  await expect.poll(() => heaps.workers.length, { message: 'the engine worker, attached' }).toBe(1);

  const rows: { cycle: number; page: Heap; worker: Heap }[] = [];
  const measure = async (cycle: number) => {
    const row = { cycle, page: await heaps.page(), worker: await heaps.worker() };
    rows.push(row);
    const { page: p, worker: w } = row;
    console.log(`after ${String(cycle).padStart(3)} cycles: page heap ${mb(p.used)} (+ ${mb(p.buffers)} in buffers), worker heap ${mb(w.used)} (+ ${mb(w.buffers)} in buffers)`);
  };
  await measure(0);
  let done = 0;
  await runCycles(page, warmup);
  done += warmup;
  await measure(done);
  while (done < cycles) {
    const n = Math.min(batch, cycles - done);
    await runCycles(page, n);
    done += n;
    if (done % 100 === 0 || done === cycles) await measure(done);
  }
  // the figure still works: one more step shows a token
  await figure.getByRole('button', { name: 'Step', exact: true }).click();
  await expect(figure.locator('button.new')).toHaveCount(1);

  const base = rows.find((r) => r.cycle === warmup)!;
  const end = rows.at(-1)!;
  const growth = (a: Heap, b: Heap) => (b.used - a.used) / a.used;
  console.log(
    `heap growth from cycle ${warmup} to ${cycles}: page ${(100 * growth(base.page, end.page)).toFixed(1)}%, worker ${(100 * growth(base.worker, end.worker)).toFixed(1)}%`
  );
  expect(end.page.used, `page heap after ${cycles} cycles vs after ${warmup}`).toBeLessThanOrEqual(base.page.used * 1.1);
  expect(end.worker.used, `worker heap after ${cycles} cycles vs after ${warmup}`).toBeLessThanOrEqual(base.worker.used * 1.1);
  // the buffers too: a KV cache or a step's distribution kept by mistake lives there
  expect(end.page.buffers + end.page.used, 'page heap and buffers').toBeLessThanOrEqual((base.page.buffers + base.page.used) * 1.1);
  expect(end.worker.buffers + end.worker.used, 'worker heap and buffers').toBeLessThanOrEqual((base.worker.buffers + base.worker.used) * 1.1);
});
