// One suite over every backend: each runs the forward pass behind the Runner interface, and every
// traced tensor must equal the CPU reference of gpt.ts within parityTolerance (relative to the
// tensor's largest value). The WebGPU backend runs in Node through the webgpu package over
// SwiftShader (see vitest.config.ts); it must really run: no adapter is a failure, not a skip.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create } from 'webgpu';
import { createRunner, type Cache, type Runner } from '../../engine/backend';
import { makeConfig, parseConfig, paramShapes } from '../../engine/config';
import { EngineError } from '../../engine/errors';
import { createCache, forward, type KVCache, type TracedTensor, type Weights } from '../../engine/gpt';
import { createWebGPURunner } from '../../engine/backends/webgpu/index';
import { diffTraces, parityModel, parityScenario, parityTolerance, randomIds, worst, type TensorDiff } from '../../engine/backends/webgpu/parity';
import { columnBlocks, sliceColumns, transposedBlock } from '../../engine/backends/webgpu/split';
import { parseSafetensors } from '../../engine/safetensors';

const modelDir = `static/models/${(JSON.parse(readFileSync('static/models/index.json', 'utf8')) as { default: string }).default}`;
const shippedConfig = parseConfig(readFileSync(`${modelDir}/config.json`, 'utf8'));

function shippedModel(): Weights {
  const { tensors } = parseSafetensors(new Uint8Array(readFileSync(`${modelDir}/model.safetensors`)));
  return { config: shippedConfig, params: Object.fromEntries(paramShapes(shippedConfig).map(([name]) => [name, tensors.get(name)!.data])) };
}

const models: { name: string; model: () => Weights }[] = [
  { name: `the shipped model (${modelDir})`, model: shippedModel },
  { name: 'a random model of the shipped size, biases and gains random too', model: () => parityModel(shippedConfig, 11) },
  { name: 'a small random model', model: () => parityModel(makeConfig('micro'), 5) }
];

// The GPU of the webgpu package. It is created per runner and kept by that runner.
function nodeGpu(): GPU {
  return create([]);
}

// A GPU whose devices the test can reach, to destroy them or to make them raise errors.
function watchedGpu() {
  const gpu = nodeGpu();
  const devices: GPUDevice[] = [];
  const watched = {
    requestAdapter: async (opts?: GPURequestAdapterOptions) => {
      const adapter = await gpu.requestAdapter(opts);
      if (!adapter) return null;
      return {
        limits: adapter.limits,
        features: adapter.features,
        info: adapter.info,
        requestDevice: async (desc?: GPUDeviceDescriptor) => {
          const device = await adapter.requestDevice(desc);
          devices.push(device);
          return device;
        }
      };
    }
  } as unknown as GPU;
  return { gpu: watched, devices };
}

interface Backend {
  name: 'cpu' | 'webgpu';
  make(model: Weights): Promise<Runner>;
}

// Every fallback to the CPU is recorded: a WebGPU test that quietly ran on the CPU would prove nothing.
const fallbacks: string[] = [];
const backends: Backend[] = [
  { name: 'cpu', make: (model) => createRunner(model, { backend: 'cpu' }) },
  { name: 'webgpu', make: (model) => createRunner(model, { backend: 'webgpu', gpu: nodeGpu(), onFallback: (r) => fallbacks.push(r) }) }
];

// The largest relative difference seen per backend and model, printed at the end.
const report: Record<string, TensorDiff & { runs: number }> = {};
function expectWithin(where: string, diffs: TensorDiff[], passes = 1) {
  const w = worst(diffs);
  const prev = report[where];
  report[where] = { ...(prev && prev.rel >= w.rel ? prev : w), runs: (prev?.runs ?? 0) + passes };
  expect(diffs.filter((d) => !(d.rel <= parityTolerance)), `tensors beyond ${parityTolerance} relative`).toEqual([]);
}
function expectParity(where: string, got: Parameters<typeof diffTraces>[0], want: Parameters<typeof diffTraces>[1]) {
  expectWithin(where, diffTraces(got, want));
}
afterAll(() => {
  console.log('largest relative difference from the CPU reference, per backend and model:');
  for (const [where, d] of Object.entries(report)) {
    console.log(`  ${where}: ${d.rel.toExponential(2)} (abs ${d.maxAbs.toExponential(2)}, at ${d.key} ${d.shape}, over ${d.runs} forward passes)`);
  }
});

describe('the WebGPU test environment', () => {
  it('has a GPU adapter: the webgpu package finds a Vulkan driver (SwiftShader in CI)', async () => {
    const adapter = await nodeGpu().requestAdapter();
    expect(
      adapter,
      'no WebGPU adapter: install Debian chromium (its SwiftShader driver is /usr/lib/chromium/vk_swiftshader_icd.json, ' +
        'which vitest.config.ts hands to the test workers with LD_LIBRARY_PATH=/usr/lib/chromium) or set VK_ICD_FILENAMES'
    ).not.toBeNull();
  });
});

describe.each(backends)('the $name backend', (backend) => {
  describe.each(models)('on $name', ({ name, model: makeModel }) => {
    const where = `${backend.name}, ${name}`;
    let model: Weights;
    let runner: Runner;
    let V: number;
    let S: number;
    beforeAll(async () => {
      model = makeModel();
      V = model.config.vocab_size;
      S = model.config.n_positions;
      fallbacks.length = 0;
      runner = await backend.make(model);
    });
    afterAll(() => {
      expect(runner.backend, 'the runner is still on the backend under test').toBe(backend.name);
      expect(fallbacks).toEqual([]);
      runner.dispose();
    });

    it('runs on the backend it was asked for', () => {
      expect(runner.backend).toBe(backend.name);
      if (backend.name === 'webgpu') expect(runner.device).toMatch(/^WebGPU/);
    });

    it('traces every tensor as the reference does, for prompts of one token, a few, and many', async () => {
      for (const [i, n] of [1, 7, Math.min(S, 24)].entries()) {
        const ids = randomIds(n, V, 100 + i);
        expectParity(where, await runner.forward(ids, { trace: true }), forward(model, ids, { trace: true }));
      }
    });

    it('continues a prompt over the KV cache: prefix then continuation trace as the reference, k and v covering the cache', async () => {
      const ids = randomIds(Math.min(S, 20), V, 7);
      const cut = 13 % ids.length;
      const cache = runner.createCache();
      const ref = createCache(model.config);
      expectParity(where, await runner.forward(ids.slice(0, cut), { cache, trace: true }), forward(model, ids.slice(0, cut), { cache: ref, trace: true }));
      const got = await runner.forward(ids.slice(cut), { cache, trace: true });
      expectParity(where, got, forward(model, ids.slice(cut), { cache: ref, trace: true }));
      expect(cache.length).toBe(ids.length);
      expect(got.trace.layers[0].k?.shape).toEqual([model.config.n_head, ids.length, model.config.n_embd / model.config.n_head]);
      // and the whole sequence at once gives the same last row of logits as prefix + continuation
      const whole = await runner.forward(ids, { lastOnly: true });
      const last = got.logits.subarray((ids.length - cut - 1) * V);
      expect(Math.max(...whole.logits.map((x, j) => Math.abs(x - last[j])))).toBeLessThan(parityTolerance * Math.max(...last.map(Math.abs)));
    });

    it('switching a head off: the CPU ablates as the reference does; WebGPU refuses, without falling back', async () => {
      const ids = randomIds(Math.min(S, 9), V, 3);
      const ablate = [{ layer: 0, head: 1 }];
      if (backend.name === 'cpu') {
        expectParity(where, await runner.forward(ids, { trace: true, ablate }), forward(model, ids, { trace: true, ablate }));
      } else {
        await expect(runner.forward(ids, { ablate })).rejects.toMatchObject({ code: 'ablation_cpu_only' });
        expect((await runner.forward(ids, { ablate: [] })).logits.length).toBe(ids.length * V); // an empty list is no ablation
      }
    });

    it('passes the parity scenario that the Chromium page runs (tests/e2e/webgpu.spec.ts)', async () => {
      const cases = await parityScenario(runner, model);
      expect(cases).toHaveLength(5);
      for (const c of cases) expectWithin(where, c.diffs, c.passes);
    });

    it('decodes token by token (the single-row path) as the reference does', async () => {
      const ids = randomIds(Math.min(S, 6), V, 9);
      const cache = runner.createCache();
      const ref = createCache(model.config);
      for (const id of ids) {
        expectParity(where, await runner.forward([id], { cache, trace: true, lastOnly: true }), forward(model, [id], { cache: ref, trace: true, lastOnly: true }));
      }
      expect(cache.length).toBe(ids.length);
    });

    it('returns with lastOnly the logits of the last position only, (1, V)', async () => {
      const ids = randomIds(5, V, 3);
      const all = await runner.forward(ids);
      const last = await runner.forward(ids, { lastOnly: true, trace: ['logits'] });
      expect(last.logits.length).toBe(V);
      expect((last.trace.logits as TracedTensor | undefined)?.shape).toEqual([1, V]);
      expectParity(where, last, forward(model, ids, { lastOnly: true, trace: ['logits'] }));
      // the same row as the full pass gives, up to summation order (one row takes the matrix-vector path)
      const row = all.logits.subarray(4 * V);
      expect(Math.max(...last.logits.map((x, j) => Math.abs(x - row[j])))).toBeLessThanOrEqual(parityTolerance * Math.max(...row.map(Math.abs)));
    });

    it('traces only the keys asked for', async () => {
      const got = await runner.forward([1, 2, 3], { trace: ['attn.weights', 'x0'] });
      expect(Object.keys(got.trace).sort()).toEqual(['layers', 'x0']);
      expect(got.trace.layers.map((l) => Object.keys(l))).toEqual(Array.from({ length: model.config.n_layer }, () => ['attn.weights']));
      expectParity(where, got, forward(model, [1, 2, 3], { trace: ['attn.weights', 'x0'] }));
    });

    it('fills the context to exactly n_positions; one token more is a context_overflow that leaves the cache as it was', async () => {
      const ids = randomIds(S, V, 21);
      const cache = runner.createCache();
      const ref = createCache(model.config);
      expectParity(where, await runner.forward(ids, { cache, lastOnly: true }), forward(model, ids, { cache: ref, lastOnly: true }));
      await expect(runner.forward([0], { cache })).rejects.toMatchObject({ code: 'context_overflow' });
      expect(cache.length).toBe(S);
    });

    it('rejects an empty prompt and out-of-vocabulary ids with an EngineError, on the same backend, cache untouched', async () => {
      const cache = runner.createCache();
      await runner.forward([1, 2], { cache });
      await expect(runner.forward([], { cache })).rejects.toMatchObject({ code: 'empty_prompt' });
      for (const id of [-1, V, 1.5, NaN]) {
        await expect(runner.forward([id], { cache })).rejects.toBeInstanceOf(EngineError);
        await expect(runner.forward([id], { cache })).rejects.toMatchObject({ code: 'bad_token' });
      }
      expect(cache.length).toBe(2);
      const ref = createCache(model.config);
      forward(model, [1, 2], { cache: ref });
      expectParity(where, await runner.forward([3], { cache, trace: true }), forward(model, [3], { cache: ref, trace: true }));
      expect(runner.backend).toBe(backend.name);
    });
  });
});

describe('falling back from WebGPU to the CPU', () => {
  const model = parityModel(makeConfig('micro'), 3);
  const V = model.config.vocab_size;
  const prefix = randomIds(6, V, 1);
  const more = randomIds(4, V, 2);

  async function watchedRunner() {
    const { gpu, devices } = watchedGpu();
    const reasons: string[] = [];
    // SwiftShader is a software adapter, which `auto` skips: ask for WebGPU by name
    const runner = await createRunner(model, { backend: 'webgpu', gpu, onFallback: (r) => reasons.push(r) });
    expect(runner.backend).toBe('webgpu');
    expect(devices).toHaveLength(1);
    return { runner, device: devices[0], reasons };
  }

  // what the reference computes for prefix, then more (traced), then one more token (traced)
  function reference() {
    const cache = createCache(model.config);
    forward(model, prefix, { cache });
    return { cache, afterMore: forward(model, more, { cache, trace: true }) };
  }

  async function expectContinuesOnCpu(runner: Runner, cache: Cache, ref: { cache: KVCache }, reasons: string[]) {
    expect(runner.backend).toBe('cpu');
    expect(reasons).toHaveLength(1);
    expect(cache.length).toBe(prefix.length + more.length);
    // the rebuilt cache holds the same keys and values: the next token sees the same past
    const next = await runner.forward([5], { cache, trace: true });
    expectParity('fallback, after the switch', next, forward(model, [5], { cache: ref.cache, trace: true }));
  }

  it('a device destroyed between two forward passes: the next runs on the CPU with the same numbers and cache', async () => {
    const { runner, device, reasons } = await watchedRunner();
    const cache = runner.createCache();
    await runner.forward(prefix, { cache });
    expect(runner.backend).toBe('webgpu');
    device.destroy();
    const got = await runner.forward(more, { cache, trace: true });
    const ref = reference();
    expectParity('fallback, device destroyed between calls', got, ref.afterMore);
    expect(reasons[0]).toMatch(/continuing on the CPU/);
    await expectContinuesOnCpu(runner, cache, ref, reasons);
    runner.dispose();
  });

  it('a device lost after a pass was submitted, before its readback: that pass is redone on the CPU', async () => {
    const { runner, device, reasons } = await watchedRunner();
    const cache = runner.createCache();
    await runner.forward(prefix, { cache });
    const queue = device.queue;
    const submit = queue.submit.bind(queue);
    let submitted = 0;
    queue.submit = (buffers: Iterable<GPUCommandBuffer>) => {
      submit(buffers);
      submitted++;
      device.destroy();
    };
    const ref = reference();
    expectParity('fallback, device lost mid-pass', await runner.forward(more, { cache, trace: true }), ref.afterMore);
    expect(submitted).toBe(1);
    await expectContinuesOnCpu(runner, cache, ref, reasons);
    runner.dispose();
  });

  it('a GPU error outside any forward pass (an uncaptured validation error) moves the next pass to the CPU', async () => {
    const { runner, device, reasons } = await watchedRunner();
    const cache = runner.createCache();
    await runner.forward(prefix, { cache });
    const reported = new Promise((resolve) => device.addEventListener('uncapturederror', resolve, { once: true }));
    device.createBuffer({ size: 4, usage: 0 }); // a buffer with no usage is invalid
    await reported;
    const ref = reference();
    expectParity('fallback, uncaptured GPU error', await runner.forward(more, { cache, trace: true }), ref.afterMore);
    expect(reasons[0]).toMatch(/error/i);
    await expectContinuesOnCpu(runner, cache, ref, reasons);
    runner.dispose();
  });

  it('overlapping forward passes when the device is lost all complete on the CPU', async () => {
    const { runner, device, reasons } = await watchedRunner();
    const caches = [runner.createCache(), runner.createCache(), runner.createCache()];
    const pending = caches.map((cache, i) => runner.forward(randomIds(3 + i, V, 40 + i), { cache, trace: true }));
    device.destroy();
    const results = await Promise.all(pending);
    results.forEach((got, i) => expectParity('fallback, overlapping calls', got, forward(model, randomIds(3 + i, V, 40 + i), { trace: true })));
    expect(runner.backend).toBe('cpu');
    expect(reasons).toHaveLength(1);
    runner.dispose();
  });

  it('refuses a cache made by another runner (bad_cache), and stays on the GPU', async () => {
    const { runner, reasons } = await watchedRunner();
    const cpu = await createRunner(model, { backend: 'cpu' });
    await expect(runner.forward([1], { cache: cpu.createCache() })).rejects.toMatchObject({ code: 'bad_cache' });
    expect(runner.backend).toBe('webgpu');
    expect(reasons).toEqual([]);
    runner.dispose();
  });

  it('no adapter at start: auto gives the CPU and says why; webgpu asked for explicitly is an EngineError', async () => {
    const none = { requestAdapter: async () => null } as unknown as GPU;
    const reasons: string[] = [];
    const runner = await createRunner(model, { gpu: none, onFallback: (r) => reasons.push(r) });
    expect(runner.backend).toBe('cpu');
    expect(reasons).toEqual(['WebGPU unavailable: no GPU adapter is available']);
    await expect(createRunner(model, { backend: 'webgpu', gpu: none })).rejects.toMatchObject({ code: 'no_webgpu' });
  });

  it('a software (fallback) adapter only: auto prefers the CPU and says why; webgpu by name takes it', async () => {
    const reasons: string[] = [];
    const auto = await createRunner(model, { gpu: nodeGpu(), onFallback: (r) => reasons.push(r) });
    expect(auto.backend).toBe('cpu');
    expect(reasons[0]).toMatch(/software/);
    const named = await createRunner(model, { backend: 'webgpu', gpu: nodeGpu() });
    expect(named.backend).toBe('webgpu');
    named.dispose();
  });
});

describe('the work of one WebGPU forward pass', () => {
  it('is one submit and one map of one staging buffer, for a traced prompt and for each decoded token', async () => {
    const model = parityModel(makeConfig('micro'), 8);
    const { gpu, devices } = watchedGpu();
    const runner = await createRunner(model, { backend: 'webgpu', gpu });
    const device = devices[0];
    const submit = device.queue.submit.bind(device.queue);
    let submits = 0;
    device.queue.submit = (buffers: Iterable<GPUCommandBuffer>) => {
      submits++;
      submit(buffers);
    };
    const bufferProto = Object.getPrototypeOf(device.createBuffer({ size: 4, usage: 8 })) as GPUBuffer;
    const mapAsync = bufferProto.mapAsync;
    const mapped = new Set<GPUBuffer>();
    let maps = 0;
    bufferProto.mapAsync = function (this: GPUBuffer, ...args: Parameters<GPUBuffer['mapAsync']>) {
      maps++;
      mapped.add(this);
      return mapAsync.apply(this, args);
    };
    try {
      const cache = runner.createCache();
      await runner.forward(randomIds(9, model.config.vocab_size, 4), { cache, trace: true });
      expect([submits, maps]).toEqual([1, 1]);
      for (const id of [1, 2, 3]) await runner.forward([id], { cache, trace: ['attn.weights'], lastOnly: true });
      expect([submits, maps]).toEqual([4, 4]);
      expect(mapped.size).toBe(1); // the staging buffer is reused while it is large enough
    } finally {
      bufferProto.mapAsync = mapAsync;
    }
    expect(runner.backend).toBe('webgpu');
    runner.dispose();
  });
});

describe('splitting weights larger than one GPU binding', () => {
  it('covers every column with blocks of multiples of 4 that each fit the limit, as even as they can be', () => {
    for (const [cols, perColumn, max] of [[512, 512, 65536], [3072, 3072, 1 << 20], [12, 4, 16], [1028, 4, 4096], [8, 4, 1 << 30]]) {
      const blocks = columnBlocks(cols, perColumn, max);
      expect(blocks[0].col0).toBe(0);
      blocks.forEach((b, i) => {
        expect(b.cols % 4).toBe(0);
        expect(b.cols * perColumn).toBeLessThanOrEqual(max);
        if (i > 0) expect(b.col0).toBe(blocks[i - 1].col0 + blocks[i - 1].cols);
      });
      expect(blocks.reduce((n, b) => n + b.cols, 0)).toBe(cols);
      expect(blocks.length).toBe(Math.ceil(cols / (Math.floor(max / perColumn / 4) * 4)));
      expect(blocks[0].cols - blocks[blocks.length - 1].cols).toBeLessThanOrEqual(4 * blocks.length);
    }
  });

  it("splits GPT-2's 154 MB token embedding under the default 128 MiB binding limit into 2 blocks", () => {
    const V4 = 50260; // 50257 padded to a multiple of 4
    const blocks = columnBlocks(V4, 4 * 1024, 128 * 2 ** 20); // a column of wteᵀ is C = 768 values, of the logits 1024 rows
    expect(blocks.map((b) => b.cols)).toEqual([25132, 25128]);
  });

  it('refuses a limit that cannot hold four columns, and a column count that is not a multiple of 4', () => {
    expect(() => columnBlocks(64, 4096, 16383)).toThrow(EngineError);
    expect(() => columnBlocks(10, 4, 1 << 20)).toThrow(/multiple of 4/);
  });

  it('slices column blocks of a row-major matrix, and transposed blocks with zero padding past the end', () => {
    const m = Float32Array.from({ length: 3 * 6 }, (_, i) => i); // (3, 6)
    expect(Array.from(sliceColumns(m, 3, 6, { col0: 4, cols: 4 }))).toEqual([4, 5, 0, 0, 10, 11, 0, 0, 16, 17, 0, 0]);
    // rows 4..7 of m (6 rows of 3), transposed to (3, 4); rows 6 and 7 do not exist
    const n = Float32Array.from({ length: 6 * 3 }, (_, i) => i); // (6, 3)
    expect(Array.from(transposedBlock(n, 6, 3, { col0: 4, cols: 4 }))).toEqual([12, 15, 0, 0, 13, 16, 0, 0, 14, 17, 0, 0]);
  });

  it('a model split into many blocks by a forced 64 KiB limit computes what the reference does, used directly', async () => {
    const model = parityModel(shippedConfig, 13);
    const runner = await createWebGPURunner(model, nodeGpu(), { maxWeightBlockBytes: 64 * 1024 });
    const c = model.config;
    const blocks = (cols: number, perColumn: number) => columnBlocks(cols, perColumn, 64 * 1024).length;
    const expected = blocks(Math.ceil(c.vocab_size / 4) * 4, 4 * Math.max(c.n_embd, c.n_positions)) +
      c.n_layer * (blocks(3 * c.n_embd, 4 * c.n_embd) + blocks(c.n_embd, 4 * c.n_embd) + blocks(4 * c.n_embd, 4 * c.n_embd) + blocks(c.n_embd, 16 * c.n_embd));
    expect(runner.weightBlocks).toBe(expected);
    // used without the fallback wrapper, the WebGPU runner checks caches itself
    const cpu = await createRunner(model, { backend: 'cpu' });
    await expect(runner.forward([1], { cache: cpu.createCache() })).rejects.toMatchObject({ code: 'bad_cache' });
    expect(runner.weightBlocks).toBeGreaterThan(2 * (1 + 4 * c.n_layer));
    const ids = randomIds(9, c.vocab_size, 77);
    const cache = runner.createCache();
    const ref = createCache(c);
    expectParity('webgpu, split into 64 KiB blocks', await runner.forward(ids, { cache, trace: true }), forward(model, ids, { cache: ref, trace: true }));
    expectParity('webgpu, split into 64 KiB blocks', await runner.forward([3], { cache, trace: true }), forward(model, [3], { cache: ref, trace: true }));
    runner.dispose();
  });
});
