// The probe's measures on attention patterns built by hand, where the right answer is known, and
// the CLI's contract on a small random model.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bestJob, groupNeighbours, headStats, inductionScore, jobs, jobShares, meanTokenLoss, nearestTokens, probeSentences,
  repeatedSequence, strongestHead, wordGroups, wordsOf, type AttentionSample
} from '../../engine/probe';
import { loadModelDir } from '../../engine/cli/common';
import { sharpSentence, type HeadReport, type ProbeResult } from '../../engine/cli/probe';
import { forward } from '../../engine/gpt';
import { errorCode } from './helpers';

// a (T, T) causal pattern from a rule giving each row's weights over 0..i (normalised here)
function pattern(T: number, row: (i: number) => number[]): Float32Array {
  const w = new Float32Array(T * T);
  for (let i = 0; i < T; i++) {
    const r = row(i);
    const s = r.reduce((a, b) => a + b, 0);
    r.forEach((x, j) => (w[i * T + j] = x / s));
  }
  return w;
}
const onehot = (i: number, j: number) => Array.from({ length: i + 1 }, (_, k) => (k === j ? 1 : 0));

// "The cat saw the dog, and the dog saw a cat." as pieces, ids by piece
const pieces = ['The', ' cat', ' saw', ' the', ' dog', ',', ' and', ' the', ' dog', ' saw', ' a', ' cat', '.'];
const idOf = new Map<string, number>();
const ids = pieces.map((p) => idOf.get(p) ?? (idOf.set(p, idOf.size), idOf.size - 1));
const T = pieces.length;
const sample = (w: Float32Array): AttentionSample => ({ weights: w, ids, pieces });

describe('headStats on hand-built heads', () => {
  it('a pure previous-token head: prev 1, sharpness 1, entropy 0, job "previous token" on every row', () => {
    const s = headStats([sample(pattern(T, (i) => onehot(i, Math.max(0, i - 1))))]);
    expect(s.prev).toBe(1);
    expect(s.self).toBe(0);
    expect(s.first).toBe(0);
    expect(s.sharpness).toBe(1);
    expect(s.entropy).toBe(0);
    expect(s.job).toBe('previous token');
    expect(s.jobShare).toBe(1);
  });

  it('uniform causal attention: entropy ratio 1, not sharp, no job', () => {
    const s = headStats([sample(pattern(T, (i) => new Array(i + 1).fill(1)))]);
    expect(s.entropy).toBeCloseTo(1, 6);
    // rows 1..T-1 each give 1/(i+1) to the previous token
    const expected = Array.from({ length: T - 1 }, (_, k) => 1 / (k + 2)).reduce((a, b) => a + b) / (T - 1);
    expect(s.prev).toBeCloseTo(expected, 6);
    expect(s.sharpness).toBeLessThan(0.5);
    expect(s.job).toBeNull();
    expect(s.jobShare).toBeNull();
  });

  it('a self head gets the job "itself"; an attention sink (all on the first token) is not sharp', () => {
    const self = headStats([sample(pattern(T, (i) => onehot(i, i)))]);
    expect([self.self, self.job, self.jobShare]).toEqual([1, 'itself', 1]);
    const sink = headStats([sample(pattern(T, (i) => onehot(i, 0)))]);
    expect(sink.first).toBe(1);
    expect(sink.sharpness).toBe(0);
    expect(sink.job).toBeNull();
  });

  it('a head on the earlier copy of its own token: duplicate 1 where a token repeats, job "same token earlier"', () => {
    const w = pattern(T, (i) => {
      const j = ids.slice(0, i).lastIndexOf(ids[i]);
      return onehot(i, j > 0 ? j : i);
    });
    const s = headStats([sample(w)]);
    // " the", " dog", " saw", " cat" repeat; "The" and " the" are different tokens
    expect(s.duplicate).toBe(1);
    expect(jobShares([sample(w)]).find((j) => j.name === 'same token earlier')!.share).toBeCloseTo(4 / (T - 2), 9);
    // the other rows attend to themselves, which is the larger share here
    expect(s.job).toBe('itself');
    const noRepeats: AttentionSample = { weights: pattern(3, (i) => onehot(i, i)), ids: [0, 1, 2], pieces: ['a', 'b', 'c'] };
    expect(headStats([noRepeats]).duplicate).toBeNull();
  });

  it('samples are pooled by rows: a previous-token text and a self text give one half each', () => {
    const s = headStats([sample(pattern(T, (i) => onehot(i, Math.max(0, i - 1)))), sample(pattern(T, (i) => onehot(i, i)))]);
    expect(s.prev).toBeCloseTo(0.5, 9);
    expect(s.self).toBeCloseTo(0.5, 9);
    expect(s.sharpness).toBe(1);
    expect(s.jobShare).toBeCloseTo(0.5, 9);
    expect(s.job).toBe('previous token'); // a tie goes to the earlier job in the list
  });

  it('bad input is a clear error: weights that do not fit the tokens, a text too short to measure', () => {
    expect(errorCode(() => headStats([{ weights: new Float32Array(5), ids, pieces }]))).toBe('bad_probe');
    expect(errorCode(() => headStats([{ weights: pattern(2, (i) => onehot(i, i)), ids: [0, 1], pieces: ['a', 'b'] }]))).toBe('bad_probe');
    expect(errorCode(() => inductionScore([{ weights: new Float32Array(3), ids: [0, 1] }]))).toBe('bad_probe');
  });
});

describe('job names on constructed heads', () => {
  const jobOf = (target: (i: number) => number) => headStats([sample(pattern(T, (i) => onehot(i, target(i))))]).job;
  // the latest position at or before i whose piece passes `test`, else i itself
  const latest = (test: (p: string) => boolean) => (i: number) => {
    for (let j = i; j >= 1; j--) if (test(pieces[j])) return j;
    return i;
  };

  it('the most recent article, punctuation mark, capitalised word', () => {
    // rows 3.. attend to the latest " the" or " a" (rows 3, 7, 10 to themselves), row 2 to itself
    expect(jobOf(latest((p) => [' the', ' a'].includes(p)))).toBe('article');
    // rows 5.. attend to ","; rows before it to themselves: 8 of 11 rows on punctuation
    expect(jobOf(latest((p) => p === ',' || p === '.'))).toBe('punctuation');
  });

  it('the start of the current word, on subword pieces', () => {
    const p = ['A', ' Ken', 'ne', 'dy', ' came', ' to', ' Wash', 'ing', 'ton', ' to', 'day'];
    const n = p.length;
    const start = (i: number) => {
      let j = i;
      while (j > 0 && !p[j].startsWith(' ')) j--;
      return j === i ? i - 1 : j; // a word's first piece looks at the previous token
    };
    const w = pattern(n, (i) => onehot(i, Math.max(0, start(i))));
    const s: AttentionSample = { weights: w, ids: p.map((_, k) => k), pieces: p };
    const shares = Object.fromEntries(jobShares([s]).map((j) => [j.name, j.share]));
    // rows 2..10: "ne" "dy" "ing" "ton" "day" look back to their word's start (5 of 9);
    // "ne", "ing" and "day" are also right after it (previous token)
    expect(shares['start of this word']).toBeCloseTo(5 / 9, 9);
    expect(bestJob([s]).name).toBe('previous token'); // 4 word starts + "ne" "ing" "day" = 7 of 9
    expect(shares['previous token']).toBeCloseTo(7 / 9, 9);
  });

  it('a sharp head with no kind of token in a majority of its rows has no job', () => {
    // rows take turns looking 1, 2 and 3 tokens back: rows 2..12 look at 1 1 1 4 4 4 7 7 7 10 10,
    // so the previous token wins 4 rows and an article (" the" 7, " a" 10) 5, of 11
    const w = pattern(T, (i) => onehot(i, Math.max(1, i - 1 - ((i + 1) % 3))));
    const s = headStats([sample(w)]);
    expect(bestJob([sample(w)])).toEqual({ name: 'article', share: 5 / 11 });
    expect(s.sharpness).toBe(1);
    expect(s.job).toBeNull();
  });

  it('every job has a distinct name', () => {
    expect(new Set(jobs.map((j) => j.name)).size).toBe(jobs.length);
  });
});

describe('induction and copying', () => {
  it('repeatedSequence: n distinct ids twice, never the skipped one, the same for the same seed', () => {
    const r = repeatedSequence(20, 30, 5, 29);
    expect(r.length).toBe(40);
    expect(new Set(r.slice(0, 20)).size).toBe(20);
    expect(r.slice(20)).toEqual(r.slice(0, 20));
    expect(r.includes(29)).toBe(false);
    expect(repeatedSequence(20, 30, 5, 29)).toEqual(r);
    expect(repeatedSequence(20, 30, 6, 29)).not.toEqual(r);
    expect(errorCode(() => repeatedSequence(30, 30, 1, 0))).toBe('bad_probe');
  });

  it('an induction head scores 1; a previous-token head on the same sequence scores 0', () => {
    const n = 12;
    const seq = repeatedSequence(n, 50, 3, 49);
    const ind = pattern(2 * n, (i) => (i < n ? onehot(i, Math.max(0, i - 1)) : onehot(i, i - n + 1)));
    expect(inductionScore([{ weights: ind, ids: seq }])).toBe(1);
    expect(inductionScore([{ weights: pattern(2 * n, (i) => onehot(i, Math.max(0, i - 1))), ids: seq }])).toBe(0);
    // uniform attention gives each second-copy row 1/(i+1) on the target
    const uni = inductionScore([{ weights: pattern(2 * n, (i) => new Array(i + 1).fill(1)), ids: seq }])!;
    const expected = Array.from({ length: n }, (_, k) => 1 / (n + k + 1)).reduce((a, b) => a + b) / n;
    expect(uni).toBeCloseTo(expected, 6);
    expect(inductionScore([{ weights: ind.subarray(0, 4), ids: [0, 1] }])).toBeNull(); // nothing repeats
  });

  it('meanTokenLoss: uniform logits cost ln V a token; a confident right guess costs nearly 0', () => {
    const V = 7;
    const seq = [1, 2, 3, 4];
    expect(meanTokenLoss(new Float32Array(4 * V), seq, V, 1, 4)).toBeCloseTo(Math.log(V), 6);
    const sure = new Float32Array(4 * V);
    for (let t = 1; t < 4; t++) sure[(t - 1) * V + seq[t]] = 30;
    expect(meanTokenLoss(sure, seq, V, 1, 4)).toBeLessThan(1e-9);
    expect(errorCode(() => meanTokenLoss(sure, seq, V, 0, 4))).toBe('bad_probe');
  });
});

describe('embedding neighbours', () => {
  // 8 tokens in 2-D: 0..2 point east, 3..5 point north, 6 and 7 west; cosine only sees directions
  const C = 2;
  const wte = Float32Array.from([1, 0.1, 2, 0.15, 5, -0.1, 0.1, 1, -0.1, 3, 0.05, 2, -1, 0, -1, 0.2]);
  const V = wte.length / C;

  it('nearestTokens: by cosine, itself left out, nearest first', () => {
    expect(nearestTokens(wte, V, C, 0, 2)).toEqual([1, 2]);
    expect(nearestTokens(wte, V, C, 4, 2)).toEqual([5, 3]);
    expect(nearestTokens(wte, V, C, 4, 7)).not.toContain(4);
    expect(errorCode(() => nearestTokens(wte, V, C, 8, 2))).toBe('bad_token');
    expect(errorCode(() => nearestTokens(wte, V + 1, C, 0, 2))).toBe('bad_probe');
  });

  it('groupNeighbours counts single tokens and those with a group word among their k nearest', () => {
    const groups = [
      { name: 'east', words: ['a', 'b', 'c', 'split'], ids: [0, 1, 2, null] },
      { name: 'mixed', words: ['d', 'e', 'f'], ids: [3, 6, null] } // 3 points north, 6 west: far apart
    ];
    const [east, mixed] = groupNeighbours(wte, V, C, groups, 2);
    expect([east.words, east.single_tokens, east.with_group_neighbour]).toEqual([4, 3, 3]);
    expect(east.members[3]).toEqual({ word: 'split', id: null, neighbours: [], same_group: false });
    expect([mixed.words, mixed.single_tokens, mixed.with_group_neighbour]).toEqual([3, 2, 0]);
    expect(mixed.members[0].neighbours).toEqual(nearestTokens(wte, V, C, 3, 2));
  });

  it('the word list: about 85 everyday words in 8 to 10 groups, none twice', () => {
    const all = wordGroups.flatMap((g) => g.words);
    expect(all.length).toBeGreaterThanOrEqual(80);
    expect(wordGroups.length).toBeGreaterThanOrEqual(8);
    expect(wordGroups.length).toBeLessThanOrEqual(10);
    expect(new Set(all).size).toBe(all.length);
  });
});

describe('helpers', () => {
  it('wordsOf: runs of letters, lower-cased, accents kept', () => {
    expect(wordsOf("Mr. O'Neil's café, 1961 -- fine!")).toEqual(['mr', 'o', 'neil', 's', 'café', 'fine']);
    expect(wordsOf('12, 13.')).toEqual([]);
  });

  it('strongestHead: the largest value and where it is, nulls skipped', () => {
    expect(strongestHead([{ v: 0.2 }, { v: null }, { v: 0.7 }, { v: 0.5 }], (h) => h.v)).toEqual({ index: 2, value: 0.7 });
    expect(strongestHead([{ v: null }], (h) => h.v)).toBeNull();
  });
});

describe('the sentence on sharp heads', () => {
  it('counts sharp heads and those with a job other than itself, and names them', () => {
    const head = (layer: number, h: number, sharpness: number, job: string | null): HeadReport => ({
      layer, head: h, prev: 0, self: 0, first: 0, duplicate: null, induction: 0, entropy: 0.5, sharpness, job, job_share: job ? 0.6 : null
    });
    const r = { heads: [head(0, 0, 0.9, 'article'), head(0, 1, 0.7, 'itself'), head(1, 0, 0.6, null), head(1, 1, 0.2, null)] } as ProbeResult;
    expect(sharpSentence(r)).toBe('3 of 4 heads are sharp (≥ 0.5); 1 of them has a job other than "itself" (a job: at least 50% of rows): 0.0 article (layer.head).');
    r.heads = [head(0, 0, 0.9, null), head(0, 1, 0.1, null)];
    expect(sharpSentence(r)).toBe('1 of 2 heads is sharp (≥ 0.5); 0 of them have a job other than "itself" (a job: at least 50% of rows).');
  });
});

describe('npm run probe', () => {
  let dir: string;
  let out: Record<string, any>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'probe-test-'));
    const init = spawnSync(process.execPath, ['--import', 'tsx', 'engine/cli/init-model.ts', '--preset', 'micro', '--vocab', '512', '--out', dir], { encoding: 'utf8' });
    expect(init.status, init.stderr).toBe(0);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'engine/cli/probe.ts', '--json', '--quick', '--model', dir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/probe: heads on/); // progress on stderr, one JSON object on stdout
    out = JSON.parse(r.stdout);
  }, 240_000); // two Node processes; other work on the machine can slow them several times over
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--json has the contract keys and every head of every layer', () => {
    expect(Object.keys(out)).toEqual(['heads', 'copy_loss', 'neighbours', 'real_words', 'nats_per_char']);
    const model = loadModelDir(dir);
    const { n_layer, n_head } = model.config;
    expect(out.heads.map((h: { layer: number; head: number }) => `${h.layer}.${h.head}`)).toEqual(
      Array.from({ length: n_layer * n_head }, (_, k) => `${Math.floor(k / n_head)}.${k % n_head}`)
    );
    for (const h of out.heads) {
      expect(Object.keys(h)).toEqual(['layer', 'head', 'prev', 'self', 'first', 'duplicate', 'induction', 'entropy', 'sharpness', 'job', 'job_share']);
      expect(h.induction).not.toBeNull(); // every token of the second copy repeats one of the first
      for (const k of ['prev', 'self', 'first', 'duplicate', 'induction', 'entropy', 'sharpness']) {
        if (k === 'duplicate' && h[k] === null) continue; // a text may repeat no token
        expect(h[k]).toBeGreaterThanOrEqual(0);
        expect(h[k]).toBeLessThanOrEqual(1 + 1e-6);
      }
      expect(h.job === null || jobs.some((j) => j.name === h.job)).toBe(true);
    }
    expect(out.copy_loss.first).toBeGreaterThan(0);
    expect(out.copy_loss.second).toBeGreaterThan(0);
    expect(out.real_words).toBeGreaterThanOrEqual(0);
    expect(out.real_words).toBeLessThanOrEqual(1);
    expect(out.nats_per_char).toBeGreaterThan(0);
  });

  it('the head numbers are those of the reference forward pass on the probe sentences', () => {
    const model = loadModelDir(dir);
    const { n_head: nh, n_positions } = model.config;
    const texts = probeSentences.map((s) => model.tokenizer.encode(s).slice(0, n_positions));
    const traces = texts.map((t) => forward(model, t, { trace: ['attn.weights'] }).trace);
    for (const h of out.heads) {
      const samples = texts.map((t, k) => {
        const w = traces[k].layers[h.layer]['attn.weights']!.data; // (nh, T, T)
        const T = t.length;
        return { weights: w.subarray(h.head * T * T, (h.head + 1) * T * T), ids: t, pieces: t.map((id) => model.tokenizer.tokenText(id)) };
      });
      const ref = headStats(samples);
      expect(Math.abs(ref.prev - h.prev)).toBeLessThan(1e-5);
      expect(Math.abs(ref.entropy - h.entropy)).toBeLessThan(1e-5);
      expect(Math.abs(ref.sharpness - h.sharpness)).toBeLessThan(1e-5);
    }
    expect(nh).toBeGreaterThan(0);
  });

  it('neighbours: the counts add up, and each single-token word lists its 5 nearest by cosine', () => {
    const model = loadModelDir(dir);
    const { vocab_size: V, n_embd: C } = model.config;
    const n = out.neighbours;
    expect(n.words).toBe(wordGroups.reduce((a, g) => a + g.words.length, 0));
    expect(n.single_tokens).toBe(n.groups.reduce((a: number, g: { single_tokens: number }) => a + g.single_tokens, 0));
    expect(n.single_tokens).toBeGreaterThan(0); // a 512-token BPE of Brown has " he", " one"...
    for (const g of n.groups) {
      for (const m of g.members) {
        const enc = model.tokenizer.encode(' ' + m.word);
        expect(m.id).toBe(enc.length === 1 ? enc[0] : null);
        if (m.id !== null) expect(m.neighbours).toEqual(nearestTokens(model.params['wte.weight'], V, C, m.id, 5).map((id) => model.tokenizer.tokenText(id)));
      }
    }
  });

  it('plain output is a table, one row per head; bad arguments exit 2 with one line', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'engine/cli/probe.ts', '--quick', '--model', dir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => /^\s+\d+\s+\d+\s+\d\.\d\d/.test(l));
    expect(rows.length).toBe(out.heads.length);
    expect(r.stdout).toContain(`held-out: ${out.nats_per_char.toFixed(4)} nats/char`);
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'engine/cli/probe.ts', '--bogus'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^error \(\w+\): .+\n$/);
  }, 180_000);
});
