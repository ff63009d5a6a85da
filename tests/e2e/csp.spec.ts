// The Content Security Policy: every built page carries it, the engine worker and the model load
// under it, nothing breaks it, and no page asks any other origin for anything.
import { expect, test } from '@playwright/test';
import { pages, waitForFigures } from './site';

test.describe.configure({ timeout: 120_000 });

const checked = [...pages, { name: 'embed attention', path: '/embed/attention' }, { name: 'embed tokenizer', path: '/embed/tokenizer' }];

for (const { name, path } of checked) {
  test(`${name}: a CSP, no violation of it, and no request to another origin`, async ({ page, baseURL }) => {
    const origin = new URL(baseURL!).origin;
    const foreign: string[] = [];
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (!['data:', 'blob:'].includes(u.protocol) && u.origin !== origin) foreign.push(r.url());
    });
    await page.addInitScript(() => {
      (window as unknown as { __violations: string[] }).__violations = [];
      document.addEventListener('securitypolicyviolation', (e) => (window as unknown as { __violations: string[] }).__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    await page.goto(path);
    const csp = await page.locator('meta[http-equiv="content-security-policy"]').getAttribute('content');
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("'unsafe-inline' 'sha256"); // no inline script beyond Kit's hashed one
    expect(csp!.match(/script-src[^;]*/)![0]).not.toContain('unsafe-inline');
    await waitForFigures(page); // the worker, the model and (if any) WebAssembly loaded under the policy
    expect(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations)).toEqual([]);
    expect(foreign).toEqual([]);
  });
}

test('the server lets any site frame the pages (frame-ancestors, which a meta tag cannot set)', async ({ request }) => {
  const res = await request.get('/embed/attention');
  expect(res.headers()['content-security-policy']).toContain('frame-ancestors *');
});
