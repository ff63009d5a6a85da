// The in-browser half of `npm run bench`: bundled by bench/inference.ts, loaded into Chromium, and
// driven from Node through window.runBench. It times batch-1 generation on the shipped model's
// weights for our two backends and for tfjs on its wasm and webgpu backends, all in this one page.
//
// What is timed, the same way for every contender (each behind the Decoder interface below):
//   prefill  feeding a 64-token prompt to an empty cache, up to the last position's logits read
//            back into a Float32Array; median of several runs.
//   decode   after a 16-token prompt, one token at a time (greedy: the argmax is fed back), each
//            step from handing over the token to holding its logits; the median over the steps
//            that follow a few untimed ones. tokens/s is 1000 / that median.
// A contender as slow as tfjs over SwiftShader (seconds a token) gets fewer runs and steps, so the
// whole benchmark stays within a couple of minutes: at least 3 prefills and 8 timed decode steps,
// more while it is under its time budget. The report says how many steps each median is over.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgpu';
import { createRunner, type Cache, type Runner } from '../../engine/backend';
import { loadModel, type Model } from '../../engine/model';
import { TfjsDecoder } from '../../tests/reference/tfjs-gpt';

export type RowName = 'ours-cpu' | 'ours-webgpu' | 'tfjs-wasm' | 'tfjs-webgpu';

export interface Row {
  name: RowName;
  ms_per_token: number;
  prefill_ms_64: number;
  tokens_per_s: number;
}

export interface Contender {
  name: RowName;
  row?: Row; // absent when the contender could not run
  unavailable?: string; // why
  detail: string; // what ran it (backend, device, wasm flavour)
  maxLogitDiff?: number; // max |logit − ours-cpu's| on the prefill prompt: all contenders compute one model
  decodeSteps?: number; // how many timed steps the median is over
}

export interface BenchResult {
  contenders: Contender[];
  adapter: string; // the WebGPU adapter the page got, in words
  cores: number;
  model: { name: string; nParams: number; n_positions: number };
}

export interface BenchOptions {
  modelUrl: string; // folder with config.json, model.safetensors, tokenizer.json
  wasmUrl: string; // folder serving tfjs-backend-wasm's .wasm files
  webgpuMissing?: string; // set when engine/backends/webgpu could not be bundled: the reason
}

// One contender's generation loop: start over, then feed tokens; the logits of the last position.
interface Decoder {
  detail: string;
  reset(): void;
  feed(ids: readonly number[]): Promise<Float32Array>; // (V)
  dispose(): void;
}

const PREFILL_TOKENS = 64;
const PREFILL_RUNS = [3, 5]; // at least, at most
const PREFILL_BUDGET_MS = 6000;
const DECODE_PROMPT = 16;
const DECODE_UNTIMED = 4;
const DECODE_STEPS = [8, 96]; // timed steps: at least, at most (and no further than the context)
const DECODE_BUDGET_MS = 12000;

const log = (line: string) => console.log(line); // forwarded to the terminal by bench/inference.ts

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

function oursDecoder(runner: Runner): Decoder {
  let cache: Cache = runner.createCache();
  return {
    detail: `${runner.backend}: ${runner.device}`,
    reset: () => {
      cache = runner.createCache();
    },
    feed: async (ids) => (await runner.forward(ids, { cache, lastOnly: true })).logits,
    dispose: () => runner.dispose()
  };
}

function tfjsDecoder(model: Model, backend: string): Decoder {
  const dec = new TfjsDecoder(model.config, model.params);
  const flags = backend === 'wasm'
    ? `, SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}, threads ${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')}`
    : '';
  return {
    detail: `tfjs ${tf.version.tfjs} ${tf.getBackend()}${flags}, KV cache (TfjsDecoder)`,
    reset: () => dec.reset(),
    feed: (ids) => dec.forward(ids),
    dispose: () => dec.dispose()
  };
}

async function measure(dec: Decoder, prompt: number[], nPositions: number): Promise<{ row: Omit<Row, 'name'>; prefillLogits: Float32Array; steps: number }> {
  // warm-up: JIT compilation, shader pipelines, first allocations
  dec.reset();
  let logits = await dec.feed(prompt.slice(0, PREFILL_TOKENS));
  for (let i = 0; i < 4; i++) logits = await dec.feed([argmax(logits)]);

  const prefill: number[] = [];
  let prefillLogits: Float32Array = new Float32Array(0);
  const p0 = performance.now();
  while (prefill.length < PREFILL_RUNS[1] && (prefill.length < PREFILL_RUNS[0] || performance.now() - p0 < PREFILL_BUDGET_MS)) {
    dec.reset();
    const t0 = performance.now();
    prefillLogits = await dec.feed(prompt.slice(0, PREFILL_TOKENS));
    prefill.push(performance.now() - t0);
  }

  dec.reset();
  logits = await dec.feed(prompt.slice(0, DECODE_PROMPT));
  for (let i = 0; i < DECODE_UNTIMED; i++) logits = await dec.feed([argmax(logits)]);
  const most = Math.min(DECODE_STEPS[1], nPositions - DECODE_PROMPT - DECODE_UNTIMED);
  const steps: number[] = [];
  const d0 = performance.now();
  while (steps.length < most && (steps.length < DECODE_STEPS[0] || performance.now() - d0 < DECODE_BUDGET_MS)) {
    const next = argmax(logits);
    const t0 = performance.now();
    logits = await dec.feed([next]);
    steps.push(performance.now() - t0);
  }
  const ms = median(steps);
  return { row: { ms_per_token: ms, prefill_ms_64: median(prefill), tokens_per_s: 1000 / ms }, prefillLogits, steps: steps.length };
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function adapterInfo(): Promise<string> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return 'none (navigator.gpu is undefined)';
  const adapter = await gpu.requestAdapter();
  if (!adapter) return 'none (requestAdapter() returned null)';
  const i = adapter.info;
  return [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ') || 'unnamed adapter';
}

async function runBench(opts: BenchOptions): Promise<BenchResult> {
  const [config, safetensors, tokenizer] = await Promise.all([
    fetch(opts.modelUrl + 'config.json').then((r) => r.text()),
    fetchBytes(opts.modelUrl + 'model.safetensors'),
    fetch(opts.modelUrl + 'tokenizer.json').then((r) => r.text())
  ]);
  const model = loadModel({ config, safetensors, tokenizer });
  const nPositions = model.config.n_positions;
  if (nPositions < PREFILL_TOKENS + 4 || nPositions < DECODE_PROMPT + DECODE_UNTIMED + DECODE_STEPS[0]) {
    throw new Error(`the model's context (${nPositions} tokens) is too short for a ${PREFILL_TOKENS}-token prefill`);
  }
  // an English prompt, repeated until it is long enough: real token ids, not arbitrary ones
  const text = 'The old man looked at the sea and said that the boat would not come back before the winter. ';
  let prompt: number[] = [];
  while (prompt.length < PREFILL_TOKENS) prompt = prompt.concat(model.tokenizer.encode(text));
  prompt = prompt.slice(0, PREFILL_TOKENS);

  const contenders: Contender[] = [];
  let reference: Float32Array | undefined;
  const run = async (name: RowName, make: () => Promise<Decoder>) => {
    log(`${name}: running`);
    let dec: Decoder | undefined;
    try {
      dec = await make();
      const m = await measure(dec, prompt, nPositions);
      reference ??= m.prefillLogits;
      let diff = 0;
      for (let i = 0; i < reference.length; i++) diff = Math.max(diff, Math.abs(m.prefillLogits[i] - reference[i]));
      contenders.push({ name, row: { name, ...m.row }, detail: dec.detail, maxLogitDiff: diff, decodeSteps: m.steps });
      log(`${name}: ${m.row.ms_per_token.toFixed(3)} ms/token, prefill ${m.row.prefill_ms_64.toFixed(1)} ms`);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      contenders.push({ name, unavailable: reason, detail: dec?.detail ?? '' });
      log(`${name}: unavailable: ${reason}`);
    } finally {
      dec?.dispose();
    }
  };

  // ours-cpu first: its prefill logits are what every other contender is compared with
  await run('ours-cpu', async () => oursDecoder(await createRunner(model, { backend: 'cpu' })));
  await run('ours-webgpu', async () => {
    if (opts.webgpuMissing) throw new Error(opts.webgpuMissing);
    return oursDecoder(await createRunner(model, { backend: 'webgpu' }));
  });
  await run('tfjs-wasm', async () => {
    setWasmPaths(opts.wasmUrl);
    if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
    return tfjsDecoder(model, 'wasm');
  });
  await run('tfjs-webgpu', async () => {
    if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") failed (no WebGPU adapter or device)');
    return tfjsDecoder(model, 'webgpu');
  });

  return {
    contenders,
    adapter: await adapterInfo(),
    cores: navigator.hardwareConcurrency,
    model: { name: String(model.meta.explorable_name ?? 'unnamed'), nParams: model.nParams, n_positions: nPositions }
  };
}

(window as unknown as { runBench: typeof runBench }).runBench = runBench;
