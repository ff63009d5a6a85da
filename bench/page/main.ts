// The in-browser half of `npm run bench`: bundled by bench/inference.ts, loaded into Chromium, and
// driven from Node through window.runBench. It times batch-1 generation on the shipped model's
// weights for our two backends and for tfjs on its wasm and webgpu backends, all in this one page.
//
// What is timed, the same way for every contender (each behind the Decoder interface below):
//   prefill  feeding a 64-token prompt to an empty cache, up to the last position's logits read
//            back into a Float32Array; median of several runs.
//   decode   after a 16-token prompt and a few untimed steps, one token at a time (greedy: the
//            argmax is fed back), each step from handing over the token to holding its logits;
//            the median over the timed steps. tokens/s is 1000 / that median.
// The machine is shared, and its load drifts during a run. So the contenders that can live side by
// side (ours-cpu, ours-webgpu, tfjs-wasm: tfjs has one active backend at a time) take their runs
// and steps in turn, one each per round, and a drift in load falls on all of them alike;
// tfjs-webgpu runs after them, alone. A contender as slow as tfjs over SwiftShader (seconds a
// token) stops early, so the whole benchmark stays within a couple of minutes: at least 3
// prefills and 8 timed decode steps, more while under its time budget. The report says how many
// steps each median is over.
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
  bandwidth: Bandwidth;
}

// The decode limit set by memory: a batch-1 decode step reads every weight once (all but one row of
// wpe), so it cannot take less than weight bytes ÷ read bandwidth. The bandwidth is measured here, in
// this page, by summing a buffer much larger than the caches with WebAssembly SIMD loads
// (bench/bandwidth.wat), as the kernels read weights. (A plain JavaScript loop over a Float32Array
// was limited by its adds, about 4.5 GB/s here, and the CPU backend decoded faster than that
// "bound".) It may still be below the machine's peak: one thread reads, and the bound is a floor
// for one thread.
export interface Bandwidth {
  bytesPerS: number;
  weightBytes: number;
  boundMs: number; // weightBytes / bytesPerS, in ms per token
}

async function measureBandwidth(weightBytes: number, wasm: Uint8Array): Promise<Bandwidth> {
  const bytes = 256 * 2 ** 20; // 256 MB: far past any cache
  const { instance } = await WebAssembly.instantiate(wasm);
  const { memory, sum } = instance.exports as { memory: WebAssembly.Memory; sum: (n: number) => number };
  memory.grow(bytes / 65536);
  const buf = new Float32Array(memory.buffer, 0, bytes / 4);
  for (let i = 0; i < buf.length; i += 1024) buf[i] = i & 7; // touched, so every page is real
  let best = Infinity;
  let sink = 0;
  for (let rep = 0; rep < 5; rep++) {
    const t0 = performance.now();
    sink += sum(bytes);
    best = Math.min(best, performance.now() - t0);
  }
  if (sink === -1) log('impossible'); // keeps the sums alive
  const bytesPerS = bytes / (best / 1000);
  return { bytesPerS, weightBytes, boundMs: (weightBytes / bytesPerS) * 1000 };
}

export interface BenchOptions {
  modelUrl: string; // folder with config.json, model.safetensors, tokenizer.json
  wasmUrl: string; // folder serving tfjs-backend-wasm's .wasm files
  webgpuMissing?: string; // set when engine/backends/webgpu could not be bundled: the reason
  bandwidthWasm: number[]; // bench/bandwidth.wat compiled, as bytes
}

// One contender's generation loop: start over, then feed tokens; the logits of the last position.
interface Decoder {
  detail: string;
  reset(): void;
  feed(ids: readonly number[]): Promise<Float32Array>; // (V)
  invalid?(): string | undefined; // after measuring: why the numbers do not stand for this contender
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
  const backend = runner.backend;
  return {
    detail: `${runner.backend}: ${runner.device}`,
    // the WebGPU runner moves to the CPU when the GPU fails; its times would then be the CPU's
    invalid: () => (runner.backend !== backend ? `the ${backend} backend fell back to ${runner.backend} during the run` : undefined),
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

interface Measured {
  row: Omit<Row, 'name'>;
  prefillLogits: Float32Array; // (V) at the prompt's last position
  steps: number; // timed decode steps
}

// Times every decoder of a group, round by round (see the top of this file). A decoder that throws
// is dropped from the rounds that follow and reported with its error; the others go on.
async function measureGroup(decs: Decoder[], prompt: number[], nPositions: number): Promise<(Measured | Error)[]> {
  const failed: (Error | undefined)[] = decs.map(() => undefined);
  const logits: Float32Array[] = [];
  const each = async (skip: (i: number) => boolean, f: (dec: Decoder, i: number) => Promise<void>) => {
    for (const [i, dec] of decs.entries()) {
      if (failed[i] || skip(i)) continue;
      try {
        await f(dec, i);
      } catch (e) {
        failed[i] = e instanceof Error ? e : new Error(String(e));
      }
    }
  };
  const never = () => false;

  // warm-up: JIT compilation, shader pipelines, first allocations
  await each(never, async (dec, i) => {
    dec.reset();
    logits[i] = await dec.feed(prompt.slice(0, PREFILL_TOKENS));
    for (let s = 0; s < 4; s++) logits[i] = await dec.feed([argmax(logits[i])]);
  });

  const prefill: number[][] = decs.map(() => []);
  const prefillLogits: Float32Array[] = [];
  const spent = decs.map(() => 0);
  for (let r = 0; r < PREFILL_RUNS[1]; r++) {
    await each((i) => r >= PREFILL_RUNS[0] && spent[i] > PREFILL_BUDGET_MS, async (dec, i) => {
      dec.reset();
      const t0 = performance.now();
      prefillLogits[i] = await dec.feed(prompt.slice(0, PREFILL_TOKENS));
      const ms = performance.now() - t0;
      prefill[i].push(ms);
      spent[i] += ms;
    });
  }

  await each(never, async (dec, i) => {
    dec.reset();
    logits[i] = await dec.feed(prompt.slice(0, DECODE_PROMPT));
    for (let s = 0; s < DECODE_UNTIMED; s++) logits[i] = await dec.feed([argmax(logits[i])]);
  });
  const most = Math.min(DECODE_STEPS[1], nPositions - DECODE_PROMPT - DECODE_UNTIMED);
  const steps: number[][] = decs.map(() => []);
  spent.fill(0);
  for (let s = 0; s < most; s++) {
    await each((i) => s >= DECODE_STEPS[0] && spent[i] > DECODE_BUDGET_MS, async (dec, i) => {
      const next = argmax(logits[i]);
      const t0 = performance.now();
      logits[i] = await dec.feed([next]);
      const ms = performance.now() - t0;
      steps[i].push(ms);
      spent[i] += ms;
    });
  }
  return decs.map((dec, i) => {
    const invalid = failed[i]?.message ?? dec.invalid?.();
    if (invalid) return new Error(invalid);
    const ms = median(steps[i]);
    return { row: { ms_per_token: ms, prefill_ms_64: median(prefill[i]), tokens_per_s: 1000 / ms }, prefillLogits: prefillLogits[i], steps: steps[i].length };
  });
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
  const C = model.config.n_embd;
  const weightBytes = Object.entries(model.params).reduce((n, [k, t]) => n + (k === 'wpe.weight' ? 4 * C : t.byteLength), 0);
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
  let reference: Float32Array | undefined; // ours-cpu's prefill logits: every contender is compared with them
  const runGroup = async (group: [RowName, () => Promise<Decoder>][]) => {
    const live: [RowName, Decoder][] = [];
    for (const [name, make] of group) {
      try {
        live.push([name, await make()]);
      } catch (e) {
        const reason = e instanceof Error ? e.message : String(e);
        contenders.push({ name, unavailable: reason, detail: '' });
        log(`${name}: unavailable: ${reason}`);
      }
    }
    if (live.length === 0) return;
    log(`running ${live.map(([n]) => n).join(', ')}`);
    try {
      const results = await measureGroup(live.map(([, d]) => d), prompt, nPositions);
      for (const [i, [name, dec]] of live.entries()) {
        const m = results[i];
        if (m instanceof Error) {
          contenders.push({ name, unavailable: `failed while measuring: ${m.message}`, detail: dec.detail });
          log(`${name}: failed while measuring: ${m.message}`);
          continue;
        }
        if (name === 'ours-cpu') reference = m.prefillLogits;
        let diff = reference ? 0 : NaN;
        for (let j = 0; reference && j < reference.length; j++) diff = Math.max(diff, Math.abs(m.prefillLogits[j] - reference[j]));
        contenders.push({ name, row: { name, ...m.row }, detail: dec.detail, maxLogitDiff: diff, decodeSteps: m.steps });
        log(`${name}: ${m.row.ms_per_token.toFixed(3)} ms/token, prefill ${m.row.prefill_ms_64.toFixed(1)} ms`);
      }
    } finally {
      for (const [, dec] of live) dec.dispose();
    }
  };

  // ours-cpu comes first in its group, so its logits are the reference when the others are compared
  await runGroup([
    ['ours-cpu', async () => oursDecoder(await createRunner(model, { backend: 'cpu' }))],
    ['ours-webgpu', async () => {
      if (opts.webgpuMissing) throw new Error(opts.webgpuMissing);
      return oursDecoder(await createRunner(model, { backend: 'webgpu' }));
    }],
    ['tfjs-wasm', async () => {
      setWasmPaths(opts.wasmUrl);
      if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
      return tfjsDecoder(model, 'wasm');
    }]
  ]);
  await runGroup([
    ['tfjs-webgpu', async () => {
      if (opts.webgpuMissing?.startsWith('left out')) throw new Error(opts.webgpuMissing);
      if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") failed (no WebGPU adapter or device)');
      return tfjsDecoder(model, 'webgpu');
    }]
  ]);
  const order: RowName[] = ['ours-cpu', 'ours-webgpu', 'tfjs-wasm', 'tfjs-webgpu'];
  contenders.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));

  return {
    contenders,
    adapter: await adapterInfo(),
    cores: navigator.hardwareConcurrency,
    model: { name: String(model.meta.explorable_name ?? 'unnamed'), nParams: model.nParams, n_positions: nPositions },
    bandwidth: await measureBandwidth(weightBytes, Uint8Array.from(opts.bandwidthWasm))
  };
}

(window as unknown as { runBench: typeof runBench }).runBench = runBench;
