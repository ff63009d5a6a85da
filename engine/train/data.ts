// The data loader: batches of B random windows of T + 1 tokens from one long token stream (the
// training paragraphs with <|endoftext|> between them). The window of row b at step s is a pure
// function of (seed, step, b), so a run resumed from a checkpoint sees exactly the batches the
// uninterrupted run would have seen.
import { EngineError } from '../errors';
import { Rng } from '../sampling';

// A 32-bit integer hash (the finaliser of MurmurHash3), to turn (seed, step) into a well-mixed
// generator seed: neighbouring steps get unrelated streams.
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class DataLoader {
  constructor(
    readonly tokens: Int32Array, // the whole stream
    readonly B: number,
    readonly T: number,
    readonly seed: number
  ) {
    if (tokens.length < T + 1) {
      throw new EngineError('bad_data', `The token stream (${tokens.length} tokens) is shorter than one window of ${T + 1}.`);
    }
  }

  // Fill inputs (B, T) and targets (B, T): targets are the inputs shifted one token left.
  batch(step: number, inputs: Int32Array, targets: Int32Array): void {
    const { tokens, B, T } = this;
    const rng = new Rng(mix(mix(this.seed) ^ step));
    const starts = tokens.length - T; // windows start at 0..tokens.length - T - 1
    for (let b = 0; b < B; b++) {
      const start = Math.floor(rng.next() * starts);
      inputs.set(tokens.subarray(start, start + T), b * T);
      targets.set(tokens.subarray(start + 1, start + T + 1), b * T);
    }
  }
}

// The token stream of a list of paragraphs: <|endoftext|> p1 <|endoftext|> p2 ... pn <|endoftext|>.
// The leading separator means every paragraph's first token is predicted from the same start state.
export function tokenStream(paragraphs: readonly string[], encode: (text: string) => number[], eot: number): Int32Array {
  const out: number[] = [eot];
  for (const p of paragraphs) {
    for (const id of encode(p)) out.push(id);
    out.push(eot);
  }
  return Int32Array.from(out);
}
