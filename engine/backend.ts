// One interface over every backend: the CPU reference and WebGPU. A Runner holds one model's
// weights on its device; a Cache holds the keys and values of the tokens fed so far. The engine
// prefers WebGPU, falls back to the CPU when no adapter or device comes up, and moves to the CPU
// mid-session when the GPU is lost, recomputing the cache from the tokens it had seen.
import type { Ablation, Trace, TraceKey, Weights } from './gpt';
import { EngineError } from './errors';
import { createFastCpuRunner } from './backends/cpu';

export type BackendName = 'cpu' | 'webgpu';

export interface Cache {
  readonly length: number; // tokens fed so far
}

export interface RunOptions {
  cache?: Cache; // continue from this cache (extended in place); default a fresh one
  trace?: readonly TraceKey[] | true;
  lastOnly?: boolean; // logits of the last position only
  ablate?: readonly Ablation[]; // heads switched off (see gpt.ts); the CPU backend only
}

export interface RunResult {
  logits: Float32Array; // (T, V) or (1, V) with lastOnly
  trace: Trace;
}

export interface Runner {
  readonly backend: BackendName;
  readonly device: string; // what runs it, in words
  createCache(): Cache;
  forward(ids: readonly number[], opts?: RunOptions): Promise<RunResult>;
  dispose(): void;
}

export interface RunnerOptions {
  backend?: BackendName | 'auto';
  gpu?: GPU; // navigator.gpu, or the webgpu package's in Node; default globalThis.navigator?.gpu
  onFallback?: (reason: string) => void; // told when WebGPU could not start or was lost
}

export async function createRunner(model: Weights, opts: RunnerOptions = {}): Promise<Runner> {
  const want = opts.backend ?? 'auto';
  if (want === 'cpu') return createFastCpuRunner(model);
  let gpu: Runner;
  try {
    const { createWebGPURunner } = await import('./backends/webgpu/index');
    gpu = await createWebGPURunner(model, opts.gpu, { allowFallbackAdapter: want === 'webgpu' });
  } catch (e) {
    const reason = `WebGPU unavailable: ${(e as Error).message}`;
    if (want === 'webgpu') throw new EngineError('no_webgpu', reason);
    opts.onFallback?.(reason);
    return createFastCpuRunner(model);
  }
  return withFallback(model, gpu, opts.onFallback);
}

// Wraps a GPU runner so that any GPU failure mid-session (a lost device, an out-of-memory, a
// validation error) moves the work to the CPU: the failed call is recomputed there, and each live
// cache is rebuilt from the token ids it had been fed, so a caller never sees the switch but in speed.
function withFallback(model: Weights, gpu: Runner, onFallback?: (reason: string) => void): Runner {
  let active: Runner = gpu;
  let cpuRunner: Promise<Runner> | null = null; // one CPU runner, however many calls fail at once
  const cpu = () => (cpuRunner ??= createFastCpuRunner(model));
  let switching: Promise<void> | null = null; // the move to the CPU, once it has begun
  class TrackedCache implements Cache {
    ids: number[] = [];
    inner: Cache;
    innerOf: Runner;
    constructor() {
      this.inner = active.createCache();
      this.innerOf = active;
    }
    get length() {
      return this.ids.length;
    }
  }
  const runner: Runner = {
    get backend() {
      return active.backend;
    },
    get device() {
      return active.device;
    },
    createCache: () => new TrackedCache(),
    async forward(ids, opts = {}) {
      const cache = opts.cache as TrackedCache | undefined;
      if (cache !== undefined && !(cache instanceof TrackedCache)) {
        throw new EngineError('bad_cache', 'This cache belongs to another runner: make caches with the runner that uses them.');
      }
      for (let attempt = 0; ; attempt++) {
        // Calls can overlap (the page awaits one while the reader types), so each attempt keeps the
        // runner it started on: when a concurrent call has already moved to the CPU, a failure of
        // this one on the old GPU runner is redone on the CPU, not reported.
        const used = active;
        try {
          if (cache && cache.innerOf !== used) {
            // rebuild this cache on the new backend from the ids it had seen
            cache.inner = used.createCache();
            cache.innerOf = used;
            if (cache.ids.length > 0) await used.forward(cache.ids, { cache: cache.inner, lastOnly: true });
          }
          const result = await used.forward(ids, { ...opts, cache: cache?.inner });
          cache?.ids.push(...ids);
          return result;
        } catch (e) {
          if (used !== active) continue;
          if (used === gpu && switching) {
            // another call is already moving to the CPU (and has disposed the GPU runner)
            await switching;
            continue;
          }
          if (e instanceof EngineError && e.code !== 'gpu_error' && e.code !== 'gpu_lost') throw e; // bad input: the same on any backend
          if (used.backend === 'cpu' || attempt > 0) throw e;
          const reason = `WebGPU failed, continuing on the CPU: ${(e as Error).message}`;
          switching = (async () => {
            try {
              used.dispose();
            } catch {
              // the device may already be gone
            }
            active = await cpu();
            onFallback?.(reason);
          })();
          await switching;
        }
      }
    },
    dispose: () => active.dispose()
  };
  return runner;
}
