// The sentences of "Guess the next token": the held-out Brown paragraphs shipped with the site
// (never trained on), cut into sentences of a playable length.
import slice from '../engine/heldout-slice.json';

function sentences(paragraph: string): string[] {
  // a sentence ends at . ! or ? (perhaps inside a closing quote) before a space and a capital or quote
  return paragraph.split(/(?<=[.!?]["']?)\s+(?=["A-Z])/).map((s) => s.trim());
}

const words = (s: string) => s.split(/\s+/).length;

export const heldoutSentences: string[] = (slice.paragraphs as string[]).flatMap(sentences).filter((s) => words(s) >= 6 && words(s) <= 24 && !/\b[A-Z]\.$/.test(s)); // not cut at an initial ("Morris J.")

export const defaultGuessText = heldoutSentences[0];
