// Autoregressive generation, one step at a time: run the model, turn the last logits into a
// distribution, pick a token, append it, repeat. With the KV cache each step feeds only the new
// token; without it each step reruns the whole context (the same numbers, much more work).
import type { Runner } from './backend';
import { checkTokens } from './gpt';
import { checkSampling, distribution, sample, Rng, type Distribution, type SamplingOptions } from './sampling';
import { EngineError } from './errors';
import type { GPTConfig } from './config';

export interface GenerateOptions extends SamplingOptions {
  maxTokens: number; // stop after this many new tokens
  seed?: number; // same seed, same text (default 0)
  topN?: number; // how many of the most likely tokens each step reports (default 10)
  useCache?: boolean; // default true
  eotId?: number; // stop when this token is chosen (default: the config's eos_token_id)
}

export type StopReason = 'eot' | 'max_tokens' | 'context_full';

export interface Step {
  context: number[]; // the ids the model saw for this step
  top: { id: number; p: number }[]; // the distribution after temperature/top-k/top-p, most likely first
  keptMass: number; // the probability mass top-k/top-p kept before renormalising
  chosen: number;
  dist: Distribution; // what `chosen` was drawn from: a figure shows this rather than recomputing it
  fed: number; // tokens this step's forward pass computed; the others' keys and values came from the cache
  cacheLength: number; // tokens whose keys and values were cached after this step's forward pass
  stop?: StopReason; // set on the last step
}

// Stopping: after the chosen token is end-of-text (it is reported, and not fed back), after
// maxTokens new tokens, or when the context is full: the model has read n_positions tokens, so
// the token it just chose could not be fed back (this model has no sliding window). The context
// then holds n_positions + 1 tokens, the last one never read.
export async function* generate(runner: Runner, config: GPTConfig, prompt: readonly number[], opts: GenerateOptions): AsyncGenerator<Step, StopReason> {
  checkSampling(opts);
  const topN = opts.topN ?? 10;
  if (!Number.isInteger(topN) || topN < 1) {
    throw new EngineError('bad_top_n', `The number of top tokens to report must be a whole number of at least 1, got ${topN}.`);
  }
  if (!Number.isInteger(opts.maxTokens) || opts.maxTokens < 1) {
    throw new EngineError('bad_max_tokens', `The number of tokens to generate must be a whole number of at least 1, got ${opts.maxTokens}.`);
  }
  checkTokens(config, prompt);
  const rng = new Rng(opts.seed ?? 0);
  const eot = opts.eotId ?? config.eos_token_id;
  const useCache = opts.useCache ?? true;
  const context = [...prompt];
  let cache = runner.createCache();
  let feed = context.slice();
  for (let n = 1; ; n++) {
    if (!useCache) cache = runner.createCache();
    const { logits } = await runner.forward(feed, { cache, lastOnly: true });
    const dist = distribution(logits, opts);
    const chosen = sample(dist, rng.next());
    const top = Array.from(dist.kept.subarray(0, topN), (id) => ({ id, p: dist.probs[id] }));
    const step: Step = { context: context.slice(), top, keptMass: dist.keptMass, chosen, dist, fed: feed.length, cacheLength: cache.length };
    context.push(chosen);
    step.stop = chosen === eot ? 'eot' : n >= opts.maxTokens ? 'max_tokens' : context.length > config.n_positions ? 'context_full' : undefined;
    yield step;
    if (step.stop) return step.stop;
    feed = useCache ? [chosen] : context.slice();
  }
}
