// `npm run bench` (inference): bundles bench/page/main.ts with esbuild, serves it with the shipped
// model and tfjs-wasm's .wasm files from a local HTTP server, opens it in one Chromium, and runs
// every contender there (see bench/page/main.ts for what is timed and how).
import { build, type Plugin } from 'esbuild';
import { chromium } from '@playwright/test';
import wabtInit from 'wabt';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { cpus } from 'node:os';
import { basename, extname, join, normalize } from 'node:path';
import { defaultModelDir, repoRoot } from '../engine/cli/common';
import type { BenchOptions, BenchResult } from './page/main';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox', '--headless=new', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--enable-unsafe-webgpu', '--enable-features=Vulkan'
];
const WASM_DIR = join(repoRoot, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
const WEBGPU_ENTRY = join(repoRoot, 'engine', 'backends', 'webgpu', 'index.ts');

const types: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm'
};

// engine/backend.ts imports the WebGPU backend lazily. While that backend is absent or does not
// build, this plugin puts a module in its place that throws the reason on import, so the engine
// reports WebGPU as unavailable with that reason and every other contender still runs.
function webgpuStandIn(reason: string): Plugin {
  return {
    name: 'webgpu-stand-in',
    setup(b) {
      b.onResolve({ filter: /backends\/webgpu\/index(\.ts)?$/ }, (args) => ({ path: args.path, namespace: 'webgpu-stand-in' }));
      b.onLoad({ filter: /.*/, namespace: 'webgpu-stand-in' }, () => ({
        contents: `throw new Error(${JSON.stringify(reason)});`,
        loader: 'js'
      }));
    }
  };
}

// bench/bandwidth.wat as WebAssembly bytes (wabt, as scripts/build-wasm.ts compiles the kernels)
async function bandwidthProbe(): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const mod = wabt.parseWat('bandwidth.wat', readFileSync(join(repoRoot, 'bench', 'bandwidth.wat'), 'utf8'), { simd: true });
  try {
    mod.validate();
    return mod.toBinary({ log: false }).buffer;
  } finally {
    mod.destroy();
  }
}

async function bundle(): Promise<{ js: string; webgpuMissing?: string }> {
  const once = async (plugins: Plugin[]) => {
    const out = await build({
      entryPoints: [join(repoRoot, 'bench', 'page', 'main.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
      define: { 'process.env.NODE_ENV': '"production"' },
      plugins
    });
    return out.outputFiles[0].text;
  };
  if (!existsSync(WEBGPU_ENTRY)) {
    const reason = 'engine/backends/webgpu/index.ts is not in this checkout';
    return { js: await once([webgpuStandIn(reason)]), webgpuMissing: reason };
  }
  try {
    return { js: await once([]) };
  } catch (e) {
    const first = (e as { errors?: { text: string; location?: { file: string; line: number } }[] }).errors?.[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : '';
    const reason = `engine/backends/webgpu does not build: ${first?.text ?? (e as Error).message}${where}`;
    return { js: await once([webgpuStandIn(reason)]), webgpuMissing: reason };
  }
}

// A static server: the page, its bundle, the model folder under /model/, tfjs's wasm under /tfjs-wasm/.
function serve(js: string, modelDir: string): Promise<{ server: Server; origin: string }> {
  const html = '<!doctype html><meta charset="utf-8"><title>bench</title><script type="module" src="/bench.js"></script>';
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const send = (body: string | Buffer, type: string) => {
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const file = (dir: string, name: string) => {
      const p = join(dir, normalize(basename(name)));
      if (!existsSync(p)) {
        res.writeHead(404).end();
        return;
      }
      send(readFileSync(p), types[extname(p)] ?? 'application/octet-stream');
    };
    if (path === '/') send(html, types['.html']);
    else if (path === '/bench.js') send(js, types['.js']);
    else if (path === '/favicon.ico') res.writeHead(204).end();
    else if (path.startsWith('/model/')) file(modelDir, path.slice('/model/'.length));
    else if (path.startsWith('/tfjs-wasm/')) file(WASM_DIR, path.slice('/tfjs-wasm/'.length));
    else res.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    resolve({ server, origin: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}` });
  }));
}

export interface InferenceReport extends BenchResult {
  device: string; // the machine and browser, in words
}

export async function runInference(progress: (line: string) => void, modelDir: string = defaultModelDir(), { noWebgpu = false } = {}): Promise<InferenceReport> {
  progress('bundling bench/page/main.ts');
  const bundled = await bundle();
  const { js } = bundled;
  const webgpuMissing = noWebgpu ? 'left out (--no-webgpu)' : bundled.webgpuMissing;
  const { server, origin } = await serve(js, modelDir);
  const browser = await chromium.launch({
    executablePath: existsSync(CHROMIUM) ? CHROMIUM : undefined,
    args: CHROMIUM_ARGS
  });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => progress(`  [page] ${m.text()}`));
    page.on('pageerror', (e) => progress(`  [page error] ${e.message}`));
    await page.goto(origin + '/');
    await page.waitForFunction(() => 'runBench' in window);
    const opts: BenchOptions = { modelUrl: '/model/', wasmUrl: origin + '/tfjs-wasm/', webgpuMissing, bandwidthWasm: [...(await bandwidthProbe())] };
    const result = await page.evaluate((o) => (window as unknown as { runBench(o: BenchOptions): Promise<BenchResult> }).runBench(o), opts);
    const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
    const device = `${cpu}, ${result.cores} logical cores; Chromium ${browser.version()} headless; WebGPU adapter: ${result.adapter}`;
    return { ...result, device };
  } finally {
    await browser.close();
    server.close();
  }
}
