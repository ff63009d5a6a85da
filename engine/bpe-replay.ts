// BPE training, replayed merge by merge for the page: Tokenizer.train itself runs, and at every step
// the leading pair counts it is about to choose from are recorded (its onCounts hook), so what the
// page shows is the training the shipped tokenizer went through, not a second implementation.
import { EngineError } from './errors';
import { maxVocabSize, Tokenizer, type MergeStep } from './tokenizer';

export interface PairCount {
  pair: [number, number];
  count: number; // occurrences in the training text at that step (overlaps included, as training counts)
}

export interface ReplayStep extends MergeStep {
  count: number; // how often the chosen pair occurred: top[0].count
  top: PairCount[]; // the most frequent pairs at this step, most frequent first, ties to the lowest (a, b) as training breaks them
  pairs: number; // how many distinct adjacent pairs the text held at this step
}

export interface Replay {
  tokenizer: Tokenizer; // the 256 bytes plus every merge of `steps`
  steps: ReplayStep[];
  // why training stopped: it made the merges asked for, or no pair occurred twice any more
  stop: 'max_merges' | 'no_repeats';
}

// A merge can be watched one at a time only for so long; the page caps what it asks for.
export const maxReplayMerges = 4096;

export function replayTraining(
  text: string,
  merges: number,
  opts: { top?: number; onMerge?(step: MergeStep): void } = {}
): Replay {
  if (!Number.isInteger(merges) || merges < 1 || merges > maxReplayMerges) {
    throw new EngineError('bad_argument', `The number of merges must be a whole number from 1 to ${maxReplayMerges.toLocaleString('en')}, got ${merges}.`);
  }
  const topN = opts.top ?? 8;
  if (!Number.isInteger(topN) || topN < 1) throw new EngineError('bad_argument', `top must be a whole number of at least 1, got ${topN}.`);
  let pending: { top: PairCount[]; pairs: number } | null = null;
  const steps: ReplayStep[] = [];
  const tokenizer = Tokenizer.train(text, 256 + merges + 1, {
    onCounts(counts) {
      pending = { top: leading(counts, topN), pairs: counts.size };
    },
    onMerge(step) {
      // training calls onCounts before every choice, so pending is this step's counts
      const { top, pairs } = pending!;
      steps.push({ ...step, count: step.count as number, top, pairs });
      opts.onMerge?.(step);
    }
  });
  return { tokenizer, steps, stop: steps.length === merges ? 'max_merges' : 'no_repeats' };
}

// The n largest counts, ordered as training orders them: larger count first, then lower key (lowest
// a, then lowest b). One pass with a small sorted list, since a text can hold many thousand pairs.
function leading(counts: ReadonlyMap<number, number>, n: number): PairCount[] {
  const best: [number, number][] = []; // [key, count]
  const before = (k1: number, c1: number, k2: number, c2: number) => c1 > c2 || (c1 === c2 && k1 < k2);
  for (const [key, c] of counts) {
    if (best.length === n && !before(key, c, best[n - 1][0], best[n - 1][1])) continue;
    if (best.length < n) best.push([key, c]);
    else best[n - 1] = [key, c];
    // bubble the newcomer up to its place
    for (let i = best.length - 1; i > 0 && before(best[i][0], best[i][1], best[i - 1][0], best[i - 1][1]); i--) {
      [best[i], best[i - 1]] = [best[i - 1], best[i]];
    }
  }
  return best.map(([key, count]) => ({ pair: [Math.floor(key / maxVocabSize), key % maxVocabSize], count }));
}
