// The layout of a safetensors file as it lies on disk: 8 bytes giving the header's length N, N
// bytes of JSON naming every tensor with its dtype, shape and byte range, then the raw numbers.
// engine/safetensors.ts reads and checks the header and decodes the numbers; this lays the header
// out to show the file itself: which tensor sits where and how many bytes it takes.
import { readSafetensorsHeader } from '../../../engine/safetensors';

export interface TensorEntry {
  name: string; // as written in the file
  key: string; // the GPT-2 parameter name our engine uses (a leading "transformer." dropped)
  dtype: string; // F32, F16, BF16
  shape: number[];
  count: number; // numbers in the tensor
  begin: number; // byte offset of its first number in the file
  bytes: number;
  isParam: boolean; // false for buffers some exports carry (the attention mask, a tied lm_head)
}

export interface FileLayout {
  fileBytes: number;
  headerBytes: number; // the 8-byte length and the JSON
  tensors: TensorEntry[]; // in file order
  metadata: Record<string, string>;
}

// Tensors a GPT-2 file may hold that are not parameters of ours (see engine/model.ts).
const notParam = /(^|\.)attn\.(bias|masked_bias)$|^lm_head\.weight$/;

// The header, read and checked by the engine; here it is only laid out for the reader.
export function readLayout(bytes: Uint8Array): FileLayout {
  const { headerBytes, entries, metadata } = readSafetensorsHeader(bytes);
  const tensors = entries.map(({ name, dtype, shape, begin, end }): TensorEntry => {
    const key = name.replace(/^transformer\./, '');
    return { name, key, dtype, shape, count: shape.reduce((a, b) => a * b, 1), begin, bytes: end - begin, isParam: !notParam.test(key) };
  });
  return { fileBytes: bytes.byteLength, headerBytes, tensors, metadata };
}

export interface TensorGroup {
  id: string; // 'embeddings', 'h.0', ..., 'ln_f', 'other'
  layer: number | null; // the block's index, for h.{i}
  tensors: TensorEntry[];
  params: number; // numbers in its parameter tensors
  bytes: number;
}

// The model's parts in the order a forward pass meets them: embeddings, then each Transformer
// block, then the final LayerNorm; anything else (buffers of other exports) at the end.
export function groupTensors(tensors: readonly TensorEntry[]): TensorGroup[] {
  const byId = new Map<string, TensorGroup>();
  const groupOf = (key: string): { id: string; layer: number | null; rank: number } => {
    if (/^(wte|wpe)\./.test(key)) return { id: 'embeddings', layer: null, rank: -1 };
    const block = /^h\.(\d+)\./.exec(key);
    if (block) return { id: `h.${block[1]}`, layer: Number(block[1]), rank: Number(block[1]) };
    if (/^ln_f\./.test(key)) return { id: 'ln_f', layer: null, rank: Number.MAX_SAFE_INTEGER - 1 };
    return { id: 'other', layer: null, rank: Number.MAX_SAFE_INTEGER };
  };
  const ranks = new Map<string, number>();
  for (const t of tensors) {
    const { id, layer, rank } = groupOf(t.key);
    let g = byId.get(id);
    if (!g) {
      g = { id, layer, tensors: [], params: 0, bytes: 0 };
      byId.set(id, g);
      ranks.set(id, rank);
    }
    g.tensors.push(t);
    if (t.isParam) g.params += t.count;
    g.bytes += t.bytes;
  }
  return [...byId.values()].sort((a, b) => ranks.get(a.id)! - ranks.get(b.id)!);
}

// What each dimension of a GPT-2 tensor stands for, in the symbols the chapters use.
const dimensionNames: [RegExp, string[]][] = [
  [/^wte\.weight$/, ['V', 'C']],
  [/^wpe\.weight$/, ['n_positions', 'C']],
  [/\.attn\.c_attn\.weight$/, ['C', '3C']],
  [/\.attn\.c_attn\.bias$/, ['3C']],
  [/\.mlp\.c_fc\.weight$/, ['C', '4C']],
  [/\.mlp\.c_fc\.bias$/, ['4C']],
  [/\.mlp\.c_proj\.weight$/, ['4C', 'C']],
  [/\.attn\.c_proj\.weight$/, ['C', 'C']],
  [/(ln_\d|ln_f)\.(weight|bias)$|c_proj\.bias$/, ['C']]
];

export function dimensionSymbols(key: string, rank: number): string[] | null {
  for (const [pattern, names] of dimensionNames) {
    if (pattern.test(key)) return names.length === rank ? names : null;
  }
  return null;
}

// Bytes for a reader: exact below a kilobyte, else in kB / MB / GB (powers of 1000, as disks are sold).
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} bytes`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  // 999,999 bytes is 1.00 MB, not 1000 kB: move up a unit whenever rounding would reach 1000
  while (v >= 999.5 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toPrecision(3)} ${units[u]}`;
}
