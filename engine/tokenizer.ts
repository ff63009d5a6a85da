// Byte-level BPE (Sennrich et al. 2016, as GPT-2 uses it).
// Ids 0..255 are the 256 single bytes, id 256 + i is the token made by merge i (in the order
// learned), and the last id is the special <|endoftext|> token: vocabSize = 256 + merges.length + 1.
// In our own files id b is byte b; GPT-2's files list the bytes in another order, so a tokenizer
// keeps `bytes`, the byte that each of ids 0..255 stands for.
// Text is first cut into chunks by a GPT-2-style regex, so a space belongs to the word after it
// (" cat" is not "cat") and no merge ever crosses a chunk boundary.
//
// Rules worth knowing:
// - Training merges the most frequent adjacent pair, counted over the unique chunks times their
//   frequency. Ties go to the lowest (a, b): lowest a, then lowest b, so training is deterministic.
//   Overlapping occurrences all count ("aaa" holds (a, a) twice); merging then goes left to right.
// - Training stops early once no pair occurs at least twice: a pair seen once only memorises one
//   spot of the text, so the vocabulary can come out smaller than asked for.
// - Lone surrogates cannot be turned into UTF-8; they become U+FFFD, as TextEncoder does, so
//   decode(encode(s)) === s.toWellFormed() for every string, and === s for every well-formed one.
// - <|endoftext|> in training text marks a document boundary and is not learned as bytes.
//
// Our file (tokenizer.json): { "type": "byte-bpe", "version": 1, "pattern", "merges": [[a, b], ...],
// "counts": [...], "special": { "<|endoftext|>": id } }, plus two optional keys: "bytes", 256
// numbers, a permutation of 0..255 saying which byte each of ids 0..255 is (absent: id b is byte b),
// and "counts" may be left out when the merges came without them (GPT-2 publishes only the order).
// fromJSON also reads Hugging Face's tokenizer.json of GPT-2, and fromGPT2 its vocab.json and
// merges.txt; either becomes the same tokenizer, and its toJSON is our format with "bytes".
import { EngineError } from './errors';

export interface MergeStep {
  pair: [number, number]; // the two ids that were merged
  id: number; // the new token, 256 + its rank
  count: number | null; // how often the pair occurred in the training text when it was chosen; null if not recorded
}

export interface TokenizerJSON {
  type: 'byte-bpe';
  version: 1;
  pattern: string;
  bytes?: number[]; // bytes[id] is the byte that id (< 256) stands for; absent when it is id itself
  merges: [number, number][];
  counts?: number[]; // absent when the merges came without counts
  special: { '<|endoftext|>': number };
}

// GPT-2's vocab.json and merges.txt, as published with every GPT-2 checkpoint.
export interface GPT2Files {
  vocab: unknown; // vocab.json, text or parsed: token string -> id
  merges: unknown; // merges.txt as text, or its lines as "a b" strings or [a, b] pairs
}

// GPT-2's pre-tokenizer: contractions, letters, numbers, other symbols (each with an optional
// leading space), then whitespace. `\s+(?!\S)` leaves the last space of a run to the next word.
// It is always compiled with the flags 'gu'.
export const gpt2Pattern = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
// The same pattern as GPT-2 really splits text. GPT-2 ran it with Python's `regex`, whose \s is
// Unicode's White_Space (so are Rust's and Oniguruma's, under tiktoken and Hugging Face). JavaScript's
// \s differs in two characters: it takes U+FEFF and leaves out U+0085 (NEL). So "\u0085." is two
// chunks for GPT-2 but one in JavaScript. Imported GPT-2 tokenizers use this spelling.
export const gpt2WhiteSpacePattern =
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\p{White_Space}\\p{L}\\p{N}]+|\\p{White_Space}+(?!\\P{White_Space})|\\p{White_Space}+";
export const endOfText = '<|endoftext|>';
export const maxVocabSize = 2 ** 20;
const maxVocabBytes = 64 * 2 ** 20;

const encoder = new TextEncoder();
// Not fatal, so a cut UTF-8 sequence decodes to U+FFFD; ignoreBOM, so a leading U+FEFF is kept as text.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

// Pairs are Map keys as one number; ids stay below maxVocabSize, so the key is below 2^40.
const pairKey = (a: number, b: number) => a * maxVocabSize + b;
const hexOf = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

// With the 'u' flag \p{Cs} matches only unpaired surrogates. Doing this up front means the
// chunking sees exactly the characters that end up as bytes.
function wellFormed(s: string): string {
  return s.replace(/\p{Cs}/gu, '\uFFFD');
}

function compilePattern(pattern: string): RegExp {
  try {
    return new RegExp(pattern, 'gu');
  } catch {
    throw new EngineError('bad_tokenizer', `Corrupt tokenizer: the pattern ${JSON.stringify(pattern)} is not a valid regex.`);
  }
}

// GPT-2's files write every byte as one printable character, so that vocab.json and merges.txt are
// plain text (openai/gpt-2, src/encoder.py, bytes_to_unicode): the printable Latin-1 bytes stand for
// themselves and the other 68 (controls, space, U+00A0, the soft hyphen) become U+0100, U+0101, ...
// in byte order. So the space is 'Ġ' (U+0120) and the newline 'Ċ' (U+010A).
const gpt2ByteChars: string[] = [];
for (let b = 0, next = 0x100; b < 256; b++) {
  const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  gpt2ByteChars.push(String.fromCharCode(printable ? b : next++));
}

const identityBytes = Array.from({ length: 256 }, (_, b) => b);

const isObject = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);

// Cuts text into chunks. Any text the pattern skips becomes a chunk of its own, so nothing is lost
// even with a pattern from a file that does not cover every character.
function splitChunks(text: string, re: RegExp): string[] {
  const chunks: string[] = [];
  let pos = 0;
  for (const m of text.matchAll(re)) {
    if (m[0] === '') continue;
    if (m.index > pos) chunks.push(text.slice(pos, m.index));
    chunks.push(m[0]);
    pos = m.index + m[0].length;
  }
  if (pos < text.length) chunks.push(text.slice(pos));
  return chunks;
}

// Length of the well-formed UTF-8 sequence starting at bytes[i] (Unicode table 3-7), or 0.
function utf8Length(bytes: Uint8Array, i: number): number {
  const c = bytes[i];
  if (c < 0x80) return 1;
  let n: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c === 0xe0) lo = 0xa0; // no overlong forms
    if (c === 0xed) hi = 0x9f; // no surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c === 0xf0) lo = 0x90; // no overlong forms
    if (c === 0xf4) hi = 0x8f; // nothing above U+10FFFF
  } else return 0;
  if (i + n > bytes.length) return 0;
  if (bytes[i + 1] < lo || bytes[i + 1] > hi) return 0;
  for (let k = 2; k < n; k++) if (bytes[i + k] < 0x80 || bytes[i + k] > 0xbf) return 0;
  return n;
}

// A display form of a token's bytes: valid UTF-8 as is, any byte that is not part of a complete
// sequence as <0xE2>. A token often holds only part of a character (one byte of an emoji). Also
// used for other tokenizers' tokens (GPT-4's), so every tokenizer on the page is shown one way.
export function bytesText(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; ) {
    const n = utf8Length(bytes, i);
    if (n > 0) {
      text += decoder.decode(bytes.subarray(i, i + n));
      i += n;
    } else {
      text += `<0x${bytes[i].toString(16).toUpperCase().padStart(2, '0')}>`;
      i++;
    }
  }
  return text;
}

// A min-heap of numbers, for encoding: the merges of a chunk are applied lowest rank first.
function heapPush(heap: number[], x: number) {
  let i = heap.push(x) - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent] <= x) break;
    heap[i] = heap[parent];
    i = parent;
  }
  heap[i] = x;
}

function heapPop(heap: number[]): number {
  const top = heap[0];
  const last = heap.pop()!;
  if (heap.length > 0) {
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= heap.length) break;
      if (child + 1 < heap.length && heap[child + 1] < heap[child]) child++;
      if (heap[child] >= last) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = last;
  }
  return top;
}

export class Tokenizer {
  readonly merges: readonly MergeStep[];
  readonly pattern: string;
  readonly eotId: number;
  readonly bytes: readonly number[]; // bytes[id] is the byte that id (< 256) stands for
  private readonly re: RegExp;
  private readonly byteIds = new Int32Array(256); // byte -> its id, the inverse of bytes
  private readonly ranks = new Map<number, number>(); // pairKey -> merge index
  private readonly vocab: Uint8Array[] = []; // id -> its bytes
  private readonly cache = new Map<string, number[]>(); // chunk -> ids

  constructor(merges: readonly MergeStep[], pattern: string = gpt2Pattern, bytes: readonly number[] = identityBytes) {
    this.re = compilePattern(pattern);
    this.pattern = pattern;
    this.merges = merges;
    this.eotId = 256 + merges.length;
    if (this.eotId + 1 > maxVocabSize) {
      throw new EngineError('bad_tokenizer', `Corrupt tokenizer: ${merges.length} merges exceed the vocabulary limit of ${maxVocabSize}.`);
    }
    if (!Array.isArray(bytes) || bytes.length !== 256) {
      throw new EngineError('bad_tokenizer', 'Corrupt tokenizer: bytes must list 256 bytes, one for each of ids 0..255.');
    }
    this.byteIds.fill(-1);
    bytes.forEach((b, id) => {
      if (!Number.isInteger(b) || b < 0 || b > 255 || this.byteIds[b] >= 0) {
        throw new EngineError('bad_tokenizer', `Corrupt tokenizer: bytes is not a permutation of 0..255 (id ${id} is ${JSON.stringify(b)}).`);
      }
      this.byteIds[b] = id;
      this.vocab.push(Uint8Array.of(b));
    });
    this.bytes = [...bytes];
    // Counts come with every merge or with none (a file that never recorded them).
    const counted = merges.length > 0 && merges[0].count !== null;
    let vocabBytes = 0;
    merges.forEach(({ pair: [a, b], id, count }, i) => {
      const where = `Corrupt tokenizer: merge ${i} (${JSON.stringify([a, b])})`;
      // A merge may only use ids that exist before it: this is also what makes encoding by rank work.
      const known = (x: number) => Number.isInteger(x) && x >= 0 && x < 256 + i;
      if (!known(a) || !known(b)) throw new EngineError('bad_tokenizer', `${where} uses an id that is not defined before it.`);
      if (id !== 256 + i) throw new EngineError('bad_tokenizer', `${where} has id ${id}, expected ${256 + i}.`);
      const countOk = counted ? Number.isInteger(count) && (count as number) >= 0 : count === null;
      if (!countOk) {
        throw new EngineError('bad_tokenizer', `${where} has a bad count ${count}: counts must be non-negative integers, given for every merge or for none.`);
      }
      const key = pairKey(a, b);
      if (this.ranks.has(key)) throw new EngineError('bad_tokenizer', `${where} repeats merge ${this.ranks.get(key)}.`);
      this.ranks.set(key, i);
      const bytes = new Uint8Array(this.vocab[a].length + this.vocab[b].length);
      // a corrupt file can chain merges so that token i is i bytes long (n²/2 bytes in all):
      // refuse it before it exhausts memory; real vocabularies hold a few bytes a token
      vocabBytes += bytes.length;
      if (vocabBytes > maxVocabBytes) {
        throw new EngineError('bad_tokenizer', `${where}: the tokens' bytes add up to more than ${maxVocabBytes / 2 ** 20} MiB, far beyond any real vocabulary.`);
      }
      bytes.set(this.vocab[a]);
      bytes.set(this.vocab[b], this.vocab[a].length);
      this.vocab.push(bytes);
    });
    this.vocab.push(encoder.encode(endOfText));
  }

  get vocabSize(): number {
    return this.eotId + 1;
  }

  // onCounts sees the pair counts of every step just before its pair is chosen (keys are pairKey:
  // a * maxVocabSize + b), the map training itself uses: read it then, do not keep or change it.
  // A replay for the page (bpe-replay.ts) records the leading pairs from it.
  static train(
    text: string,
    vocabSize: number,
    opts: { onMerge?(step: MergeStep): void; onCounts?(counts: ReadonlyMap<number, number>): void } = {}
  ): Tokenizer {
    if (!Number.isInteger(vocabSize) || vocabSize < 257 || vocabSize > maxVocabSize) {
      throw new EngineError(
        'bad_argument',
        `vocabSize must be an integer from 257 (the 256 bytes and <|endoftext|>) to ${maxVocabSize}, got ${vocabSize}.`
      );
    }
    // Count each distinct chunk once: real text repeats its words, so this is far less work.
    const re = compilePattern(gpt2Pattern);
    const chunkFreq = new Map<string, number>();
    for (const doc of wellFormed(text).split(endOfText)) {
      for (const chunk of splitChunks(doc, re)) chunkFreq.set(chunk, (chunkFreq.get(chunk) ?? 0) + 1);
    }
    const words: Int32Array[] = []; // ids of each distinct chunk, merged in place
    const lens: number[] = []; // how much of each words[w] is still in use
    const freqs: number[] = [];
    for (const [chunk, freq] of chunkFreq) {
      const bytes = encoder.encode(chunk);
      if (bytes.length < 2) continue; // a single byte has no pair and never changes
      words.push(Int32Array.from(bytes));
      lens.push(bytes.length);
      freqs.push(freq);
    }

    const pairCounts = new Map<number, number>();
    const addPairs = (w: number, sign: number) => {
      const ids = words[w];
      for (let i = 0; i + 1 < lens[w]; i++) {
        const key = pairKey(ids[i], ids[i + 1]);
        const c = (pairCounts.get(key) ?? 0) + sign * freqs[w];
        if (c === 0) pairCounts.delete(key);
        else pairCounts.set(key, c);
      }
    };
    for (let w = 0; w < words.length; w++) addPairs(w, 1);

    const merges: MergeStep[] = [];
    while (256 + merges.length + 1 < vocabSize) {
      opts.onCounts?.(pairCounts);
      let bestKey = -1;
      let bestCount = 1; // a pair must occur at least twice to be merged
      for (const [key, c] of pairCounts) {
        if (c > bestCount || (c === bestCount && key < bestKey)) {
          bestKey = key;
          bestCount = c;
        }
      }
      if (bestKey < 0) break;
      const a = Math.floor(bestKey / maxVocabSize);
      const b = bestKey % maxVocabSize;
      const id = 256 + merges.length;
      // Only chunks holding the pair change: take their pairs out, merge, and put them back.
      for (let w = 0; w < words.length; w++) {
        const ids = words[w];
        const n = lens[w];
        let found = false;
        for (let i = 0; i + 1 < n; i++) {
          if (ids[i] === a && ids[i + 1] === b) {
            found = true;
            break;
          }
        }
        if (!found) continue;
        addPairs(w, -1);
        let out = 0;
        for (let i = 0; i < n; i++) {
          if (i + 1 < n && ids[i] === a && ids[i + 1] === b) {
            ids[out++] = id;
            i++;
          } else ids[out++] = ids[i];
        }
        lens[w] = out;
        addPairs(w, 1);
      }
      const step: MergeStep = { pair: [a, b], id, count: bestCount };
      merges.push(step);
      opts.onMerge?.(step);
    }
    return new Tokenizer(merges);
  }

  // This tokenizer grown to vocabSize with merges no text taught it: each joins a token (learned
  // ones in id order, then the padded ones) and one more letter (then any byte) into bytes no
  // token has yet, letters a to z first. For test models of a real model's exact size (GPT-2
  // small has 50,257 tokens; the Brown corpus teaches about 44,000, and learning even those takes
  // minutes). The added merges have count 0 when the learned ones have counts: no count chose them.
  padded(vocabSize: number): Tokenizer {
    if (!Number.isInteger(vocabSize) || vocabSize < this.vocabSize || vocabSize > maxVocabSize) {
      throw new EngineError('bad_argument', `padded: vocabSize must be an integer from ${this.vocabSize} to ${maxVocabSize}, got ${vocabSize}.`);
    }
    const merges = [...this.merges];
    const counted = merges.length > 0 && merges[0].count !== null;
    const have = new Set(this.vocab.map(hexOf)); // <|endoftext|>'s bytes too
    const bytesOf = this.vocab.slice(0, this.eotId); // id -> its bytes, the padded ids appended
    const letters = [...'abcdefghijklmnopqrstuvwxyz'].map((c) => this.byteIds[c.charCodeAt(0)]);
    const tails = [...letters, ...[...Array(256).keys()].filter((id) => !letters.includes(id))];
    const heads = merges.length > 0 ? merges.map((m) => m.id) : [...Array(256).keys()];
    for (const b of tails) {
      // the tokens padded so far are heads too, so any size up to the limit can be reached
      for (const a of [...heads, ...merges.slice(this.merges.length).map((m) => m.id)]) {
        if (256 + merges.length + 1 >= vocabSize) return new Tokenizer(merges, this.pattern, this.bytes);
        const bytes = new Uint8Array([...bytesOf[a], ...bytesOf[b]]);
        const hex = hexOf(bytes);
        if (have.has(hex) || this.ranks.has(pairKey(a, b))) continue;
        have.add(hex);
        bytesOf.push(bytes);
        merges.push({ pair: [a, b], id: 256 + merges.length, count: counted ? 0 : null });
      }
    }
    if (256 + merges.length + 1 < vocabSize) throw new EngineError('bad_argument', `padded: cannot make ${vocabSize} distinct tokens from this vocabulary.`);
    return new Tokenizer(merges, this.pattern, this.bytes);
  }

  encode(text: string, opts: { allowSpecial?: boolean } = {}): number[] {
    const ids: number[] = [];
    const docs = opts.allowSpecial ? wellFormed(text).split(endOfText) : [wellFormed(text)];
    docs.forEach((doc, d) => {
      if (d > 0) ids.push(this.eotId);
      for (const chunk of splitChunks(doc, this.re)) {
        let chunkIds = this.cache.get(chunk);
        if (chunkIds === undefined) {
          chunkIds = this.encodeChunk(encoder.encode(chunk));
          // A bound on memory for long-lived pages; real text reuses far fewer chunks than this.
          if (this.cache.size >= 100_000) this.cache.clear();
          this.cache.set(chunk, chunkIds);
        }
        for (const id of chunkIds) ids.push(id);
      }
    });
    return ids;
  }

  // Applies the merges in the order they were learned: lowest rank first, and for one rank from
  // left to right. A heap over (rank, position) keeps this O(n log n), since a chunk can be long
  // (a page of Chinese has no spaces) and rescanning it once per merge would be quadratic.
  private encodeChunk(bytes: Uint8Array): number[] {
    const n = bytes.length;
    const ids = new Int32Array(n); // -1 once a position has been merged into its left neighbour
    for (let i = 0; i < n; i++) ids[i] = this.byteIds[bytes[i]];
    const next = new Int32Array(n); // linked list over the live positions
    const prev = new Int32Array(n);
    const heap: number[] = []; // rank * 2^32 + position
    const push = (i: number) => {
      if (i < 0 || next[i] >= n) return;
      const rank = this.ranks.get(pairKey(ids[i], ids[next[i]]));
      if (rank !== undefined) heapPush(heap, rank * 2 ** 32 + i);
    };
    for (let i = 0; i < n; i++) {
      next[i] = i + 1;
      prev[i] = i - 1;
    }
    for (let i = 0; i + 1 < n; i++) push(i);
    while (heap.length > 0) {
      const top = heapPop(heap);
      const rank = Math.floor(top / 2 ** 32);
      const i = top % 2 ** 32;
      const j = next[i];
      // Entries go stale when a neighbour was merged first; skip those whose pair is gone.
      if (ids[i] < 0 || j >= n || this.ranks.get(pairKey(ids[i], ids[j])) !== rank) continue;
      ids[i] = 256 + rank;
      ids[j] = -1;
      next[i] = next[j];
      if (next[j] < n) prev[next[j]] = i;
      push(prev[i]);
      push(i);
    }
    const out: number[] = [];
    for (let i = 0; i < n; i = next[i]) out.push(ids[i]);
    return out;
  }

  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    let total = 0;
    for (let t = 0; t < ids.length; t++) total += this.tokenBytesView(ids[t]).length;
    const out = new Uint8Array(total);
    let pos = 0;
    for (let t = 0; t < ids.length; t++) {
      const bytes = this.tokenBytesView(ids[t]);
      out.set(bytes, pos);
      pos += bytes.length;
    }
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    return decoder.decode(this.decodeBytes(ids));
  }

  tokenBytes(id: number): Uint8Array {
    return this.tokenBytesView(id).slice();
  }

  // A display form of one token (see bytesText).
  tokenText(id: number): string {
    return bytesText(this.tokenBytesView(id));
  }

  private tokenBytesView(id: number): Uint8Array {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocab.length) {
      throw new EngineError('bad_token', `Token id ${id} is not an integer in [0, ${this.vocab.length}).`);
    }
    return this.vocab[id];
  }

  toJSON(): TokenizerJSON {
    const identity = this.bytes.every((b, id) => b === id);
    const counted = this.merges.every((m) => m.count !== null);
    return {
      type: 'byte-bpe',
      version: 1,
      pattern: this.pattern,
      ...(identity ? {} : { bytes: [...this.bytes] }),
      merges: this.merges.map((m) => [m.pair[0], m.pair[1]]),
      ...(counted ? { counts: this.merges.map((m) => m.count as number) } : {}),
      special: { [endOfText]: this.eotId }
    };
  }

  // Our tokenizer.json, or Hugging Face's tokenizer.json of a GPT-2-style byte-level BPE.
  static fromJSON(json: object | string): Tokenizer {
    const fail = (message: string): never => {
      throw new EngineError('bad_tokenizer', `Corrupt tokenizer: ${message}`);
    };
    let obj: unknown = json;
    if (typeof json === 'string') {
      try {
        obj = JSON.parse(json);
      } catch {
        fail('the file is not valid JSON.');
      }
    }
    if (!isObject(obj)) return fail('expected a JSON object.');
    const t = obj;
    // Hugging Face keeps the vocabulary under "model"; our format has no such key.
    if ('model' in t) return Tokenizer.fromHuggingFace(t);
    const keys = ['type', 'version', 'pattern', 'bytes', 'merges', 'counts', 'special'];
    for (const k of Object.keys(t)) if (!keys.includes(k)) fail(`unknown key "${k}".`);
    if (t.type !== 'byte-bpe') fail(`type is ${JSON.stringify(t.type)}, expected "byte-bpe".`);
    if (t.version !== 1) fail(`version ${JSON.stringify(t.version)} is not supported (expected 1).`);
    if (typeof t.pattern !== 'string') fail('pattern must be a string.');
    if (!Array.isArray(t.merges)) return fail('merges must be an array of [a, b] pairs.');
    if (t.counts !== undefined && (!Array.isArray(t.counts) || t.counts.length !== t.merges.length)) {
      fail(`counts must be an array with one count per merge (${t.merges.length}), or be left out.`);
    }
    const counts = t.counts as unknown[] | undefined;
    const merges: MergeStep[] = t.merges.map((pair: unknown, i: number) => {
      if (!Array.isArray(pair) || pair.length !== 2) fail(`merge ${i} is not an [a, b] pair.`);
      return { pair: [(pair as number[])[0], (pair as number[])[1]], id: 256 + i, count: counts ? (counts[i] as number) : null };
    });
    const special = t.special as Record<string, unknown> | null;
    const eotId = 256 + merges.length;
    if (special === null || typeof special !== 'object' || Object.keys(special).length !== 1 || special[endOfText] !== eotId) {
      fail(`special must be { "${endOfText}": ${eotId} }, the id after the last merge.`);
    }
    return new Tokenizer(merges, t.pattern as string, (t.bytes ?? identityBytes) as number[]);
  }

  // GPT-2's own files: vocab.json names every token by its bytes written in gpt2ByteChars, ids
  // 0..255 are the single bytes (in that alphabet's order, not byte order), line i of merges.txt
  // after its "#version" line makes id 256 + i, and <|endoftext|> comes last (50256 in GPT-2).
  static fromGPT2(files: GPT2Files, pattern: string = gpt2WhiteSpacePattern): Tokenizer {
    const fail = (message: string): never => {
      throw new EngineError('bad_tokenizer', `Corrupt GPT-2 tokenizer: ${message}`);
    };
    let vocab = files.vocab;
    if (typeof vocab === 'string') {
      try {
        vocab = JSON.parse(vocab);
      } catch {
        fail('vocab.json is not valid JSON.');
      }
    }
    if (!isObject(vocab)) return fail('vocab must be a JSON object from token strings to ids.');
    const lines = mergeLines(files.merges, fail);
    // A Map, not the object: a token may well be called "constructor" or "__proto__".
    const idOf = new Map<string, number>();
    const names: string[] = []; // id -> token string
    for (const [name, id] of Object.entries(vocab)) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= maxVocabSize) {
        fail(`vocab gives ${JSON.stringify(name)} the id ${JSON.stringify(id)}, not an integer in [0, ${maxVocabSize}).`);
      }
      if (names[id as number] !== undefined) fail(`vocab gives the id ${id} to both ${JSON.stringify(names[id as number])} and ${JSON.stringify(name)}.`);
      names[id as number] = name;
      idOf.set(name, id as number);
    }
    const eotId = idOf.get(endOfText);
    if (eotId === undefined) return fail(`vocab has no ${endOfText}.`);
    if (eotId !== 256 + lines.length) {
      fail(`${endOfText} has id ${eotId}, but the engine keeps it right after the last merge, at ${256 + lines.length}.`);
    }
    if (idOf.size !== 256 + lines.length + 1) {
      fail(`vocab has ${idOf.size} tokens, but 256 bytes, ${lines.length} merges and ${endOfText} make ${256 + lines.length + 1}.`);
    }
    const byteOf = new Map(gpt2ByteChars.map((c, b) => [c, b]));
    const bytes: number[] = [];
    for (let id = 0; id < 256; id++) {
      const b = byteOf.get(names[id]);
      if (b === undefined) {
        const what = names[id] === undefined ? 'missing' : JSON.stringify(names[id]);
        fail(`id ${id} is ${what}, but ids 0..255 must be the 256 single bytes, each written as one character of GPT-2's byte alphabet.`);
      }
      bytes.push(b as number);
    }
    // The 256 names are distinct vocab keys, so the 256 bytes are distinct too: a permutation.
    const merges: MergeStep[] = lines.map(([a, b], i) => {
      const where = `merge ${i} ("${a} ${b}")`;
      const part = (s: string) => idOf.get(s) ?? fail(`${where}: ${JSON.stringify(s)} is not in the vocab.`);
      const pair: [number, number] = [part(a), part(b)];
      const id = idOf.get(a + b);
      if (id !== 256 + i) fail(`${where} makes ${JSON.stringify(a + b)}, which the vocab gives id ${id ?? 'none'}; merge ${i} must make id ${256 + i}.`);
      return { pair, id: 256 + i, count: null };
    });
    return new Tokenizer(merges, pattern, bytes);
  }

  // Hugging Face's tokenizer.json: the same vocab and merges under "model", the special tokens under
  // "added_tokens". Only what GPT-2 uses is accepted; any other setting would change the ids.
  // "truncation" and "padding" are about batching model inputs, not the vocabulary, and are ignored.
  private static fromHuggingFace(t: Record<string, unknown>): Tokenizer {
    const fail = (message: string): never => {
      throw new EngineError('bad_tokenizer', `Unsupported Hugging Face tokenizer: ${message}`);
    };
    const model = t.model;
    if (!isObject(model) || model.type !== 'BPE') return fail(`model type ${JSON.stringify(isObject(model) ? model.type : model)}; only GPT-2's byte-level BPE is supported.`);
    const pre = t.pre_tokenizer;
    if (!isObject(pre) || pre.type !== 'ByteLevel') fail(`pre_tokenizer ${JSON.stringify(isObject(pre) ? pre.type : pre)}; only GPT-2's ByteLevel is supported.`);
    const byteLevel = pre as Record<string, unknown>;
    if (byteLevel.add_prefix_space !== false) fail('the pre-tokenizer puts a space before the text (add_prefix_space), which GPT-2 does not.');
    if (byteLevel.use_regex === false) fail("the pre-tokenizer does not split with GPT-2's regex (use_regex is false).");
    if (t.normalizer != null) fail('a normalizer changes the text before tokenizing; GPT-2 has none.');
    if (isObject(t.post_processor) && t.post_processor.type !== 'ByteLevel') fail(`post_processor ${JSON.stringify(t.post_processor.type)} adds tokens; GPT-2 adds none.`);
    if (t.decoder != null && !(isObject(t.decoder) && t.decoder.type === 'ByteLevel')) fail("the decoder is not GPT-2's ByteLevel.");
    if (model.dropout != null && model.dropout !== 0) fail('BPE dropout makes encoding random.');
    if (model.continuing_subword_prefix || model.end_of_word_suffix) fail('subword prefixes and suffixes are not byte-level BPE.');
    if (model.byte_fallback === true) fail('byte_fallback is for character-level BPE, not byte-level.');
    if (model.ignore_merges === true) fail('ignore_merges looks whole words up before merging, which GPT-2 does not.');
    if (!isObject(model.vocab)) return fail('model.vocab must be an object from token strings to ids.');
    const vocab: Record<string, unknown> = { ...model.vocab };
    if (!Array.isArray(t.added_tokens ?? [])) fail('added_tokens must be an array.');
    for (const added of (t.added_tokens ?? []) as unknown[]) {
      const { id, content } = isObject(added) ? added : ({} as Record<string, unknown>);
      if (content !== endOfText) fail(`the added token ${JSON.stringify(content)} (id ${id}): the engine knows one special token, ${endOfText}.`);
      if (endOfText in vocab && vocab[endOfText] !== id) fail(`${endOfText} has id ${vocab[endOfText]} in the vocab but ${id} in added_tokens.`);
      vocab[endOfText] = id;
    }
    return Tokenizer.fromGPT2({ vocab, merges: model.merges });
  }
}

// The lines of merges.txt, or Hugging Face's list of merges (older files: "a b" strings, newer ones:
// [a, b] pairs). Byte-level symbols never hold a space (the space byte is 'Ġ'), so one space splits a line.
function mergeLines(merges: unknown, fail: (message: string) => never): [string, string][] {
  let items: unknown[];
  if (typeof merges === 'string') {
    items = merges.split(/\r?\n/);
    if (items[0] !== undefined && (items[0] as string).startsWith('#version')) items.shift();
    if (items.at(-1) === '') items.pop();
  } else if (Array.isArray(merges)) items = merges;
  else return fail('merges must be the text of merges.txt or an array of "a b" strings or [a, b] pairs.');
  return items.map((item, i) => {
    const pair = typeof item === 'string' ? item.split(' ') : item;
    const ok = Array.isArray(pair) && pair.length === 2 && pair.every((p) => typeof p === 'string' && p !== '');
    if (!ok) fail(`merge ${i} (${JSON.stringify(item)}) is not two symbols "a b".`);
    return pair as [string, string];
  });
}
