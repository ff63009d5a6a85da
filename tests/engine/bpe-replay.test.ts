// The merge-by-merge replay of BPE training that the Tokens chapter steps through: its merges must be
// Tokenizer.train's, and its pair counts the counts training chose from, checked here against a
// recount done the slow way at every step.
import { describe, expect, it } from 'vitest';
import { maxReplayMerges, replayTraining } from '../../engine/bpe-replay';
import { bytesText, gpt2Pattern, Tokenizer, type MergeStep } from '../../engine/tokenizer';
import { expectEngineError, sampleText } from './helpers';

const utf8 = new TextEncoder();

const mixed = 'low lower lowest newer newest wider widest 你好你好 👨‍👩‍👧👨‍👩‍👧 naïve naïve\n'.repeat(3);

// Every adjacent pair of the text after the given merges, counted the obvious way: split into
// chunks, bytes, apply each merge left to right, count.
function recount(text: string, merges: MergeStep[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(gpt2Pattern, 'gu'))) {
    let ids = [...utf8.encode(m[0])];
    for (const { pair, id } of merges) {
      const out: number[] = [];
      for (let i = 0; i < ids.length; i++) {
        if (i + 1 < ids.length && ids[i] === pair[0] && ids[i + 1] === pair[1]) {
          out.push(id);
          i++;
        } else out.push(ids[i]);
      }
      ids = out;
    }
    for (let i = 0; i + 1 < ids.length; i++) counts.set(`${ids[i]},${ids[i + 1]}`, (counts.get(`${ids[i]},${ids[i + 1]}`) ?? 0) + 1);
  }
  return counts;
}

describe('replayTraining', () => {
  it('makes exactly the merges Tokenizer.train makes, with the same counts', () => {
    for (const text of [sampleText, mixed]) {
      const trained: MergeStep[] = [];
      const tok = Tokenizer.train(text, 256 + 60 + 1, { onMerge: (s) => trained.push(s) });
      const replay = replayTraining(text, 60);
      expect(replay.steps.map(({ pair, id, count }) => ({ pair, id, count }))).toEqual(trained);
      expect(replay.tokenizer.toJSON()).toEqual(tok.toJSON());
    }
  });

  it('records the leading pair counts of every step, the chosen pair first', () => {
    const replay = replayTraining(mixed, 40, { top: 5 });
    replay.steps.forEach((step, k) => {
      const counts = recount(mixed, replay.steps.slice(0, k));
      expect(step.pairs).toBe(counts.size);
      // the slow recount, sorted as training breaks ties: larger count, then lowest a, then lowest b
      const expected = [...counts]
        .map(([key, count]) => ({ pair: key.split(',').map(Number) as [number, number], count }))
        .sort((x, y) => y.count - x.count || x.pair[0] - y.pair[0] || x.pair[1] - y.pair[1])
        .slice(0, 5);
      expect(step.top).toEqual(expected);
      expect(step.top[0].pair).toEqual(step.pair);
      expect(step.top[0].count).toBe(step.count);
    });
  });

  it('stops when no pair occurs twice, and says so', () => {
    const replay = replayTraining('abab', 50);
    expect(replay.steps).toHaveLength(1); // (a, b) twice; after it only (ab, ab) once
    expect(replay.stop).toBe('no_repeats');
    expect(bytesText(replay.tokenizer.tokenBytes(256))).toBe('ab');
    expect(replayTraining(sampleText, 3).stop).toBe('max_merges');
  });

  it('an empty text has no merges', () => {
    const replay = replayTraining('', 10);
    expect(replay.steps).toEqual([]);
    expect(replay.stop).toBe('no_repeats');
  });

  it('a lone surrogate trains as U+FFFD, as encoding reads it', () => {
    const replay = replayTraining('\uD800x\uD800x', 5);
    expect(replay.tokenizer.encode('\uD800x')).toEqual(replay.tokenizer.encode('\uFFFDx'));
    expect(replay.steps.length).toBeGreaterThan(0);
  });

  it('rejects a bad number of merges or top', () => {
    expectEngineError(() => replayTraining('abc', 0), 'bad_argument');
    expectEngineError(() => replayTraining('abc', 1.5), 'bad_argument');
    expectEngineError(() => replayTraining('abc', maxReplayMerges + 1), 'bad_argument');
    expectEngineError(() => replayTraining('abc', 3, { top: 0 }), 'bad_argument');
  });

  it('reports every merge to onMerge as it is made', () => {
    const heard: number[] = [];
    const replay = replayTraining(sampleText, 10, { onMerge: (s) => heard.push(s.id) });
    expect(heard).toEqual(replay.steps.map((s) => s.id));
  });
});

describe('bytesText', () => {
  it('shows whole characters as text and a cut character as bytes', () => {
    const bytes = utf8.encode('é👍');
    expect(bytesText(bytes)).toBe('é👍');
    expect(bytesText(bytes.subarray(0, 3))).toBe('é<0xF0>');
    expect(bytesText(bytes.subarray(3))).toBe('<0x9F><0x91><0x8D>');
    expect(bytesText(new Uint8Array())).toBe('');
  });
});
