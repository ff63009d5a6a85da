// The same generation run twice, step by step side by side: once with the KV cache (each step
// feeds one new token) and once without (each step feeds the whole text again), each step timed.
// The tokens should come out equal (the cache changes the work, not the answer); the two runs are
// kept independent so that the page can show that they are.
import type { Runner } from './backend';
import type { GPTConfig } from './config';
import { generate, type GenerateOptions, type Step } from './generate';

export interface TimedStep {
  step: Step;
  fed: number; // tokens this step's forward pass computed
  ms: number; // wall time of the step: its forward pass and the draw
}

export interface PairedStep {
  index: number; // 1 for the first new token
  cached: TimedStep;
  uncached: TimedStep;
}

// Counts the tokens each pass is fed, so a step can say how much work it did.
function counting(runner: Runner): { runner: Runner; fed: () => number } {
  let fed = 0;
  return {
    runner: {
      backend: runner.backend,
      device: runner.device,
      createCache: () => runner.createCache(),
      forward(ids, opts) {
        fed = ids.length;
        return runner.forward(ids, opts);
      },
      dispose: () => runner.dispose()
    },
    fed: () => fed
  };
}

// Both runs advance one step each per yielded pair, the uncached one first, so a slow moment of the
// machine hits both alike. `now` is the clock (performance.now in a browser and in Node).
export async function* generateBothWays(
  runner: Runner,
  config: GPTConfig,
  prompt: readonly number[],
  opts: Omit<GenerateOptions, 'useCache'>,
  now: () => number = () => performance.now()
): AsyncGenerator<PairedStep, void> {
  const a = counting(runner);
  const b = counting(runner);
  const cached = generate(a.runner, config, prompt, { ...opts, useCache: true });
  const uncached = generate(b.runner, config, prompt, { ...opts, useCache: false });
  const timed = async (run: AsyncGenerator<Step>, fed: () => number): Promise<TimedStep | null> => {
    const t0 = now();
    const next = await run.next();
    const ms = now() - t0;
    return next.done ? null : { step: next.value, fed: fed(), ms };
  };
  for (let index = 1; ; index++) {
    const u = await timed(uncached, b.fed);
    const c = await timed(cached, a.fed);
    if (!u || !c) return;
    // The two runs are not forced to agree: each continues from its own choices, so a cache that
    // computed anything differently would show as two different texts, not be papered over.
    yield { index, cached: c, uncached: u };
    if (c.step.stop || u.step.stop) return;
  }
}
