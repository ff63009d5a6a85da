// The WebGPU backend: the forward pass of gpt.ts as WGSL kernels, behind the same Runner interface
// as the CPU backend. One forward call (a prompt, or one decoded token) is one command encoder,
// one submit, and one readback: a single staging buffer, mapped once, holding the logits and every
// traced tensor asked for. Any failure of the GPU surfaces as an EngineError with code gpu_lost or
// gpu_error, so that createRunner's fallback can continue on the CPU.
import type { Cache, RunOptions, RunResult, Runner } from '../../backend';
import { EngineError } from '../../errors';
import { checkTokens, type Trace, type TraceKey, type TracedTensor, type Weights } from '../../gpt';
import { bufferUsage, mapModeRead, requestGpu, type Gpu } from './device';
import { GpuForward, kernelSources, type CacheBuffers } from './forward';
import { Recorder, createKernels } from './recorder';
import { uploadWeights } from './weights';

export interface WebGPURunnerOptions {
  // A fallback adapter is a software rasteriser (SwiftShader): correct but slower than our CPU
  // backend, so `auto` refuses it; asking for WebGPU by name accepts it. Default true.
  allowFallbackAdapter?: boolean;
  // Split weights into blocks of at most this many bytes even where the device binds more: lets a
  // test run the splitting that a real GPT-2 needs on a device with a small binding limit.
  maxWeightBlockBytes?: number;
}

export interface WebGPURunner extends Runner {
  readonly weightBlocks: number; // GPU buffers the linear weights are split into (one per matrix when none is split)
  readonly gpu: Gpu; // the device, and what must outlive it
}

class GpuCache implements Cache {
  length = 0;
  constructor(
    readonly owner: object,
    readonly buffers: CacheBuffers
  ) {}
}

export async function createWebGPURunner(model: Weights, gpu?: GPU, opts: WebGPURunnerOptions = {}): Promise<WebGPURunner> {
  const { config } = model;
  if (config.n_embd % 4 !== 0) {
    throw new Error(`the WebGPU kernels read vec4s, and n_embd (${config.n_embd}) is not a multiple of 4`);
  }
  const held = await requestGpu(gpu, opts.allowFallbackAdapter ?? true);
  const { device, description, health } = held;
  try {
    const maxBinding = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    const kernels = await createKernels(device, kernelSources);
    const weights = uploadWeights(device, model, Math.min(maxBinding, opts.maxWeightBlockBytes ?? Infinity), config.n_positions);
    const gpuForward = new GpuForward(device, config, kernels, weights, maxBinding);
    const validation = await device.popErrorScope();
    const memory = await device.popErrorScope();
    if (validation || memory) throw new Error(`the GPU refused the model: ${(validation ?? memory)!.message}`);
    const weightBlocks = weights.layers.reduce(
      (n, l) => n + l.cAttn.blocks.length + l.cProj.blocks.length + l.cFc.blocks.length + l.mProj.blocks.length,
      weights.head.blocks.length
    );
    return runner(model, held, gpuForward, weightBlocks);
  } catch (e) {
    device.destroy();
    throw e;
  }
}

function runner(model: Weights, held: Gpu, gpuForward: GpuForward, weightBlocks: number): WebGPURunner {
  const { config } = model;
  const { device, description, health } = held;
  const owner = {};
  let staging: GPUBuffer | null = null; // grows to the largest readback seen
  let scratch: GpuCache | null = null; // the cache of calls that pass none, reused: passes run one at a time
  let disposed = false;
  let queue: Promise<unknown> = Promise.resolve(); // forward passes run one at a time
  // a cache that is dropped gives its GPU memory back
  const release = new FinalizationRegistry<GPUBuffer[]>((buffers) => buffers.forEach((b) => b.destroy()));

  // Allowed after dispose (WebGPU makes objects of a destroyed device inert, without throwing), so
  // that a cache made while the fallback is switching is simply rebuilt on the CPU.
  const createCache = (): GpuCache => {
    const buffers = gpuForward.createCacheBuffers();
    const cache = new GpuCache(owner, buffers);
    release.register(cache, [...buffers.k, ...buffers.v]);
    return cache;
  };

  async function run(ids: readonly number[], opts: RunOptions): Promise<RunResult> {
    if (disposed) throw new EngineError('disposed', 'This WebGPU runner has been disposed.');
    // Switching heads off is for figures that ask a question of one text, where the CPU is quick
    // enough; the GPU kernels do not implement it, and must not silently run the full model.
    if (opts.ablate && opts.ablate.length > 0) {
      throw new EngineError('ablation_cpu_only', 'Switching heads off runs on the CPU backend only: use a CPU runner for it.');
    }
    let cache = opts.cache;
    if (cache === undefined) {
      cache = scratch ??= createCache();
      scratch.length = 0;
    }
    if (!(cache instanceof GpuCache) || cache.owner !== owner) {
      throw new EngineError('bad_cache', 'This cache belongs to another runner: make caches with the runner that uses them.');
    }
    const Tc = cache.length;
    checkTokens(config, ids, Tc);
    health.check();
    const T = ids.length;
    const rows = opts.lastOnly ? 1 : T;
    const want = (key: TraceKey) => opts.trace === true || (opts.trace?.includes(key) ?? false);

    const rec = new Recorder(gpuForward.dispatches);
    const { readouts, logits } = gpuForward.record(rec, cache.buffers, T, Tc, rows, want);
    const bytes = rec.readbackBytes;
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    device.pushErrorScope('internal');
    if (!staging || staging.size < bytes) {
      staging?.destroy();
      staging = device.createBuffer({ label: 'readback', size: bytes, usage: bufferUsage.mapRead | bufferUsage.copyDst });
    }
    const target = staging;
    let thrown: unknown = null;
    try {
      device.queue.writeBuffer(gpuForward.ids, 0, new Uint32Array(ids));
      device.queue.submit([rec.finish(device, gpuForward.uniforms, target)]);
    } catch (e) {
      thrown = e;
    }
    const scopes = Promise.all([device.popErrorScope(), device.popErrorScope(), device.popErrorScope()]);
    if (thrown !== null) {
      await scopes.catch(() => undefined);
      throw health.failure(thrown);
    }
    const [errors, mapped] = await Promise.allSettled([scopes, target.mapAsync(mapModeRead, 0, bytes)]);
    const failure =
      errors.status === 'rejected' ? errors.reason
      : errors.value.find((e) => e !== null)
      ?? (mapped.status === 'rejected' ? mapped.reason : null);
    if (failure) {
      if (target.mapState === 'mapped') target.unmap();
      throw health.failure(failure);
    }
    // a device lost while the pass ran may still have let the map succeed, over stale contents
    try {
      health.check();
    } catch (e) {
      target.unmap();
      throw e;
    }

    const data = target.getMappedRange(0, bytes);
    const trace: Trace = { layers: Array.from({ length: config.n_layer }, () => ({})) };
    for (const r of readouts) {
      const t: TracedTensor = { shape: r.shape, data: new Float32Array(data, r.offset, r.shape.reduce((a, b) => a * b, 1)).slice() };
      if (r.layer === null) (trace as unknown as Record<string, TracedTensor>)[r.key] = t;
      else (trace.layers[r.layer] as Record<string, TracedTensor>)[r.key] = t;
    }
    const V = config.vocab_size;
    const out = new Float32Array(logits.rows * V); // (rows, V)
    for (const b of logits.blocks) {
      const block = new Float32Array(data, b.offset, logits.rows * b.cols); // (rows, cols)
      const cols = Math.min(b.cols, V - b.col0); // the last block may end in padding
      for (let r = 0; r < logits.rows; r++) out.set(block.subarray(r * b.cols, r * b.cols + cols), r * V + b.col0);
    }
    target.unmap();
    if (want('logits')) trace.logits = { shape: [logits.rows, V], data: out.slice() };
    cache.length = Tc + T;
    return { logits: out, trace };
  }

  return {
    backend: 'webgpu',
    device: description,
    weightBlocks,
    createCache,
    forward(ids, opts = {}) {
      const result = queue.then(() => run(ids, opts));
      queue = result.catch(() => undefined);
      return result;
    },
    gpu: held,
    dispose() {
      disposed = true;
      device.destroy();
    }
  };
}
