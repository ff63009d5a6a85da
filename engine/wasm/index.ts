// WebAssembly SIMD matmul kernels for the CPU: the four matmuls of a GPT-2 step (forward, forward
// against the tied head wteᵀ, and their backward passes), with exactly the signatures and the
// semantics of the plain-loop references in engine/kernels.ts. On the training shapes they run at
// 30 to 35 GFLOPS on one core, about 40 times the references; one token's matrix-vector products
// at 15 to 20 (bench/kernels.ts). How: kernels.wat. Framework-free: Node, a Web Worker, a page.
//
//   const k = await loadWasmKernels({ maxBytes: 256 * 2 ** 20 });
//   const w = k.alloc(C * 3 * C); // (C, 3C), zeroed, inside WASM memory
//   k.matmulForward(out, inp, w, b, N, C, 3 * C);
//
// Memory. Each loadWasmKernels call gets one WebAssembly.Memory of maxBytes (default 512 MiB),
// reserved in full when loading and never grown. Growing a memory detaches its ArrayBuffer, which
// would silently empty every Float32Array handed out before; reserving up front keeps every view
// valid for the life of the kernels. The operating system backs only the pages that get touched,
// so an unused reservation costs address space, not RAM. The first ~1 MiB holds the kernels' own
// packing buffers. alloc(n) hands out zeroed views from a bump arena above them (64-byte aligned,
// for cache lines) and throws EngineError 'wasm_out_of_memory' when it is full; reset() empties
// the arena, after which earlier views alias new allocations and must not be used again (a kernel
// given such a view that now lies past the arena throws 'wasm_stale_view').
//
// Zero copies. When an argument is a view from alloc (or a subarray of one), the kernel runs on it
// in place. Any other Float32Array is copied into the free space above the arena for the call
// (inputs in; outputs in, for +=, and back out): correct, but for one token the copies cost more
// than the product. Training allocates params, grads and activations with alloc. The backward
// kernels ACCUMULATE (+=) into their gradients, as the references do.
//
// Loading uses the asynchronous WebAssembly.instantiate, because Chromium refuses to compile a
// module over 4 KB synchronously on a page's main thread. The kernels are synchronous and single-
// threaded; run them in a Web Worker to keep a page responsive.
import { EngineError } from '../errors';
import { kernelsWasmBase64 } from './kernels.wasm';

export interface WasmKernels {
  // out (N, OC) = inp (N, IC) @ w (IC, OC) + bias (OC)
  matmulForward(
    out: Float32Array, inp: Float32Array, w: Float32Array, bias: Float32Array | null,
    N: number, IC: number, OC: number
  ): void;
  // out (N, OC) = inp (N, IC) @ wᵀ, w (OC, IC)
  matmulTransposedForward(
    out: Float32Array, inp: Float32Array, w: Float32Array, N: number, IC: number, OC: number
  ): void;
  // dinp (N, IC) += dout @ wᵀ, dw (IC, OC) += inpᵀ @ dout, dbias (OC) += Σ rows of dout
  matmulBackward(
    dinp: Float32Array, dw: Float32Array, dbias: Float32Array | null, dout: Float32Array,
    inp: Float32Array, w: Float32Array, N: number, IC: number, OC: number
  ): void;
  // dinp (N, IC) += dout @ w, dw (OC, IC) += doutᵀ @ inp
  matmulTransposedBackward(
    dinp: Float32Array, dw: Float32Array, dout: Float32Array, inp: Float32Array, w: Float32Array,
    N: number, IC: number, OC: number
  ): void;
  // A zeroed Float32Array of n floats inside WASM memory, for zero-copy kernel calls.
  alloc(n: number): Float32Array;
  // Empty the arena: every view alloc returned before is released.
  reset(): void;
  // Bytes handed out by alloc so far, and the most it can hand out.
  usedBytes(): number;
  readonly capacityBytes: number;
}

type Exports = {
  heapBase: WebAssembly.Global; // the kernels' own packing buffers lie below it
  matmulForward(out: number, inp: number, w: number, bias: number, N: number, IC: number, OC: number): void;
  matmulTransposedForward(out: number, inp: number, w: number, N: number, IC: number, OC: number): void;
  matmulBackward(
    dinp: number, dw: number, dbias: number, dout: number, inp: number, w: number, N: number, IC: number, OC: number
  ): void;
  matmulTransposedBackward(
    dinp: number, dw: number, dout: number, inp: number, w: number, N: number, IC: number, OC: number
  ): void;
};

const pageBytes = 65536;
const align = 64; // every view starts on a cache line
const defaultMaxBytes = 512 * 2 ** 20;
const largestMaxBytes = 2 ** 32 - pageBytes; // 32-bit WebAssembly addresses

let compiled: Promise<WebAssembly.Module> | null = null;

function wasmBytes(): Uint8Array<ArrayBuffer> {
  const text = atob(kernelsWasmBase64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

export async function loadWasmKernels(opts: { maxBytes?: number } = {}): Promise<WasmKernels> {
  const maxBytes = opts.maxBytes ?? defaultMaxBytes;
  if (!Number.isInteger(maxBytes) || maxBytes < pageBytes || maxBytes > largestMaxBytes) {
    throw new EngineError(
      'bad_argument',
      `maxBytes must be an integer from ${pageBytes} (one page) to ${largestMaxBytes}, got ${maxBytes}.`
    );
  }
  if (typeof WebAssembly !== 'object') {
    throw new EngineError('wasm_unsupported', 'this JavaScript engine has no WebAssembly.');
  }
  // The module is compiled once per realm and instantiated once per loadWasmKernels call, each
  // instance with its own memory.
  compiled ??= compileModule();
  const pages = Math.ceil(maxBytes / pageBytes);
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  } catch (e) {
    throw new EngineError('wasm_out_of_memory', `could not reserve ${pages * pageBytes} bytes for WebAssembly: ${(e as Error).message}`);
  }
  const instance = await WebAssembly.instantiate(await compiled, { env: { memory } });
  return makeKernels(instance.exports as unknown as Exports, memory);
}

async function compileModule(): Promise<WebAssembly.Module> {
  const bytes = wasmBytes();
  if (!WebAssembly.validate(bytes)) {
    throw new EngineError(
      'wasm_unsupported',
      'this JavaScript engine cannot run WebAssembly SIMD (Chrome 91, Firefox 89, Safari 16.4, Node 16.4 and later can).'
    );
  }
  return WebAssembly.compile(bytes);
}

function makeKernels(ex: Exports, memory: WebAssembly.Memory): WasmKernels {
  const buffer = memory.buffer; // never grown, so never detached
  const end = buffer.byteLength;
  const arenaStart = Math.ceil((ex.heapBase.value as number) / align) * align;
  if (arenaStart >= end) {
    throw new EngineError('bad_argument', `maxBytes must exceed the kernels' own ${arenaStart} bytes of packing buffers.`);
  }
  let top = arenaStart; // first free byte of the arena

  // Byte offset of x for a kernel call: x itself when it is an arena view; otherwise a copy in the
  // free space above the arena, filled from x when copyIn (inputs, and outputs that accumulate).
  // Outputs pass `out`, which collects the copies to write back after the call.
  type Copy = { x: Float32Array; at: number; n: number };
  function place(
    x: Float32Array, n: number, name: string, scratch: { next: number }, copyIn: boolean, out: Copy[] | null
  ): number {
    if (!(x instanceof Float32Array)) throw new EngineError('bad_argument', `${name} must be a Float32Array.`);
    if (x.length < n) {
      throw new EngineError('shape_mismatch', `${name} has ${x.length} floats; the shapes given need ${n}.`);
    }
    if (x.buffer === buffer) {
      if (x.byteOffset + 4 * n > top) {
        throw new EngineError('wasm_stale_view', `${name} is a WASM view outside the arena: was it allocated before reset()?`);
      }
      return x.byteOffset;
    }
    const at = scratch.next;
    const bytes = 4 * n;
    if (at + bytes > end) {
      throw new EngineError(
        'wasm_out_of_memory',
        `copying ${name} (${bytes} bytes) into WASM scratch needs more than the ${end - top} bytes left; ` +
        'allocate the tensors with alloc() or load the kernels with a larger maxBytes.'
      );
    }
    scratch.next = at + Math.ceil(bytes / align) * align;
    const view = new Float32Array(buffer, at, n);
    if (copyIn) view.set(x.length === n ? x : x.subarray(0, n));
    if (out) out.push({ x, at, n });
    return at;
  }

  function copyBack(copies: Copy[]): void {
    for (const c of copies) c.x.set(new Float32Array(buffer, c.at, c.n));
  }

  function dims(name: string, ...ds: [string, number][]): void {
    for (const [d, v] of ds) {
      if (!Number.isInteger(v) || v < 0) {
        throw new EngineError('bad_argument', `${name}: ${d} must be a non-negative integer, got ${v}.`);
      }
    }
  }

  function scratchStart(): { next: number } {
    return { next: Math.ceil(top / align) * align };
  }

  return {
    capacityBytes: end - arenaStart,
    usedBytes: () => top - arenaStart,

    alloc(n: number): Float32Array {
      if (!Number.isInteger(n) || n < 0) throw new EngineError('bad_argument', `alloc: n must be a non-negative integer, got ${n}.`);
      const at = Math.ceil(top / align) * align;
      if (at + 4 * n > end) {
        throw new EngineError(
          'wasm_out_of_memory',
          `alloc of ${n} floats does not fit: ${end - at} of ${end - arenaStart} bytes are left. Pass a larger maxBytes to loadWasmKernels.`
        );
      }
      top = at + 4 * n;
      // the arena may hold an older tensor's values after reset()
      return new Float32Array(buffer, at, n).fill(0);
    },

    reset(): void {
      top = arenaStart;
    },

    matmulForward(out, inp, w, bias, N, IC, OC) {
      dims('matmulForward', ['N', N], ['IC', IC], ['OC', OC]);
      const s = scratchStart();
      const outs: Copy[] = [];
      const pInp = place(inp, N * IC, 'inp', s, true, null);
      const pW = place(w, IC * OC, 'w', s, true, null);
      const pBias = bias ? place(bias, OC, 'bias', s, true, null) : 0;
      const pOut = place(out, N * OC, 'out', s, false, outs);
      ex.matmulForward(pOut, pInp, pW, pBias, N, IC, OC);
      copyBack(outs);
    },

    matmulTransposedForward(out, inp, w, N, IC, OC) {
      dims('matmulTransposedForward', ['N', N], ['IC', IC], ['OC', OC]);
      const s = scratchStart();
      const outs: Copy[] = [];
      const pInp = place(inp, N * IC, 'inp', s, true, null);
      const pW = place(w, OC * IC, 'w', s, true, null);
      const pOut = place(out, N * OC, 'out', s, false, outs);
      ex.matmulTransposedForward(pOut, pInp, pW, N, IC, OC);
      copyBack(outs);
    },

    matmulBackward(dinp, dw, dbias, dout, inp, w, N, IC, OC) {
      dims('matmulBackward', ['N', N], ['IC', IC], ['OC', OC]);
      const s = scratchStart();
      const outs: Copy[] = [];
      const pDout = place(dout, N * OC, 'dout', s, true, null);
      const pInp = place(inp, N * IC, 'inp', s, true, null);
      const pW = place(w, IC * OC, 'w', s, true, null);
      const pDinp = place(dinp, N * IC, 'dinp', s, true, outs);
      const pDw = place(dw, IC * OC, 'dw', s, true, outs);
      const pDbias = dbias ? place(dbias, OC, 'dbias', s, true, outs) : 0;
      ex.matmulBackward(pDinp, pDw, pDbias, pDout, pInp, pW, N, IC, OC);
      copyBack(outs);
    },

    matmulTransposedBackward(dinp, dw, dout, inp, w, N, IC, OC) {
      dims('matmulTransposedBackward', ['N', N], ['IC', IC], ['OC', OC]);
      const s = scratchStart();
      const outs: Copy[] = [];
      const pDout = place(dout, N * OC, 'dout', s, true, null);
      const pInp = place(inp, N * IC, 'inp', s, true, null);
      const pW = place(w, OC * IC, 'w', s, true, null);
      const pDinp = place(dinp, N * IC, 'dinp', s, true, outs);
      const pDw = place(dw, OC * IC, 'dw', s, true, outs);
      ex.matmulTransposedBackward(pDinp, pDw, pDout, pInp, pW, N, IC, OC);
      copyBack(outs);
    }
  };
}
