// The reader's text and the model's scores for the token after it, with the vocabulary to name
// them: one forward pass (debounced) whenever the text or the backend changes, once the figure has
// started. The sampling figures reshape these scores on the page, without another pass. Built
// during a component's setup, so its effect lives and dies with the figure.
import { untrack } from 'svelte';
import type { EngineClient } from '$lib/engine/client.svelte';
import type { NextLogits } from '$lib/engine/sampling';
import { vocabulary } from '$lib/engine/vocabulary';
import { Latest, soon } from '$lib/figure/latest.svelte';

export type NextScores = NextLogits & { text: string; vocab: string[] };

export class NextLogitsState {
  text = $state('');
  started = $state(false);
  readonly result = new Latest<NextScores>();
  value = $derived(this.result.value);

  constructor(engine: EngineClient, initial: string) {
    this.text = initial;
    $effect(() => {
      if (!this.started) return;
      void engine.backendEpoch; // a new runner: the same text, run again
      const text = this.text;
      return soon(!untrack(() => this.result.value), () =>
        this.result.run(async () => {
          const [next, vocab] = await Promise.all([engine.call('nextLogits', text), vocabulary(engine)]);
          return { ...next, text, vocab };
        })
      );
    });
  }
}
