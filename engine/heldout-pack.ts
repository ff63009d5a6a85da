// The held-out data the training chapter downloads (static/data/brown-heldout.json, written by
// `npm run training-data`): the character n-gram baselines as counts and the held-out paragraphs.
// Scoring it here gives the numbers `npm run eval` prints, for the whole split or its first n
// paragraphs (`--paragraphs n`).
import { CharNgram, ngramNats, type NgramCounts } from './ngram';
import { EngineError } from './errors';

export interface HeldoutPack {
  source: string;
  lambda2: number;
  lambda3: number;
  counts: NgramCounts; // fit on the whole training split
  heldout: string[]; // the held-out paragraphs, in corpus order
}

export interface NgramScores {
  unigram: number; // nats per character
  bigram: number;
  trigram: number;
  chars: number; // characters scored: code points plus one end per paragraph
}

export function parseHeldoutPack(json: unknown): HeldoutPack {
  const p = json as Partial<HeldoutPack> | null;
  if (!p || typeof p !== 'object' || typeof p.lambda2 !== 'number' || typeof p.lambda3 !== 'number' || !p.counts || !Array.isArray(p.heldout)) {
    throw new EngineError('bad_data', 'The held-out data file is malformed: expected lambda2, lambda3, counts and heldout.');
  }
  return p as HeldoutPack;
}

// The three baselines on some paragraphs, with the pack's counts and λs.
export function scoreNgrams(model: CharNgram, pack: HeldoutPack, paragraphs: readonly string[]): NgramScores {
  if (paragraphs.length === 0) throw new EngineError('empty_text', 'There is no text to score.');
  const e = model.estimates(paragraphs);
  return {
    unigram: ngramNats(e, 1, 0, 0),
    bigram: ngramNats(e, 2, pack.lambda2, 0),
    trigram: ngramNats(e, 3, pack.lambda2, pack.lambda3),
    chars: e.p1.length
  };
}

export function packModel(pack: HeldoutPack): CharNgram {
  return CharNgram.fromCounts(pack.counts);
}
