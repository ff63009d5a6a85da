// Worker calls for the Transformer-block chapter: one token's vectors at each point of a block,
// the logit lens over the residual stream, and the MLP neurons' activity on the reader's text.
// The arithmetic lives in engine/ (logit-lens.ts, residual.ts, neurons.ts); this file picks the
// traced tensors and shapes the answers for the figures.
import { checkTokens, type Trace, type TraceKey } from '../../../engine/gpt';
import { EngineError } from '../../../engine/errors';
import { logitLens } from '../../../engine/logit-lens';
import { fingerprint, neuronSampleDefaults, neuronSampleSource, packNeurons, sampleWindows, topActivations, type NeuronsFile } from '../../../engine/neurons';
import { norm, relativeChange, row } from '../../../engine/residual';
import type { EngineContext, PassTiming } from './api';
import { createInspectApi, type TextTokens } from './inspect';
import { downloadHeldoutPack } from './training';

// The points of one block, in the order the stream passes them.
export const blockPoints = ['in', 'ln1', 'attn.out', 'res1', 'ln2', 'mlp.out', 'res2'] as const;
export type BlockPoint = (typeof blockPoints)[number];

export interface PointValues {
  values: number[]; // the first dims numbers of the (C) vector
  norm: number; // length of the whole vector
}

export interface BlockView extends TextTokens {
  position: number;
  layer: number;
  points: Record<BlockPoint, PointValues>;
  attnChange: number; // ‖attn.out‖ / ‖in‖: how much the attention sublayer changed the stream
  mlpChange: number; // ‖mlp.out‖ / ‖res1‖
  stream: number[]; // ‖x‖ at this token after the embedding (0) and after each block (l + 1)
  pass: PassTiming;
}

export interface LensRow {
  layer: number; // -1: straight after the embedding; l: after block l
  top: { id: number; text: string; p: number }[];
}

export interface LensView extends TextTokens {
  position: number;
  rows: LensRow[];
  pass: PassTiming;
}

export interface NeuronActivity extends TextTokens {
  layer: number;
  neurons: number; // 4C
  max: Float32Array; // (4C) each neuron's largest mlp.act over the text
  argmax: Int32Array; // (4C) the token where it was largest
  pre: Float32Array; // (T, 4C) mlp.pre
  act: Float32Array; // (T, 4C) mlp.act
  pass: PassTiming;
}

export function createBlockApi(ctx: EngineContext) {
  const { tokens } = createInspectApi(ctx);

  async function run(text: string, keys: TraceKey[]): Promise<{ t: TextTokens; trace: Trace }> {
    const m = ctx.requireModel();
    const t = tokens(text);
    checkTokens(m.config, t.ids);
    const { trace } = await ctx.requireRunner().forward(t.ids, { trace: keys, lastOnly: true });
    return { t, trace };
  }

  // A token position; a negative one counts from the end (-1 is the last token), so a figure can
  // ask for "the last token" before it knows how many tokens the text has.
  function resolvePosition(position: number, T: number): number {
    const p = position < 0 ? T + position : position;
    if (!Number.isInteger(p) || p < 0 || p >= T) {
      throw new EngineError('bad_position', `Token position ${position} is outside the text (0 to ${T - 1}).`);
    }
    return p;
  }

  function checkLayer(layer: number, L: number): void {
    if (!Number.isInteger(layer) || layer < 0 || layer >= L) {
      throw new EngineError('bad_layer', `Layer ${layer} does not exist: this model has layers 0 to ${L - 1}.`);
    }
  }

  return {
    // One token's vector at every point of block `layer`: the stream coming in (x0 for layer 0,
    // else res2 of the layer before), ln1, attn.out, res1, ln2, mlp.out, res2.
    block(text: string, at: number, layer: number, dims = 16): Promise<BlockView> {
      return ctx.serial(async () => {
        const m = ctx.requireModel();
        const C = m.config.n_embd;
        checkLayer(layer, m.config.n_layer);
        const { t, trace } = await run(text, ['x0', 'ln1', 'attn.out', 'res1', 'ln2', 'mlp.out', 'res2']);
        const position = resolvePosition(at, t.ids.length);
        const rowOf = (data: Float32Array) => row(data, position, C); // (C)
        const L = trace.layers[layer];
        const input = layer === 0 ? trace.x0!.data : trace.layers[layer - 1].res2!.data;
        const vectors: Record<BlockPoint, Float32Array> = {
          in: rowOf(input), ln1: rowOf(L.ln1!.data), 'attn.out': rowOf(L['attn.out']!.data), res1: rowOf(L.res1!.data),
          ln2: rowOf(L.ln2!.data), 'mlp.out': rowOf(L['mlp.out']!.data), res2: rowOf(L.res2!.data)
        };
        const points = Object.fromEntries(
          blockPoints.map((p) => [p, { values: Array.from(vectors[p].subarray(0, dims)), norm: norm(vectors[p]) }])
        ) as Record<BlockPoint, PointValues>;
        return {
          ...t, position, layer, points,
          attnChange: relativeChange(vectors['attn.out'], vectors.in),
          mlpChange: relativeChange(vectors['mlp.out'], vectors.res1),
          stream: [norm(rowOf(trace.x0!.data)), ...trace.layers.map((l) => norm(rowOf(l.res2!.data)))],
          pass: ctx.timing()
        };
      });
    },

    // The logit lens at one token: ln_f and the tied head applied after the embedding and after
    // every block; the last row is the model's real next-token distribution.
    logitLens(text: string, at: number, k = 5): Promise<LensView> {
      return ctx.serial(async () => {
        const m = ctx.requireModel();
        const C = m.config.n_embd;
        const { t, trace } = await run(text, ['x0', 'res2']);
        const position = resolvePosition(at, t.ids.length);
        const stream = new Float32Array((trace.layers.length + 1) * C); // (L+1, C)
        stream.set(row(trace.x0!.data, position, C), 0);
        trace.layers.forEach((l, i) => stream.set(row(l.res2!.data, position, C), (i + 1) * C));
        const rows = logitLens(m, stream, k).map((guesses, r) => ({
          layer: r - 1,
          top: guesses.map((g) => ({ id: g.id, text: ctx.tokenString(g.id), p: g.p }))
        }));
        return { ...t, position, rows, pass: ctx.timing() };
      });
    },

    // Every MLP neuron of one layer on the reader's text: pre-activations, activations, and each
    // neuron's largest activation and where it happened.
    neuronActivity(text: string, layer: number): Promise<NeuronActivity> {
      return ctx.serial(async () => {
        const m = ctx.requireModel();
        checkLayer(layer, m.config.n_layer);
        const { t, trace } = await run(text, ['mlp.pre', 'mlp.act']);
        const F = 4 * m.config.n_embd;
        const T = t.ids.length;
        const act = trace.layers[layer]['mlp.act']!.data; // (T, 4C)
        const max = new Float32Array(F).fill(-Infinity); // (4C)
        const argmax = new Int32Array(F); // (4C)
        for (let i = 0; i < T; i++) {
          for (let f = 0; f < F; f++) {
            if (act[i * F + f] > max[f]) {
              max[f] = act[i * F + f];
              argmax[f] = i;
            }
          }
        }
        return { ...t, layer, neurons: F, max, argmax, pre: trace.layers[layer]['mlp.pre']!.data, act, pass: ctx.timing() };
      });
    },

    // The display text of token ids (a precomputed sample's contexts).
    pieces(ids: number[]): string[] {
      const m = ctx.requireModel();
      return ids.map((id) => {
        if (!Number.isInteger(id) || id < 0 || id >= m.config.vocab_size) throw new EngineError('bad_token', `Token id ${id} is outside the vocabulary (0 to ${m.config.vocab_size - 1}).`);
        return ctx.tokenString(id);
      });
    },

    // What `npm run neurons` writes to neurons.json, for the model in use (an opened one has no
    // file): the same held-out sample (heldoutUrl: static/data/brown-heldout.json), run one window
    // per engine call, so the page's other figures are answered between them.
    async findNeurons(heldoutUrl: string, name: string, onProgress?: (p: { done: number; total: number }) => void): Promise<NeuronsFile> {
      const m = ctx.requireModel();
      const { heldout } = await downloadHeldoutPack(heldoutUrl);
      const { windows: count, tokens, k } = neuronSampleDefaults;
      const T = Math.min(tokens, m.config.n_positions);
      const windows = sampleWindows(heldout, (s) => m.tokenizer.encode(s), count, T);
      const forward = (ids: readonly number[]) =>
        ctx.serial(async () => {
          if (ctx.requireModel() !== m) throw new EngineError('model_changed', 'Another model was opened while the neurons were being found.');
          return (await ctx.requireRunner().forward(ids, { trace: ['mlp.act'], lastOnly: true })).trace;
        });
      const best = await topActivations(m.config, windows, k, forward, (done, total) => onProgress?.({ done, total }));
      return packNeurons(name, fingerprint(m.config, m.params), neuronSampleSource(windows.length, T), k, windows, best);
    },

    // The loaded weights' fingerprint, to check that a precomputed neurons.json describes them.
    weightsFingerprint(): string {
      const m = ctx.requireModel();
      return fingerprint(m.config, m.params);
    }
  };
}
