// The async half of a figure, written once: run a computation in the engine, keep the newest
// answer, drop answers that arrive after a newer request (a reader typing faster than the model
// runs), and remember the error of the newest request.
import { failure, type EngineFailure } from '$lib/engine/client.svelte';

export class Latest<T> {
  value = $state.raw<T | null>(null); // the newest answer, kept while a newer one is computed
  error = $state.raw<EngineFailure | null>(null); // the newest request's failure, if it failed
  busy = $state(false);
  #request = 0;

  // Start `work`; resolves when it is done (or superseded). Never rejects: failures land in
  // `error`, so a widget's effect can fire and forget.
  async run(work: () => Promise<T>): Promise<void> {
    const mine = ++this.#request;
    this.busy = true;
    try {
      const v = await work();
      if (mine !== this.#request) return;
      this.value = v;
      this.error = null;
    } catch (e) {
      if (mine !== this.#request) return;
      this.error = failure(e);
    } finally {
      if (mine === this.#request) this.busy = false;
    }
  }

  // Forget the answer (a figure reset); an answer still on its way is dropped.
  clear(): void {
    this.#request++;
    this.value = null;
    this.error = null;
    this.busy = false;
  }
}

// Debounce for a figure that recomputes as the reader types: the first run is immediate, later
// ones wait until the typing pauses. Returns the effect's cleanup.
export function soon(first: boolean, fn: () => void, ms = 180): () => void {
  const timer = setTimeout(fn, first ? 0 : ms);
  return () => clearTimeout(timer);
}
