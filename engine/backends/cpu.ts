// The CPU backend: the reference forward pass of gpt.ts behind the Runner interface.
import type { Cache, Runner } from '../backend';
import { createCache, forward, type KVCache, type Weights } from '../gpt';

export function createCpuRunner(model: Weights): Runner {
  return {
    backend: 'cpu',
    device: 'CPU (JavaScript, single thread)',
    createCache: (): Cache => createCache(model.config),
    async forward(ids, opts = {}) {
      const { logits, trace } = forward(model, ids, { ...opts, cache: opts.cache as KVCache | undefined });
      return { logits, trace };
    },
    dispose() {}
  };
}
