// A model folder as a reader has it on disk: config.json, model.safetensors, and the vocabulary as
// either tokenizer.json (ours or Hugging Face's) or GPT-2's vocab.json + merges.txt. The same rules
// serve the command-line tools (files read from a directory) and the page (files the reader
// picked or dropped), so a folder that loads in one loads in the other.
import { countParams, parseConfig, type GPTConfig } from './config';
import { EngineError } from './errors';
import { loadModelStepwise, type Model, type ModelFiles } from './model';
import { Tokenizer } from './tokenizer';

// A file by its name (the last part of its path: a dropped folder gives "gpt2/config.json").
export type FolderFiles = Record<string, Uint8Array>;

export const folderFileNames = ['config.json', 'model.safetensors', 'tokenizer.json', 'vocab.json', 'merges.txt'];

const baseName = (path: string) => path.split(/[/\\]/).pop() ?? path;

// Which of the reader's files the engine needs, by name; the rest (README.md, pytorch_model.bin,
// generation_config.json, ...) are left unread. Missing ones are named in the error.
export function pickFolderFiles(names: string[]): { config: string; safetensors: string; tokenizer: string[] } {
  const byBase = new Map<string, string>();
  for (const n of names) {
    const b = baseName(n);
    if (!folderFileNames.includes(b)) continue;
    if (byBase.has(b)) throw new EngineError('bad_folder', `Two files are called ${b} (${byBase.get(b)} and ${n}): open one model's folder at a time.`);
    byBase.set(b, n);
  }
  const missing: string[] = [];
  if (!byBase.has('config.json')) missing.push('config.json');
  if (!byBase.has('model.safetensors')) {
    const other = names.map(baseName).find((b) => /\.(bin|pt|pth|ckpt|h5|msgpack|onnx|gguf)$/.test(b));
    if (other) throw new EngineError('bad_folder', `The folder has ${other} but no model.safetensors: only the safetensors format is read (a Hugging Face model page offers it for GPT-2).`);
    missing.push('model.safetensors');
  }
  let tokenizer: string[] = [];
  if (byBase.has('tokenizer.json')) tokenizer = [byBase.get('tokenizer.json')!];
  else if (byBase.has('vocab.json') && byBase.has('merges.txt')) tokenizer = [byBase.get('vocab.json')!, byBase.get('merges.txt')!];
  else missing.push(byBase.has('vocab.json') ? 'merges.txt (beside vocab.json)' : byBase.has('merges.txt') ? 'vocab.json (beside merges.txt)' : 'tokenizer.json (or vocab.json and merges.txt)');
  if (missing.length > 0) {
    const found = names.length === 0 ? 'no files' : names.map(baseName).slice(0, 8).join(', ') + (names.length > 8 ? ', …' : '');
    throw new EngineError('bad_folder', `A model folder needs config.json, model.safetensors and a tokenizer; missing: ${missing.join(', ')} (found ${found}).`);
  }
  return { config: byBase.get('config.json')!, safetensors: byBase.get('model.safetensors')!, tokenizer };
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

// The three inputs of loadModel from the folder's files, the tokenizer in whichever form it came.
export function modelFilesOf(files: FolderFiles): ModelFiles {
  const pick = pickFolderFiles(Object.keys(files));
  let tokenizer: unknown;
  if (pick.tokenizer.length === 1) tokenizer = text(files[pick.tokenizer[0]]);
  else tokenizer = Tokenizer.fromGPT2({ vocab: text(files[pick.tokenizer[0]]), merges: text(files[pick.tokenizer[1]]) });
  return { config: text(files[pick.config]), safetensors: files[pick.safetensors], tokenizer };
}

export interface PrepareProgress {
  tensors: number; // tensors checked and converted so far
  total: number;
}

// Build the model from the folder's files, one tensor at a time, yielding in between so a Cancel
// (signal) is heard and progress reaches the page. Nothing is kept if any check fails.
export async function loadFolder(files: FolderFiles, opts: { onProgress?: (p: PrepareProgress) => void; signal?: { aborted: boolean } } = {}): Promise<Model> {
  return loadModelStepwise(modelFilesOf(files), opts);
}

// What the model will take in memory once loaded, in bytes, before any tensor is decoded: each
// parameter as float32 twice (the engine's copy, and the CPU backend's copy in WebAssembly memory
// or the GPU's buffers), the file itself while it is read, and one KV cache per open generation.
export interface MemoryEstimate {
  nParams: number;
  params: number; // bytes of float32 parameters, one copy
  file: number;
  kvCache: number; // one generation's cache at full context
  total: number;
}

export function estimateMemory(config: GPTConfig, fileBytes: number, sessions = 2): MemoryEstimate {
  const nParams = countParams(config);
  const params = nParams * 4;
  const kvCache = config.n_layer * 2 * config.n_positions * config.n_embd * 4; // L × {k,v} × T × C
  return { nParams, params, file: fileBytes, kvCache, total: 2 * params + fileBytes + sessions * kvCache };
}

// The checks that need only config.json and the safetensors header (its first bytes), run before
// the reader waits for a large file: the architecture, and the header's own consistency. `head`
// holds the start of the file, `size` its whole length.
export function checkFolderHead(configText: string, head: Uint8Array, size: number): { config: GPTConfig; memory: MemoryEstimate; dtypes: string[] } {
  const config = parseConfig(configText);
  if (head.byteLength < 8) throw new EngineError('bad_safetensors', `Corrupt parameter file: ${size} bytes is too short to hold a header.`);
  const headerLen = Number(new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true));
  if (8 + headerLen > head.byteLength) {
    throw new EngineError('bad_safetensors', `Corrupt parameter file: the header claims ${headerLen.toLocaleString('en')} bytes but the file holds ${size.toLocaleString('en')}.`);
  }
  const dtypes = new Set<string>();
  const entries = headerEntries(head.subarray(0, 8 + headerLen), size);
  for (const e of entries) dtypes.add(e);
  return { config, memory: estimateMemory(config, size), dtypes: [...dtypes].sort() };
}

// The dtypes a header lists, with each tensor's byte range checked against the file's true size.
function headerEntries(header: Uint8Array, size: number): string[] {
  // Only the ranges against the true size here (a truncated file is the common case, and the whole
  // file need not be read to see it); the full load runs readSafetensorsHeader's every check.
  let json: Record<string, { dtype?: string; data_offsets?: number[] }>;
  try {
    json = JSON.parse(new TextDecoder().decode(header.subarray(8)));
  } catch {
    throw new EngineError('bad_safetensors', 'Corrupt parameter file: the header is not valid JSON.');
  }
  if (json === null || typeof json !== 'object') throw new EngineError('bad_safetensors', 'Corrupt parameter file: the header is not a JSON object.');
  const dataLen = size - header.byteLength;
  const out: string[] = [];
  for (const [name, info] of Object.entries(json)) {
    if (name === '__metadata__') continue;
    const end = info?.data_offsets?.[1];
    if (typeof end === 'number' && end > dataLen) {
      throw new EngineError('bad_safetensors', `Corrupt parameter file: tensor "${name}" ends at byte ${end.toLocaleString('en')} of the data, but the file holds ${dataLen.toLocaleString('en')}: it was cut short (a download that broke off?).`);
    }
    if (typeof info?.dtype === 'string') out.push(info.dtype);
  }
  return out;
}
