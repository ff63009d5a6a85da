// Looking inside one forward pass: the reader's text, tokenized, run through the model with the
// intermediates a figure asks for kept (the trace keys of engine/gpt.ts: `attn.weights`, `q`,
// `mlp.act`, ...). What the tokens, embeddings, attention and block figures draw comes from here.
import type { TraceKey } from '../../../engine/gpt';
import { checkTokens } from '../../../engine/gpt';
import type { EngineContext, PassTiming } from './api';

export interface TracedTensor {
  shape: number[];
  data: Float32Array;
}

export interface TextTokens {
  ids: number[]; // as the model sees them (at most n_positions)
  pieces: string[]; // each token's text for display (a lone byte of a character shows as <0xE2>)
  bytes: number[][]; // each token's UTF-8 bytes
  cut: number; // tokens cut from the END because the text was longer than the context
}

export interface TextTrace extends TextTokens {
  // `logits`, `tok_emb`, ... for the model-level keys; `h.<layer>.<key>` for the per-layer ones,
  // as GPT-2 names its blocks (`h.0.attn.weights` is layer 0's (nh, T, T) softmax weights)
  tensors: Record<string, TracedTensor>;
  pass: PassTiming;
}

export interface TraceOptions {
  keys: TraceKey[];
  layers?: number[]; // keep per-layer keys of these layers only; default all
}

export function createInspectApi(ctx: EngineContext) {
  // The reader's text as tokens, cut to the context from the end: inspection figures read a text
  // from its start, and a note says how much fell off.
  function tokens(text: string): TextTokens {
    const m = ctx.requireModel();
    const all = m.tokenizer.encode(text);
    const ids = all.slice(0, m.config.n_positions);
    return {
      ids,
      pieces: ids.map((id) => ctx.tokenString(id)),
      bytes: ids.map((id) => (id < m.tokenizer.vocabSize ? Array.from(m.tokenizer.tokenBytes(id)) : [])),
      cut: all.length - ids.length
    };
  }

  return {
    tokens,

    // One forward pass over the text with the asked-for intermediates kept.
    trace(text: string, opts: TraceOptions): Promise<TextTrace> {
      return ctx.serial(async () => {
        const r = ctx.requireRunner();
        const m = ctx.requireModel();
        const t = tokens(text);
        checkTokens(m.config, t.ids);
        const { logits, trace } = await r.forward(t.ids, { trace: opts.keys });
        const tensors: Record<string, TracedTensor> = {};
        const layers = opts.layers ?? trace.layers.map((_, l) => l);
        for (const key of opts.keys) {
          if (key === 'logits') tensors.logits = { shape: [t.ids.length, m.config.vocab_size], data: logits };
          const top = (trace as unknown as Record<string, TracedTensor | undefined>)[key];
          if (top && key !== 'logits') tensors[key] = top;
        }
        for (const l of layers) {
          const layer = trace.layers[l] as Record<string, TracedTensor | undefined> | undefined;
          if (!layer) continue;
          for (const key of opts.keys) {
            const v = layer[key];
            if (v) tensors[`h.${l}.${key}`] = v;
          }
        }
        return { ...t, tensors, pass: ctx.timing() };
      });
    }
  };
}
