// The CPU backend: the forward pass of gpt.ts behind the Runner interface. By default its matmuls
// run as WebAssembly SIMD kernels with the weights copied once into WASM memory; where WebAssembly
// SIMD is missing, or with { simd: false }, it runs the plain-loop reference kernels.
import type { Cache, Runner } from '../backend';
import { EngineError } from '../errors';
import { createCache, forward, type KVCache, type MatmulKernels, type Params, type Weights } from '../gpt';
import { loadWasmKernels } from '../wasm/index';

export function createCpuRunner(model: Weights, kernels?: MatmulKernels, device = 'CPU (JavaScript, single thread)'): Runner {
  // A cache holds one model's keys and values: another model's, even of the same shape, would give
  // numbers that look right and are not, so only this runner's own caches are taken.
  const own = new WeakSet<Cache>();
  return {
    backend: 'cpu',
    device,
    createCache(): Cache {
      const cache = createCache(model.config);
      own.add(cache);
      return cache;
    },
    async forward(ids, opts = {}) {
      if (opts.cache !== undefined && !own.has(opts.cache)) {
        throw new EngineError('bad_cache', 'This cache belongs to another runner: make caches with the runner that uses them.');
      }
      const { logits, trace } = forward(model, ids, { ...opts, kernels, cache: opts.cache as KVCache | undefined });
      return { logits, trace };
    },
    dispose() {}
  };
}

export async function createFastCpuRunner(model: Weights): Promise<Runner> {
  let k;
  try {
    const bytes = Object.values(model.params).reduce((n, t) => n + t.byteLength, 0);
    k = await loadWasmKernels({ maxBytes: Math.ceil((bytes + 64 * 2 ** 20) / 65536) * 65536 });
  } catch {
    return createCpuRunner(model);
  }
  // weights live in WASM memory so the kernels read them in place; activations are copied per call
  const params: Params = {};
  for (const [name, t] of Object.entries(model.params)) {
    params[name] = k.alloc(t.length);
    params[name].set(t);
  }
  return createCpuRunner({ config: model.config, params }, k, 'CPU (WebAssembly SIMD, single thread)');
}
