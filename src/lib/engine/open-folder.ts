// The page's side of opening a model folder from disk: which of the reader's files count, what the
// model will take in memory (from config.json and the safetensors header, before the large file is
// read), and reading the files with progress and a cancel. Nothing here touches the network: the
// files are read from the disk through the File API and handed to the worker.
import { EngineError } from '../../../engine/errors';
import { checkFolderHead, pickFolderFiles, type MemoryEstimate } from '../../../engine/model-folder';
import type { GPTConfig } from '../../../engine/config';

export interface FolderPlan {
  name: string; // the folder's name, or the config's explorable_name
  files: Map<string, File>; // the files to read, by the name the engine knows them by
  config: GPTConfig;
  memory: MemoryEstimate;
  dtypes: string[]; // of the parameter file's tensors
  bytes: number; // to read in all
}

export interface ReadProgress {
  file: string;
  loaded: number; // bytes read so far, over all files
  total: number;
}

// A dropped folder gives files with a relative path (webkitRelativePath or the drop's own path);
// picked files give only their names.
export function pathOf(f: File & { relativePath?: string }): string {
  return f.webkitRelativePath || f.relativePath || f.name;
}

// Everything that can be told from the names, config.json and the first bytes of
// model.safetensors; the large file itself is not read yet.
export async function planFolder(list: File[]): Promise<FolderPlan> {
  const byPath = new Map(list.map((f) => [pathOf(f), f]));
  const pick = pickFolderFiles([...byPath.keys()]);
  const files = new Map<string, File>();
  for (const p of [pick.config, pick.safetensors, ...pick.tokenizer]) files.set(p, byPath.get(p)!);
  const configText = await files.get(pick.config)!.text();
  const st = files.get(pick.safetensors)!;
  const lenBytes = new Uint8Array(await st.slice(0, 8).arrayBuffer());
  const headerLen = lenBytes.length === 8 ? Number(new DataView(lenBytes.buffer).getBigUint64(0, true)) : 0;
  if (headerLen > 100_000_000) throw new EngineError('bad_safetensors', 'Corrupt parameter file: the header claims more bytes than a header may hold.');
  const head = new Uint8Array(await st.slice(0, 8 + Math.min(headerLen, st.size)).arrayBuffer());
  const { config, memory, dtypes } = checkFolderHead(configText, head, st.size);
  let name = pick.config.includes('/') ? pick.config.split('/').slice(-2, -1)[0] : 'opened model';
  try {
    const raw = JSON.parse(configText) as Record<string, unknown>;
    if (typeof raw.explorable_name === 'string') name = raw.explorable_name;
  } catch {
    // checkFolderHead has already refused a config that is not JSON
  }
  const bytes = [...files.values()].reduce((n, f) => n + f.size, 0);
  return { name, files, config, memory, dtypes, bytes };
}

// Read every file of the plan into memory, reporting bytes as they come; signal stops it.
export async function readFolder(plan: FolderPlan, onProgress: (p: ReadProgress) => void, signal: AbortSignal): Promise<Record<string, ArrayBuffer>> {
  const out: Record<string, ArrayBuffer> = {};
  let loaded = 0;
  for (const [name, file] of plan.files) {
    const buffer = new Uint8Array(file.size);
    let at = 0;
    const reader = file.stream().getReader();
    try {
      for (;;) {
        if (signal.aborted) throw new EngineError('cancelled', 'Opening the model was cancelled; the model in use is unchanged.');
        let part: ReadableStreamReadResult<Uint8Array>;
        try {
          part = await reader.read();
        } catch (e) {
          throw new EngineError('read_failed', `Could not read ${name} from the disk: ${e instanceof Error ? e.message : String(e)}. Was it moved or changed?`);
        }
        if (part.done) break;
        if (at + part.value.length > buffer.length) throw new EngineError('read_failed', `${name} grew while it was read: open it again once it is written.`);
        buffer.set(part.value, at);
        at += part.value.length;
        loaded += part.value.length;
        onProgress({ file: name, loaded, total: plan.bytes });
      }
    } finally {
      reader.releaseLock();
    }
    if (at !== buffer.length) throw new EngineError('read_failed', `${name} shrank while it was read: open it again once it is written.`);
    out[name] = buffer.buffer;
  }
  return out;
}

// Files from a drop: a dropped folder is walked (webkitGetAsEntry), loose files are taken as they are.
export async function filesFromDrop(data: DataTransfer): Promise<File[]> {
  const entries = [...data.items].map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return [...data.files];
  const out: File[] = [];
  async function walk(entry: FileSystemEntry, path: string): Promise<void> {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      Object.defineProperty(file, 'relativePath', { value: path + file.name });
      out.push(file);
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        for (const e of batch) await walk(e, `${path}${entry.name}/`);
      }
    }
  }
  for (const e of entries) await walk(e, '');
  return out;
}

export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e3).toFixed(0)} kB`;
}
