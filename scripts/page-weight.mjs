// npm run build's last step: what a reader downloads, gzip-compressed, from the built site in
// build/. For each page, the JavaScript of its first load: the modules its HTML preloads and
// imports, and every module those import statically, once each (a dynamic import(), such as a
// comparison tokenizer's encoding, is loaded only when shown and is listed apart). Then the
// engine worker, the model's files and the fonts. Exits 1 when a chapter's first load is over the
// budget, so a heavy import is caught at build time.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const out = 'build';
const budget = 250 * 1000; // bytes of gzipped JS per chapter's first load

if (!existsSync(out)) {
  console.error('page-weight: no build/ folder; run `vite build` first.');
  process.exit(1);
}

const gz = new Map();
function gzipped(file) {
  if (!gz.has(file)) gz.set(file, gzipSync(readFileSync(file), { level: 9 }).length);
  return gz.get(file);
}

const staticImport = /\b(?:import|export)\s*(?:[^"'`();]*?from\s*)?["'`](\.{1,2}\/[^"'`]+\.js)["'`]/g;
const dynamicImport = /\bimport\(\s*["'`](\.{1,2}\/[^"'`]+\.js)["'`]\s*\)/g;

// The modules a module pulls in before it runs, and the ones it may load later.
function imports(file) {
  const code = readFileSync(file, 'utf8');
  const near = (m) => resolve(dirname(file), m[1]);
  return { eager: [...code.matchAll(staticImport)].map(near), lazy: [...code.matchAll(dynamicImport)].map(near) };
}

function closure(roots) {
  const seen = new Set();
  const lazy = new Set();
  const stack = [...roots];
  while (stack.length) {
    const f = stack.pop();
    if (seen.has(f) || !existsSync(f)) continue;
    seen.add(f);
    const { eager, lazy: later } = imports(f);
    stack.push(...eager);
    for (const l of later) lazy.add(l);
  }
  for (const f of seen) lazy.delete(f);
  return { eager: seen, lazy };
}

// A chapter's body is a dynamic import that the chapter route's load awaits before the page shows,
// so it is part of that chapter's first load: find each body's module in the glob's map.
const bodyOf = new Map();
const bodyImport = /"\/content\/\d+-([a-z0-9-]+)\.md"\s*:\s*\(\)\s*=>[^`'"]*?import\(\s*["'`](\.{1,2}\/[^"'`]+\.js)/g;
function scanBodies(dir) {
  for (const f of readdirSync(dir)) {
    const path = join(dir, f);
    if (statSync(path).isDirectory()) scanBodies(path);
    else if (f.endsWith('.js')) for (const m of readFileSync(path, 'utf8').matchAll(bodyImport)) bodyOf.set(m[1], resolve(dir, m[2]));
  }
}
scanBodies(join(out, '_app', 'immutable'));

const htmlFiles = readdirSync(out).filter((f) => f.endsWith('.html'));
const kB = (n) => `${(n / 1000).toFixed(1)} kB`;
const rows = [];
let over = [];
for (const html of htmlFiles.sort()) {
  const text = readFileSync(join(out, html), 'utf8');
  const refs = [
    ...[...text.matchAll(/<link[^>]+href="([^"]+\.js)"[^>]*rel="modulepreload"/g)].map((m) => m[1]),
    ...[...text.matchAll(/<link[^>]+rel="modulepreload"[^>]*href="([^"]+\.js)"/g)].map((m) => m[1]),
    ...[...text.matchAll(/import\("([^"]+\.js)"\)/g)].map((m) => m[1])
  ];
  const roots = [...new Set(refs)].map((r) => resolve(out, r));
  const body = bodyOf.get(html.replace(/\.html$/, ''));
  if (body) roots.push(body);
  const { eager, lazy } = closure(roots);
  const js = [...eager].reduce((n, f) => n + gzipped(f), 0);
  const later = [...closure([...lazy]).eager].filter((f) => !eager.has(f)).reduce((n, f) => n + gzipped(f), 0);
  const page = html === 'index.html' ? '/' : `/${html.replace(/\.html$/, '')}`;
  rows.push([page, kB(gzipped(join(out, html))), `${kB(js)} (${eager.size} files)`, kB(later)]);
  if (js > budget && !page.startsWith('/dev')) over.push(`${page}: ${kB(js)}`);
}

function walk(dir) {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));
}
const all = walk(out);
const workers = all.filter((f) => /engine\.worker-[^/]*\.js$/.test(f));
const engineClosure = closure(workers.map((f) => resolve(f)));
const engine = [...engineClosure.eager];
const engineLater = [...closure([...engineClosure.lazy]).eager].filter((f) => !engineClosure.eager.has(f));
const fonts = all.filter((f) => /\.(woff2?|ttf|otf)$/.test(f));
const models = all.filter((f) => f.startsWith(join(out, 'models')) && !f.endsWith('.md'));

console.log('\nPage weight (gzip -9), first load of each page:');
const head = ['page', 'HTML', 'JS on first load', 'JS it may load later'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r) => '  ' + r.map((c, i) => c.padEnd(widths[i])).join('  ');
console.log(line(head));
for (const r of rows) console.log(line(r));
console.log(`  engine worker: ${kB(engine.reduce((n, f) => n + gzipped(f), 0))} gzip (${engine.length} files), loaded when the first figure starts`);
console.log(`  engine, loaded when asked (WebGPU backend, comparison tokenizers' encodings): ${kB(engineLater.reduce((n, f) => n + gzipped(f), 0))} gzip (${engineLater.length} files)`);
for (const f of models) console.log(`  model ${relative(out, f)}: ${kB(statSync(f).size)} (${kB(gzipped(f))} gzip)`);
console.log(`  fonts: ${fonts.length} files, ${kB(fonts.reduce((n, f) => n + statSync(f).size, 0))} (woff2 is already compressed; a page loads only the faces its math uses)`);
if (over.length > 0) {
  console.error(`\n✖ over the ${kB(budget)} budget of gzipped JS on first load: ${over.join(', ')}`);
  process.exit(1);
}
console.log(`  every chapter's first load is under the ${kB(budget)} budget`);
