// Many heads: every head's attention pattern on the reader's text, with the scores that say what
// each does (engine/head-stats.ts), and heads switched off to see what the next token loses
// (the forward pass's `ablate` option, engine/gpt.ts).
//
// Ablation always runs on a CPU runner. The WebGPU kernels do not implement it, and these are
// questions about one short text where the CPU takes milliseconds per pass; "before" and "after"
// then come from the same kernels, so their difference is the head's doing, not the backend's.
// When the page already runs on the CPU its runner is used; otherwise a second, CPU copy of the
// weights is made once, on the first ablation.
import { klDivergence, totalVariation } from '../../../engine/ablation';
import { createFastCpuRunner } from '../../../engine/backends/cpu';
import type { Runner } from '../../../engine/backend';
import { EngineError } from '../../../engine/errors';
import { checkAblations, checkTokens, type Ablation } from '../../../engine/gpt';
import { layerScores, type HeadScores } from '../../../engine/head-stats';
import type { Model } from '../../../engine/model';
import { distribution, softmaxWithTemperature } from '../../../engine/sampling';
import type { EngineContext, PassTiming } from './api';
import { createInspectApi, type TextTokens } from './inspect';

export interface AttentionHeads extends TextTokens {
  nLayer: number;
  nHead: number;
  weights: Float32Array[]; // per layer, (nh, T, T): row i is how much token i attends to each j
  scores: HeadScores[][] | null; // [layer][head]; null below 2 tokens, where no head has a choice
  pass: PassTiming;
}

export interface NextTokenProb {
  id: number;
  text: string;
  p: number; // at temperature 1
}

export interface AblationResult extends TextTokens {
  ablate: Ablation;
  before: NextTokenProb[]; // the n most likely next tokens of the full model
  after: NextTokenProb[]; // ... and with the head switched off
  kl: number; // KL(before ‖ after) over the whole vocabulary, in nats
  tv: number; // total variation between them
  device: string; // what ran the passes
}

export interface AblationEffect {
  layer: number;
  head: number | 'all';
  kl: number;
  tv: number;
}

export interface AblationRanking extends TextTokens {
  heads: AblationEffect[]; // every head, largest KL first
  layers: AblationEffect[]; // every layer's whole attention, largest KL first
  device: string;
}

export interface RankingProgress {
  done: number;
  total: number;
}

export function createHeadsApi(ctx: EngineContext) {
  const inspect = createInspectApi(ctx);
  let own: { model: Model; runner: Promise<Runner> } | null = null;
  const rankings = new Map<string, number>(); // per caller: the newest ranking; older ones stop

  async function cpuRunner(): Promise<Runner> {
    const active = ctx.requireRunner();
    if (active.backend === 'cpu') {
      own = null; // the page's runner does it; let the copy go
      return active;
    }
    const m = ctx.requireModel();
    if (own?.model !== m) own = { model: m, runner: createFastCpuRunner(m) };
    return own.runner;
  }

  function prepared(text: string): TextTokens {
    const t = inspect.tokens(text);
    checkTokens(ctx.requireModel().config, t.ids);
    return t;
  }

  // the next-token distribution after the text, with the given heads off
  async function nextProbs(r: Runner, ids: number[], ablate: Ablation[]) {
    const { logits } = await r.forward(ids, { lastOnly: true, ablate }); // (1, V)
    return { logits, p: softmaxWithTemperature(logits, 1) };
  }

  function top(logits: Float32Array, n: number): NextTokenProb[] {
    const d = distribution(logits, { temperature: 1 });
    return Array.from(d.kept.subarray(0, n), (id) => ({ id, text: ctx.tokenString(id), p: d.probs[id] }));
  }

  return {
    // Every head of every layer on the text: one forward pass, attn.weights of all layers.
    async attentionHeads(text: string): Promise<AttentionHeads> {
      const m = ctx.requireModel();
      const { n_layer: nLayer, n_head: nHead } = m.config;
      const tr = await inspect.trace(text, { keys: ['attn.weights'] });
      const T = tr.ids.length;
      const weights = Array.from({ length: nLayer }, (_, l) => tr.tensors[`h.${l}.attn.weights`].data); // (nh, T, T) each
      const scores = T < 2 ? null : weights.map((w) => layerScores(w, nHead, T));
      return { ids: tr.ids, pieces: tr.pieces, bytes: tr.bytes, cut: tr.cut, nLayer, nHead, weights, scores, pass: tr.pass };
    },

    // The next token before and after switching one head (or a layer's attention) off.
    ablation(text: string, ablate: Ablation, n = 8): Promise<AblationResult> {
      return ctx.serial(async () => {
        checkAblations(ctx.requireModel().config, [ablate]);
        const t = prepared(text);
        const r = await cpuRunner();
        const before = await nextProbs(r, t.ids, []);
        const after = await nextProbs(r, t.ids, [ablate]);
        return {
          ...t,
          ablate: { layer: ablate.layer, head: ablate.head },
          before: top(before.logits, n),
          after: top(after.logits, n),
          kl: klDivergence(before.p, after.p),
          tv: totalVariation(before.p, after.p),
          device: r.device
        };
      });
    },

    // What switching each head off, one at a time, and each layer's whole attention does to the
    // next token: one forward pass each. Each pass queues on its own, so other figures' calls go
    // between them on a large model; a newer ranking from the same caller stops this one.
    async ablationRanking(text: string, caller = 'ablation', onProgress?: (p: RankingProgress) => void): Promise<AblationRanking> {
      const mine = (rankings.get(caller) ?? 0) + 1;
      rankings.set(caller, mine);
      const { n_layer: L, n_head: nh } = ctx.requireModel().config;
      const t = prepared(text);
      const base = await ctx.serial(async () => nextProbs(await cpuRunner(), t.ids, []));
      const all: Ablation[] = [];
      for (let l = 0; l < L; l++) {
        for (let h = 0; h < nh; h++) all.push({ layer: l, head: h });
        all.push({ layer: l, head: 'all' });
      }
      const effects: AblationEffect[] = [];
      let device = '';
      for (const [i, a] of all.entries()) {
        if (rankings.get(caller) !== mine) throw new EngineError('superseded', 'A newer ranking replaced this one.');
        const q = await ctx.serial(async () => {
          const r = await cpuRunner();
          device = r.device;
          return nextProbs(r, t.ids, [a]);
        });
        effects.push({ ...a, kl: klDivergence(base.p, q.p), tv: totalVariation(base.p, q.p) });
        onProgress?.({ done: i + 1, total: all.length });
      }
      const byKl = (x: AblationEffect, y: AblationEffect) => y.kl - x.kl || x.layer - y.layer;
      return {
        ...t,
        heads: effects.filter((e) => e.head !== 'all').sort(byKl),
        layers: effects.filter((e) => e.head === 'all').sort(byKl),
        device
      };
    }
  };
}
