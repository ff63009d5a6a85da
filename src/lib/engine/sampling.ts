// The sampling chapter's question to the engine: the raw scores (logits) of the next token after
// the reader's text, once. Temperature, top-k and top-p then reshape them on the page with the
// engine's own distribution() (engine/sampling.ts), so a slider never needs another forward pass.
import { checkTokens } from '../../../engine/gpt';
import type { EngineContext, PassTiming } from './api';

export interface NextLogits {
  ids: number[]; // the text's token ids, as the model saw them
  pieces: string[]; // the text of each of those tokens
  dropped: number; // tokens cut from the front because the text was longer than the context
  logits: Float32Array; // (V) the scores for the token after the last one
  pass: PassTiming;
}

export function createSamplingApi(ctx: EngineContext) {
  return {
    // Every token's text for display, by id (V strings): asked for once, so a figure can label
    // whichever tokens a temperature or a cut brings into view without asking again.
    vocabulary(): string[] {
      const m = ctx.requireModel();
      return Array.from({ length: m.config.vocab_size }, (_, id) => ctx.tokenString(id));
    },

    // One forward pass, last position only. A text longer than the context keeps its end, as the
    // next-token figure and chat front-ends do, and says how much fell off the front.
    nextLogits(text: string): Promise<NextLogits> {
      return ctx.serial(async () => {
        const r = ctx.requireRunner();
        const m = ctx.requireModel();
        const all = m.tokenizer.encode(text);
        const dropped = Math.max(0, all.length - m.config.n_positions);
        const ids = all.slice(dropped);
        checkTokens(m.config, ids);
        const { logits } = await r.forward(ids, { lastOnly: true }); // (1, V)
        // a copy: the runner may hand back a view of a buffer it reuses, and a view would carry
        // its whole buffer to the page
        return { ids, pieces: ids.map((id) => ctx.tokenString(id)), dropped, logits: logits.slice(), pass: ctx.timing() };
      });
    }
  };
}
