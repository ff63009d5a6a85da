// npx tsx engine/cli/heldout-slice.ts [--chars N]
// Writes src/lib/engine/heldout-slice.json: the first held-out Brown paragraphs that fit in N
// characters (heldoutSlice in eval.ts), the text chapter 9's page scores at each precision. The
// page cannot read the corpus package, so it ships these few paragraphs; `npm run eval -- --chars N`
// scores the same ones, and tests/engine/quantize-cli.test.ts checks the file still matches.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brownSplit } from './corpus';
import { heldoutSlice } from './eval';
import { parseArgs, repoRoot, run } from './common';

export const SLICE_CHARS = 2000; // about 560 tokens: 8 windows, one batch of the B = 8 forward pass per precision
export const slicePath = join(repoRoot, 'src', 'lib', 'engine', 'heldout-slice.json');

export function sliceFile(chars = SLICE_CHARS): { chars: number; source: string; paragraphs: string[] } {
  return {
    chars,
    source: 'Brown corpus, held-out split (every 20th paragraph): the first paragraphs, whole, within `chars` characters',
    paragraphs: heldoutSlice(brownSplit().heldout, chars)
  };
}

if (process.argv[1]?.endsWith('heldout-slice.ts')) {
  run(() => {
    const args = parseArgs(process.argv.slice(2), { chars: 'number' });
    writeFileSync(slicePath, JSON.stringify(sliceFile(args.chars), null, 1) + '\n');
    console.log(`wrote ${slicePath}`);
  });
}
