// The training chapter's questions to the engine: how surprised the model is by each token of a
// text (the loss, token by token), the n-gram baselines against the model on held-out text, and a
// small model trained live in this worker.
import { checkTokens } from '../../../engine/gpt';
import { tokenSurprise } from '../../../engine/surprise';
import type { EngineContext, PassTiming } from './api';

export interface TextSurprise {
  ids: number[]; // the text's tokens, each one predicted from <|endoftext|> and the tokens before it
  pieces: string[];
  nats: number[]; // (T) −log P(token | before), nats
  cut: number; // tokens past the context, left out
  pass: PassTiming | null; // null when there was nothing to run
}

export function createTrainingApi(ctx: EngineContext) {
  return {
    // One forward pass over <|endoftext|> + the text, as every paragraph is read in training: the
    // first token is predicted from the start of a document, and each later one from all before it.
    surprise(text: string): Promise<TextSurprise> {
      return ctx.serial(async () => {
        const r = ctx.requireRunner();
        const m = ctx.requireModel();
        const all = m.tokenizer.encode(text);
        const ids = all.slice(0, m.config.n_positions); // the targets
        const cut = all.length - ids.length;
        if (ids.length === 0) return { ids, pieces: [], nats: [], cut, pass: null };
        const input = [m.config.eos_token_id, ...ids.slice(0, -1)]; // (T)
        checkTokens(m.config, input);
        const { logits } = await r.forward(input); // (T, V)
        const nats = Array.from(tokenSurprise(logits, ids, m.config.vocab_size));
        return { ids, pieces: ids.map((id) => ctx.tokenString(id)), nats, cut, pass: ctx.timing() };
      });
    }
  };
}
