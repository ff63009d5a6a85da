// The model's token texts on the page, fetched from the worker once per engine and shared by the
// figures that label tokens by id.
import type { EngineClient } from './client.svelte';

const cache = new WeakMap<EngineClient, Promise<string[]>>();

export function vocabulary(engine: EngineClient): Promise<string[]> {
  let p = cache.get(engine);
  if (!p) {
    p = engine.call('vocabulary');
    cache.set(engine, p);
    p.catch(() => cache.delete(engine)); // a failed load may be retried
  }
  return p;
}
