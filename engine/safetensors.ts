// The safetensors format: 8 bytes of little-endian header length N, N bytes of JSON header
// ({ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: {..} }), then the raw data.
// We read F32, F16 and BF16 (real checkpoints ship all three) into Float32Array, and write F32.
import { EngineError } from './errors';

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

const bytesPerElement: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };

// The reference reader refuses a header over 100 MB; a real one is a few kB per hundred tensors,
// so a larger claim is a corrupt or hostile file, refused before anything is allocated for it.
export const maxHeaderBytes = 100_000_000;

function fail(message: string): never {
  throw new EngineError('bad_safetensors', `Corrupt parameter file: ${message}`);
}

// One tensor as the header places it: bytes begin..end of the file (absolute offsets).
export interface HeaderEntry {
  name: string;
  dtype: 'F32' | 'F16' | 'BF16';
  shape: number[];
  begin: number;
  end: number;
}

// Reads and checks the header without decoding any number: every tensor's dtype, shape and byte
// range (sorted by position), which must fit the file without overlapping.
export function readSafetensorsHeader(bytes: Uint8Array): { headerBytes: number; entries: HeaderEntry[]; metadata: Record<string, string> } {
  if (!(bytes instanceof Uint8Array)) fail('expected bytes.');
  if (bytes.byteLength < 8) fail(`${bytes.byteLength} bytes is too short to hold a header.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const claimed = view.getBigUint64(0, true); // as a BigInt: a length past 2^53 must not round
  if (claimed > BigInt(maxHeaderBytes)) {
    fail(`the header claims ${claimed.toLocaleString('en')} bytes, more than the ${maxHeaderBytes.toLocaleString('en')} a header may hold.`);
  }
  const headerLen = Number(claimed);
  if (headerLen < 2 || 8 + headerLen > bytes.byteLength) {
    fail(`the header claims ${headerLen} bytes but the file holds ${bytes.byteLength}.`);
  }
  let header: Record<string, unknown>;
  let json: string;
  try {
    json = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
    header = JSON.parse(json);
  } catch {
    fail('the header is not valid JSON.');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('the header is not a JSON object.');
  // JSON.parse keeps the last of two equal keys, so a file naming one tensor twice would load
  // whichever came last without a word
  const twice = duplicateKey(json);
  if (twice !== null) fail(`the header names "${twice}" twice.`);

  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  const entries: HeaderEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      // the format allows only a flat map of strings here
      if (info === null || typeof info !== 'object' || Array.isArray(info) || !Object.values(info).every((v) => typeof v === 'string')) {
        fail('__metadata__ must be an object of strings.');
      }
      metadata = info as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets } = (info ?? {}) as { dtype?: string; shape?: number[]; data_offsets?: number[] };
    if (typeof dtype !== 'string' || !Object.hasOwn(bytesPerElement, dtype)) fail(`tensor "${name}" has unsupported dtype ${JSON.stringify(dtype)}.`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor "${name}" has a bad shape.`);
    if (!Array.isArray(data_offsets) || data_offsets.length !== 2) fail(`tensor "${name}" has bad data_offsets.`);
    const [begin, end] = data_offsets;
    const n = shape.reduce((a, b) => a * b, 1);
    if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end > dataLen || end - begin !== n * bytesPerElement[dtype]) {
      fail(`tensor "${name}" (${dtype} ${JSON.stringify(shape)}) needs ${n * bytesPerElement[dtype]} bytes, its offsets [${begin}, ${end}] do not fit the ${dataLen} data bytes.`);
    }
    entries.push({ name, dtype: dtype as HeaderEntry['dtype'], shape, begin: dataStart + begin, end: dataStart + end });
  }
  // The data section is the tensors back to back, as the reference writer lays them: a hole or
  // bytes after the last tensor would be data that no tensor owns.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = dataStart;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (e.begin < at) fail(`tensors "${entries[i - 1].name}" and "${e.name}" overlap.`);
    if (e.begin > at) fail(`bytes ${at - dataStart}..${e.begin - dataStart} of the data belong to no tensor (a hole before "${e.name}").`);
    at = e.end;
  }
  if (at !== bytes.byteLength) fail(`the last ${bytes.byteLength - at} bytes of the file belong to no tensor.`);
  return { headerBytes: dataStart, entries, metadata };
}

// The first key that appears twice in one object of a JSON text (already known to be valid JSON),
// or null. A walk over strings and brackets: enough, since JSON.parse has checked the grammar.
function duplicateKey(json: string): string | null {
  const stack: { keys: Set<string> | null; expectKey: boolean }[] = []; // keys is null in an array
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(json.slice(i, j + 1)) as string; // "\u0061" and "a" are one key
        if (top.keys.has(key)) return key;
        top.keys.add(key);
        top.expectKey = false;
      }
      i = j;
    } else if (c === '{') stack.push({ keys: new Set(), expectKey: true });
    else if (c === '[') stack.push({ keys: null, expectKey: false });
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',' && stack[stack.length - 1]?.keys) stack[stack.length - 1].expectKey = true;
  }
  return null;
}

export function parseSafetensors(bytes: Uint8Array): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const { entries, metadata } = readSafetensorsHeader(bytes);
  const tensors = new Map<string, Tensor>();
  for (const e of entries) {
    tensors.set(e.name, { shape: e.shape, data: decode(bytes, e.begin, (e.end - e.begin) / bytesPerElement[e.dtype], e.dtype) });
  }
  return { tensors, metadata };
}

// One tensor's numbers, decoded when asked: a loader that goes tensor by tensor (to report progress)
// holds the file and one tensor's float32 copy at a time, not a second copy of everything at once.
export function decodeTensor(bytes: Uint8Array, entry: HeaderEntry): Float32Array {
  return decode(bytes, entry.begin, (entry.end - entry.begin) / bytesPerElement[entry.dtype], entry.dtype);
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function decode(bytes: Uint8Array, offset: number, n: number, dtype: string): Float32Array {
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, n * bytesPerElement[dtype]);
  if (dtype === 'F32' && littleEndian) {
    // the file's bytes are the array's bytes on a little-endian machine: one copy, any alignment
    new Uint8Array(out.buffer).set(bytes.subarray(offset, offset + 4 * n));
  } else if (dtype === 'F32') {
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  } else if (dtype === 'BF16') {
    // bfloat16 is the top half of a float32
    const u32 = new Uint32Array(1);
    const f32 = new Float32Array(u32.buffer);
    for (let i = 0; i < n; i++) {
      u32[0] = view.getUint16(2 * i, true) << 16;
      out[i] = f32[0];
    }
  } else {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

export function serializeSafetensors(tensors: Map<string, Tensor> | [string, Tensor][], metadata: Record<string, string> = {}): Uint8Array {
  const entries = [...tensors];
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new EngineError('bad_tensor', `tensor "${name}": shape ${JSON.stringify(t.shape)} does not match ${t.data.length} values.`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * n] };
    offset += 4 * n;
  }
  // pad the header with spaces so the data starts 8-byte aligned, as the reference writer does
  let json = JSON.stringify(header);
  while ((8 + new TextEncoder().encode(json).length) % 8 !== 0) json += ' ';
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let p = 8 + head.length;
  for (const [, t] of entries) {
    for (let i = 0; i < t.data.length; i++, p += 4) view.setFloat32(p, t.data[i], true);
  }
  return out;
}
