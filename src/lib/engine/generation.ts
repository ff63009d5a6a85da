// The generation chapter's questions to the engine: a generation that shows the KV cache it
// builds (the key and value rows each step wrote), the same generation run with and without the
// cache and timed step by step, and a continuation from given token ids (for forcing a token).
// Token loops are engine/generate.ts's; this file only feeds them and packs their answers.
import type { Runner } from '../../../engine/backend';
import { generateBothWays, type PairedStep } from '../../../engine/cache-timing';
import { EngineError } from '../../../engine/errors';
import { generate } from '../../../engine/generate';
import { checkTokens } from '../../../engine/gpt';
import { cacheDrift, generateRecorded, type RecordedStep } from '../../../engine/kv-cache';
import { checkSampling, softmaxWithTemperature } from '../../../engine/sampling';
import type { EngineContext } from './api';

export interface RunSettings {
  temperature: number; // 0 is greedy
  topK?: number;
  topP?: number;
  seed: number; // an integer in [0, 2^32)
  maxTokens: number;
  pastEot?: boolean; // keep writing after end-of-text (it is fed back like any token); default false
}

export interface PromptTokens {
  ids: number[]; // the prompt as the model reads it
  pieces: string[];
  cut: number; // tokens cut from the end of the text, to leave room for the new ones
}

export interface CacheStep {
  index: number; // 1 for the first new token
  chosen: number;
  chosenText: string;
  first: number; // position of the first row this step's pass wrote (the cache length before it)
  fed: number; // rows it wrote: the tokens it was fed
  cacheLength: number; // rows in the cache after it
  k: Float32Array[]; // per layer (nh, fed, hs): the key rows written
  v: Float32Array[]; // per layer (nh, fed, hs): the value rows written
  stop: string | null;
}

export interface CacheRun extends PromptTokens {
  steps: CacheStep[];
  drift: number; // max |difference| between the cache as built and one full pass over its tokens
}

export interface TimedToken {
  chosen: number;
  text: string;
  fed: number; // tokens its forward pass computed
  ms: number;
}

export interface BothWaysStep {
  index: number;
  cached: TimedToken;
  uncached: TimedToken;
  stop: string | null;
}

export interface Continuation {
  ids: number[]; // what was continued
  // top: the most likely next tokens by the model's own probabilities (softmax at T = 1, before
  // any temperature or cut), so that greedy decoding still shows the alternatives it passed over
  steps: { chosen: number; text: string; top: { id: number; text: string; p: number }[]; stop: string | null }[];
}

interface BothWaysSession {
  runner: Runner; // a backend change ends the session: its caches lived on the old runner
  steps: AsyncGenerator<PairedStep, void>;
  done: boolean;
}

const maxSessions = 4; // a page runs one or two; older ones belong to readers who moved on

function checkRun(s: RunSettings): void {
  checkSampling(s);
  if (!Number.isInteger(s.seed) || s.seed < 0 || s.seed >= 2 ** 32) {
    throw new EngineError('bad_seed', `The seed must be a whole number from 0 to ${2 ** 32 - 1}, got ${s.seed}.`);
  }
  if (!Number.isInteger(s.maxTokens) || s.maxTokens < 1) {
    throw new EngineError('bad_max_tokens', `The number of new tokens must be a whole number of at least 1, got ${s.maxTokens}.`);
  }
}

export function createGenerationApi(ctx: EngineContext) {
  const sessions = new Map<number, BothWaysSession>();
  let nextSession = 1;

  // The reader's text as a prompt with room for `room` new tokens: a text too long for that is cut
  // from its end, as the text box's note says.
  function prompt(text: string, room: number): PromptTokens {
    const m = ctx.requireModel();
    const all = m.tokenizer.encode(text);
    const ids = all.slice(0, Math.max(1, m.config.n_positions - room));
    checkTokens(m.config, ids);
    return { ids, pieces: ids.map((id) => ctx.tokenString(id)), cut: all.length - ids.length };
  }

  // eotId -1 is no token's id, so end-of-text stops nothing and is fed back as a token
  const settingsOf = (s: RunSettings) => ({
    temperature: s.temperature, topK: s.topK, topP: s.topP, seed: s.seed, maxTokens: s.maxTokens, eotId: s.pastEot ? -1 : undefined
  });

  return {
    // A generation with the KV cache, every step's new key and value rows kept, and at the end the
    // check that the rows written early are what a full pass over all the tokens computes.
    cacheRun(text: string, settings: RunSettings): Promise<CacheRun> {
      return ctx.serial(async () => {
        checkRun(settings);
        const r = ctx.requireRunner();
        const m = ctx.requireModel();
        const p = prompt(text, settings.maxTokens);
        const recorded: RecordedStep[] = [];
        for await (const s of generateRecorded(r, m.config, p.ids, settingsOf(settings))) recorded.push(s);
        const last = recorded[recorded.length - 1];
        const drift = await cacheDrift(r, m.config, last.context, recorded);
        const steps = recorded.map((s, i) => ({
          index: i + 1,
          chosen: s.chosen,
          chosenText: ctx.tokenString(s.chosen),
          first: s.rows.first,
          fed: s.rows.count,
          cacheLength: s.cacheLength,
          k: s.rows.k,
          v: s.rows.v,
          stop: s.stop ?? null
        }));
        return { ...p, steps, drift };
      });
    },

    // The same generation twice, with and without the cache, advanced together by stepBothWays.
    // One untimed pass over the prompt first, so neither run's first step pays for warming up.
    startBothWays(text: string, settings: RunSettings): Promise<PromptTokens & { session: number }> {
      return ctx.serial(async () => {
        checkRun(settings);
        const r = ctx.requireRunner();
        const m = ctx.requireModel();
        const p = prompt(text, settings.maxTokens);
        await r.forward(p.ids, { lastOnly: true });
        const session = nextSession++;
        sessions.set(session, { runner: r, steps: generateBothWays(r, m.config, p.ids, settingsOf(settings)), done: false });
        for (const old of sessions.keys()) if (sessions.size > maxSessions) sessions.delete(old);
        return { ...p, session };
      });
    },

    // One more token both ways: a pass over one new token, and a pass over the whole text.
    stepBothWays(session: number): Promise<BothWaysStep> {
      return ctx.serial(async () => {
        const s = sessions.get(session);
        if (!s || s.runner !== ctx.requireRunner()) {
          sessions.delete(session);
          throw new EngineError('no_session', 'This run has ended (the backend changed, or it was replaced): start it again.');
        }
        const next = s.done ? null : await s.steps.next();
        if (!next || next.done) {
          s.done = true;
          throw new EngineError('generation_over', 'This run has already stopped.');
        }
        const { index, cached, uncached } = next.value;
        const token = (t: typeof cached): TimedToken => ({ chosen: t.step.chosen, text: ctx.tokenString(t.step.chosen), fed: t.fed, ms: t.ms });
        const stop = cached.step.stop ?? uncached.step.stop ?? null;
        if (stop) s.done = true;
        return { index, cached: token(cached), uncached: token(uncached), stop };
      });
    },

    endBothWays(session: number): void {
      sessions.delete(session);
    },

    // A generation from these exact token ids (no re-tokenizing of text): what the page runs after
    // the reader forces a token. Each step brings its most likely candidates.
    continueIds(ids: number[], settings: RunSettings & { topN?: number }): Promise<Continuation> {
      return ctx.serial(async () => {
        checkRun(settings);
        const r = ctx.requireRunner();
        const m = ctx.requireModel();
        checkTokens(m.config, ids);
        const topN = settings.topN ?? 6;
        if (!Number.isInteger(topN) || topN < 1) throw new EngineError('bad_top_n', `The number of candidates must be a whole number of at least 1, got ${topN}.`);
        // the logits of each step's pass, kept on the way through, for the candidates
        let logits: Float32Array | null = null; // (1, V)
        const keeping: Runner = {
          backend: r.backend,
          device: r.device,
          createCache: () => r.createCache(),
          async forward(feed, opts) {
            const result = await r.forward(feed, opts);
            logits = result.logits;
            return result;
          },
          dispose: () => r.dispose()
        };
        const steps: Continuation['steps'] = [];
        for await (const s of generate(keeping, m.config, ids, settingsOf(settings))) {
          const p = softmaxWithTemperature(logits!, 1); // (V)
          const order = Array.from(p.keys()).sort((a, b) => p[b] - p[a] || a - b).slice(0, topN);
          steps.push({
            chosen: s.chosen,
            text: ctx.tokenString(s.chosen),
            top: order.map((id) => ({ id, text: ctx.tokenString(id), p: p[id] })),
            stop: s.stop ?? null
          });
        }
        return { ids: [...ids], steps };
      });
    }
  };
}
