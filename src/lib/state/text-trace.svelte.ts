// The reader's text and the forward pass over it that an attention figure draws from: traced
// again (debounced) whenever the text or the backend changes, once the figure has started. Built
// during a component's setup, so its effect lives and dies with the figure.
import { untrack } from 'svelte';
import type { TraceKey } from '../../../engine/gpt';
import type { EngineClient } from '$lib/engine/client.svelte';
import type { TextTrace } from '$lib/engine/inspect';
import { Latest, soon } from '$lib/figure/latest.svelte';

export class TextTraceState {
  text = $state('');
  started = $state(false);
  readonly result = new Latest<TextTrace>();
  trace = $derived(this.result.value);
  T = $derived(this.result.value?.ids.length ?? 0);

  constructor(engine: EngineClient, initial: string, keys: TraceKey[]) {
    this.text = initial;
    $effect(() => {
      if (!this.started) return;
      void engine.backendEpoch; // a new runner: the same text, traced again
      const t = this.text;
      // every layer at once, so switching layer or head is instant
      return soon(!untrack(() => this.result.value), () => this.result.run(() => engine.call('trace', t, { keys })));
    });
  }

  // a traced tensor of one layer, e.g. tensor(2, 'attn.weights')
  tensor(layer: number, key: TraceKey) {
    return this.result.value?.tensors[`h.${layer}.${key}`] ?? null;
  }
}
