// WebAssembly SIMD matmul kernels for the CPU: the four matmuls of a GPT-2 step (forward, forward
// against the tied head wteᵀ, and their backward passes), with exactly the signatures and the
// semantics of the plain-loop references in engine/kernels.ts. On the training shapes they run at
// 30 to 35 GFLOPS on one core, about 40 times the references; one token's matrix-vector products
// at 15 to 20 (bench/kernels.ts). How: kernels.wat. Framework-free: Node, a Web Worker, a page.
// Besides the matmuls, the rest of a training step for the 'wasm-simd-fused' kernel set
// (LayerNorm, GELU, causal softmax, softmax + cross-entropy, AdamW), in f32: close to their
// references, not bit-identical (tests/engine/wasm-train.test.ts).
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
import * as ref from '../kernels';
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
  // The training step's other kernels, with the signatures of their references in
  // engine/kernels.ts (same semantics, f32 arithmetic: they agree to a few ulp, not bit for bit).
  // Shapes whose rows are not a multiple of 4 floats run the reference instead.
  layernormForward: typeof ref.layernormForward;
  layernormBackward: typeof ref.layernormBackward;
  geluForward: typeof ref.geluForward;
  geluBackward: typeof ref.geluBackward;
  causalSoftmaxForward: typeof ref.causalSoftmaxForward;
  causalSoftmaxBackward: typeof ref.causalSoftmaxBackward;
  crossEntropyForward: typeof ref.crossEntropyForward;
  crossEntropyBackward: typeof ref.crossEntropyBackward;
  // One AdamW update in f32 (AdamW.step in engine/train/adamw.ts computes the same in f64):
  // decay (n) is 1 where weight decay applies and 0 elsewhere; c1, c2 the bias corrections.
  adamw(
    params: Float32Array, grads: Float32Array, m: Float32Array, v: Float32Array, decay: Float32Array, n: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, c1: number, c2: number
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
  layernormForward(out: number, mean: number, rstd: number, inp: number, w: number, b: number, N: number, C: number, eps: number): void;
  layernormBackward(dinp: number, dw: number, db: number, dout: number, inp: number, w: number, mean: number, rstd: number, N: number, C: number): void;
  geluForward(out: number, inp: number, n: number): void;
  geluBackward(dinp: number, inp: number, dout: number, n: number): void;
  causalSoftmaxForward(P: number, T: number, scale: number): void;
  causalSoftmaxBackward(dp: number, P: number, T: number, scale: number): void;
  crossEntropyForward(losses: number, probs: number, logits: number, targets: number, N: number, V: number): void;
  crossEntropyBackward(dlogits: number, probs: number, targets: number, dlosses: number, N: number, V: number): void;
  adamw(
    params: number, grads: number, m: number, v: number, decay: number, n: number,
    lr: number, beta1: number, beta2: number, eps: number, wd: number, c1: number, c2: number
  ): void;
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

  // Token ids (i32) for the cross-entropy kernels: in place when in WASM memory, else copied in.
  function placeIds(x: Int32Array, n: number, scratch: { next: number }): number {
    if (!(x instanceof Int32Array) || x.length < n) throw new EngineError('bad_argument', `targets must be an Int32Array of at least ${n} ids.`);
    if (x.buffer === buffer) return x.byteOffset;
    const at = scratch.next;
    if (at + 4 * n > end) throw new EngineError('wasm_out_of_memory', `copying ${n} target ids into WASM scratch does not fit.`);
    scratch.next = at + Math.ceil((4 * n) / align) * align;
    new Int32Array(buffer, at, n).set(x.subarray(0, n));
    return at;
  }

  // The vector kernels walk rows four floats at a time; other shapes (and empty ones) go to the
  // plain-loop references, which compute the same thing.
  const by4 = (...ns: number[]) => ns.every((n) => Number.isInteger(n) && n > 0 && n % 4 === 0);

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

  // A target id outside the vocabulary would make the kernel read or write outside its row.
  function checkTargets(targets: Int32Array, N: number, V: number): void {
    for (let n = 0; n < N; n++) {
      const t = targets[n];
      if (!(t >= 0 && t < V)) throw new EngineError('bad_token', `Target id ${t} is outside the vocabulary (0 to ${V - 1}).`);
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

    layernormForward(out, mean, rstd, inp, w, b, N, C, eps) {
      if (!by4(C) || N < 1) return ref.layernormForward(out, mean, rstd, inp, w, b, N, C, eps);
      dims('layernormForward', ['N', N]);
      const s = scratchStart();
      const outs: Copy[] = [];
      const pInp = place(inp, N * C, 'inp', s, true, null);
      const pW = place(w, C, 'w', s, true, null);
      const pB = place(b, C, 'b', s, true, null);
      const pOut = place(out, N * C, 'out', s, false, outs);
      const pMean = mean ? place(mean, N, 'mean', s, false, outs) : 0;
      const pRstd = rstd ? place(rstd, N, 'rstd', s, false, outs) : 0;
      ex.layernormForward(pOut, pMean, pRstd, pInp, pW, pB, N, C, eps);
      copyBack(outs);
    },

    layernormBackward(dinp, dw, db, dout, inp, w, mean, rstd, N, C) {
      if (!by4(C) || N < 1) return ref.layernormBackward(dinp, dw, db, dout, inp, w, mean, rstd, N, C);
      dims('layernormBackward', ['N', N]);
      const s = scratchStart();
      const outs: Copy[] = [];
      const pDout = place(dout, N * C, 'dout', s, true, null);
      const pInp = place(inp, N * C, 'inp', s, true, null);
      const pW = place(w, C, 'w', s, true, null);
      const pMean = place(mean, N, 'mean', s, true, null);
      const pRstd = place(rstd, N, 'rstd', s, true, null);
      const pDinp = place(dinp, N * C, 'dinp', s, true, outs);
      const pDw = place(dw, C, 'dw', s, true, outs);
      const pDb = place(db, C, 'db', s, true, outs);
      ex.layernormBackward(pDinp, pDw, pDb, pDout, pInp, pW, pMean, pRstd, N, C);
      copyBack(outs);
    },

    geluForward(out, inp, n) {
      if (!by4(n)) return ref.geluForward(out, inp, n);
      const s = scratchStart();
      const outs: Copy[] = [];
      const pInp = place(inp, n, 'inp', s, true, null);
      const pOut = place(out, n, 'out', s, false, outs);
      ex.geluForward(pOut, pInp, n);
      copyBack(outs);
    },

    geluBackward(dinp, inp, dout, n) {
      if (!by4(n)) return ref.geluBackward(dinp, inp, dout, n);
      const s = scratchStart();
      const outs: Copy[] = [];
      const pInp = place(inp, n, 'inp', s, true, null);
      const pDout = place(dout, n, 'dout', s, true, null);
      const pDinp = place(dinp, n, 'dinp', s, true, outs);
      ex.geluBackward(pDinp, pInp, pDout, n);
      copyBack(outs);
    },

    causalSoftmaxForward(P, T, scale) {
      if (!by4(T)) return ref.causalSoftmaxForward(P, T, scale);
      const s = scratchStart();
      const outs: Copy[] = [];
      const pP = place(P, T * T, 'P', s, true, outs);
      ex.causalSoftmaxForward(pP, T, scale);
      copyBack(outs);
    },

    causalSoftmaxBackward(dp, P, T, scale) {
      if (!by4(T)) return ref.causalSoftmaxBackward(dp, P, T, scale);
      const s = scratchStart();
      const outs: Copy[] = [];
      const pP = place(P, T * T, 'P', s, true, null);
      const pDp = place(dp, T * T, 'dp', s, true, outs);
      ex.causalSoftmaxBackward(pDp, pP, T, scale);
      copyBack(outs);
    },

    crossEntropyForward(losses, probs, logits, targets, N, V) {
      if (!by4(V) || N < 1) return ref.crossEntropyForward(losses, probs, logits, targets, N, V);
      dims('crossEntropyForward', ['N', N]);
      checkTargets(targets, N, V);
      const s = scratchStart();
      const outs: Copy[] = [];
      const pLogits = place(logits, N * V, 'logits', s, true, probs === logits ? outs : null);
      const pProbs = probs === logits ? pLogits : place(probs, N * V, 'probs', s, false, outs);
      const pTargets = placeIds(targets, N, s);
      const pLosses = place(losses, N, 'losses', s, false, outs);
      ex.crossEntropyForward(pLosses, pProbs, pLogits, pTargets, N, V);
      copyBack(outs);
    },

    crossEntropyBackward(dlogits, probs, targets, dlosses, N, V) {
      if (!by4(V) || N < 1) return ref.crossEntropyBackward(dlogits, probs, targets, dlosses, N, V);
      dims('crossEntropyBackward', ['N', N]);
      checkTargets(targets, N, V);
      const s = scratchStart();
      const outs: Copy[] = [];
      const pProbs = place(probs, N * V, 'probs', s, true, null);
      const pTargets = placeIds(targets, N, s);
      const pDlosses = place(dlosses, N, 'dlosses', s, true, null);
      const pDlogits = place(dlogits, N * V, 'dlogits', s, true, outs);
      ex.crossEntropyBackward(pDlogits, pProbs, pTargets, pDlosses, N, V);
      copyBack(outs);
    },

    adamw(params, grads, m, v, decay, n, lr, beta1, beta2, eps, weightDecay, c1, c2) {
      dims('adamw', ['n', n]);
      if (n % 4 !== 0) throw new EngineError('bad_argument', `adamw: n must be a multiple of 4, got ${n}.`);
      const s = scratchStart();
      const outs: Copy[] = [];
      const pG = place(grads, n, 'grads', s, true, null);
      const pD = place(decay, n, 'decay', s, true, null);
      const pP = place(params, n, 'params', s, true, outs);
      const pM = place(m, n, 'm', s, true, outs);
      const pV = place(v, n, 'v', s, true, outs);
      ex.adamw(pP, pG, pM, pV, pD, n, lr, beta1, beta2, eps, weightDecay, c1, c2);
      copyBack(outs);
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
