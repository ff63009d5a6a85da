// "Guess the next token": the reader plays the model on a sentence. At each position the choices
// are the true token and the model's best other guesses, in an order fixed by a seed; the reader's
// pick is scored by a stated rule and the model by the probability it gave the truth, both as
// nats, so the two cross-entropies can be set side by side.
//
// Legend: T time (tokens), V vocab, k choices.
import { EngineError } from './errors';

export interface GuessCandidate {
  id: number;
  p: number; // the model's probability for this token here
}

export interface GuessStep {
  position: number; // the token being guessed (1..T−1): predicted from tokens 0..position−1
  truth: number; // the token that came next
  pTruth: number; // the model's P(truth | text before)
  top: GuessCandidate[]; // the model's k most likely tokens, most likely first
}

// One step per position t ≥ 1 of `ids`, read off row t − 1 of the (T, V) logits of one pass over
// the sentence (the first token has no text before it, so it is given, not guessed). Softmax in
// float64 with the row's max taken out first.
export function guessSteps(logits: Float32Array, ids: ArrayLike<number>, V: number, k: number): GuessStep[] {
  const T = ids.length;
  if (!Number.isInteger(k) || k < 1 || k > V) throw new EngineError('bad_argument', `k must be a whole number from 1 to ${V}, got ${k}.`);
  if (logits.length < T * V) throw new EngineError('bad_argument', `guessSteps needs (T, V) logits for ${T} tokens of vocabulary ${V}, got ${logits.length} numbers.`);
  const steps: GuessStep[] = [];
  const probs = new Float64Array(V); // (V)
  for (let t = 1; t < T; t++) {
    const truth = ids[t];
    if (!Number.isInteger(truth) || truth < 0 || truth >= V) throw new EngineError('bad_token', `Token ${truth} at position ${t} is not a token id below ${V}.`);
    const row = logits.subarray((t - 1) * V, t * V); // (V)
    let max = -Infinity;
    for (let i = 0; i < V; i++) if (row[i] > max) max = row[i];
    let sum = 0;
    for (let i = 0; i < V; i++) sum += (probs[i] = Math.exp(row[i] - max));
    for (let i = 0; i < V; i++) probs[i] /= sum;
    // the k best by a partial selection: k is small, V a few thousand
    const top: GuessCandidate[] = [];
    for (let i = 0; i < V; i++) {
      const p = probs[i];
      if (top.length < k || p > top[top.length - 1].p) {
        let j = top.length < k ? top.length : k - 1;
        if (top.length < k) top.push({ id: i, p });
        while (j > 0 && top[j - 1].p < p) {
          top[j] = top[j - 1];
          j--;
        }
        top[j] = { id: i, p };
      }
    }
    steps.push({ position: t, truth, pTruth: probs[truth], top });
  }
  return steps;
}

// The choices shown at one step: the truth and the model's best n − 1 other tokens, shuffled by
// a small seeded generator (mulberry32 on seed and position), so a seed gives the same game again.
export function guessChoices(step: GuessStep, n: number, seed: number): number[] {
  const ids = [step.truth, ...step.top.map((c) => c.id).filter((id) => id !== step.truth)].slice(0, n);
  let a = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(step.position + 1, 0x85ebca6b)) >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
  for (let i = ids.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  return ids;
}

// The reader's pick as a probability: `sure` on the chosen token and the rest shared evenly over
// the other shown choices; the score is −log of what that gives the truth.
export const readerSure = 0.97;
export function readerNats(picked: number, truth: number, shown: number, sure = readerSure): number {
  if (!Number.isInteger(shown) || shown < 2) throw new EngineError('bad_argument', `A guess needs at least 2 choices, got ${shown}.`);
  return picked === truth ? -Math.log(sure) : -Math.log((1 - sure) / (shown - 1));
}
