// The GPT-2 forward pass on the GPU: the same steps as gpt.ts, in the same order, recorded as
// dispatches of the kernels in kernels/. Activations live in buffers sized for a full context
// (S = n_positions rows), made once; the keys and values stay on the GPU in a cache per sequence.
// A traced tensor is copied into the staging buffer right after the kernel that wrote it, because
// the next layer overwrites it.
import type { GPTConfig } from '../../config';
import type { TraceKey } from '../../gpt';
import { bufferUsage } from './device';
import { attentionScores, attentionSoftmax, attentionValues } from './kernels/attention';
import { embedding, gelu, residual, splitHeads } from './kernels/elementwise';
import { grid } from './kernels/kernel';
import { layernorm } from './kernels/layernorm';
import { matmulTiled, matmulVector, tiledGrid, vectorGrid } from './kernels/matmul';
import { bindGroup, createUniforms, type Kernel, type Recorder } from './recorder';
import type { GpuWeights, Linear } from './weights';

export const kernelSources = {
  embedding, residual, gelu, splitHeads, layernorm, matmulTiled, matmulVector,
  attentionScores, attentionSoftmax, attentionValues
};
export type Kernels = Record<keyof typeof kernelSources, Kernel>;

// Where a traced tensor (or the logits) sits in the staging buffer once the GPU is done.
export interface Readout {
  key: TraceKey;
  layer: number | null;
  shape: number[];
  offset: number; // bytes into the staging buffer
}
export interface LogitsReadout {
  rows: number;
  blocks: { offset: number; col0: number; cols: number }[]; // each (rows, cols)
}

// The keys and values of one sequence, per layer (nh, S, hs), and the bind groups of the kernels
// that write or read them.
export interface CacheBuffers {
  k: GPUBuffer[];
  v: GPUBuffer[];
  groups: { split: GPUBindGroup; scores: GPUBindGroup; values: GPUBindGroup }[];
}

export class GpuForward {
  private readonly S: number; // rows every activation has room for
  readonly ids: GPUBuffer; // (S) u32
  private readonly tokEmb: GPUBuffer; // (S, C)
  private readonly posEmb: GPUBuffer; // (S, C)
  private readonly x: GPUBuffer; // (S, C) the residual stream
  private readonly ln: GPUBuffer; // (S, C)
  private readonly qkv: GPUBuffer; // (S, 3C)
  private readonly q: GPUBuffer; // (nh, T, hs), room for T = S
  private readonly attY: GPUBuffer; // (S, C) heads side by side, before c_proj
  private readonly proj: GPUBuffer; // (S, C)
  private readonly scores: GPUBuffer; // (nh, T, Tk), room for T = Tk = S
  private readonly masked: GPUBuffer; // (nh, T, Tk) as f32 bits
  private readonly weights: GPUBuffer; // (nh, T, Tk)
  private readonly pre: GPUBuffer; // (S, 4C)
  private readonly act: GPUBuffer; // (S, 4C)
  private readonly logits: GPUBuffer[]; // per block of the head (rows, cols)
  private readonly groups: ReturnType<GpuForward['makeGroups']>;
  readonly dispatches: number; // the most dispatches one forward pass records
  readonly uniforms: GPUBuffer; // a parameter slot per dispatch

  constructor(
    private readonly device: GPUDevice,
    private readonly config: GPTConfig,
    private readonly kernels: Kernels,
    private readonly w: GpuWeights,
    maxBindingBytes: number
  ) {
    const { n_embd: C, n_head: nh } = config;
    const S = (this.S = config.n_positions);
    const buffer = (label: string, values: number) => {
      const bytes = 4 * values;
      if (bytes > maxBindingBytes) {
        throw new Error(`the ${label} buffer needs ${bytes} bytes, more than this GPU binds at once (${maxBindingBytes})`);
      }
      return device.createBuffer({ label, size: bytes, usage: bufferUsage.storage | bufferUsage.copySrc | bufferUsage.copyDst });
    };
    this.ids = buffer('ids', S);
    this.tokEmb = buffer('tok_emb', S * C);
    this.posEmb = buffer('pos_emb', S * C);
    this.x = buffer('x', S * C);
    this.ln = buffer('ln', S * C);
    this.qkv = buffer('qkv', S * 3 * C);
    this.q = buffer('q', S * C);
    this.attY = buffer('attention out', S * C);
    this.proj = buffer('projection', S * C);
    this.scores = buffer('attn.scores', nh * S * S);
    this.masked = buffer('attn.masked', nh * S * S);
    this.weights = buffer('attn.weights', nh * S * S);
    this.pre = buffer('mlp.pre', S * 4 * C);
    this.act = buffer('mlp.act', S * 4 * C);
    this.logits = w.head.blocks.map((b, i) => buffer(`logits[${i}]`, S * b.cols));
    // per layer: 9 kernels and the blocks of 4 matmuls; around them the embedding and the head
    // (one dispatch per block each), the position add and ln_f
    const perLayer = (l: (typeof w.layers)[number]) => 9 + l.cAttn.blocks.length + l.cProj.blocks.length + l.cFc.blocks.length + l.mProj.blocks.length;
    this.dispatches = 2 * w.head.blocks.length + 2 + w.layers.reduce((n, l) => n + perLayer(l), 0);
    this.uniforms = createUniforms(device, this.dispatches);
    this.groups = this.makeGroups();
  }

  // Bind groups of every dispatch that does not touch a KV cache: made once.
  private makeGroups() {
    const { device, kernels: k, uniforms: u, w } = this;
    const group = (kernel: Kernel, buffers: GPUBuffer[]) => bindGroup(device, kernel, u, buffers);
    const linear = (lin: Linear, inp: GPUBuffer, out: GPUBuffer | GPUBuffer[]) =>
      lin.blocks.map((b, i) => group(k.matmulTiled, [inp, b.w, b.b, Array.isArray(out) ? out[i] : out]));
    return {
      embedding: w.head.blocks.map((b) => group(k.embedding, [this.ids, b.w, this.tokEmb])),
      addPosition: group(k.residual, [this.x, this.posEmb]),
      addProjection: group(k.residual, [this.x, this.proj]),
      layers: w.layers.map((l) => ({
        ln1: group(k.layernorm, [this.x, l.ln1w, l.ln1b, this.ln]),
        cAttn: linear(l.cAttn, this.ln, this.qkv),
        softmax: group(k.attentionSoftmax, [this.scores, this.weights]),
        cProj: linear(l.cProj, this.attY, this.proj),
        ln2: group(k.layernorm, [this.x, l.ln2w, l.ln2b, this.ln]),
        cFc: linear(l.cFc, this.ln, this.pre),
        gelu: group(k.gelu, [this.pre, this.act]),
        mProj: linear(l.mProj, this.act, this.proj)
      })),
      lnf: group(k.layernorm, [this.x, w.lnfw, w.lnfb, this.ln]),
      head: linear(w.head, this.ln, this.logits)
    };
  }

  createCacheBuffers(): CacheBuffers {
    const { device, kernels: k, uniforms: u } = this;
    const size = 4 * this.S * this.config.n_embd; // (nh, S, hs)
    const make = (label: string) =>
      device.createBuffer({ label, size, usage: bufferUsage.storage | bufferUsage.copySrc | bufferUsage.copyDst });
    const kc = Array.from({ length: this.config.n_layer }, (_, l) => make(`k cache ${l}`));
    const vc = Array.from({ length: this.config.n_layer }, (_, l) => make(`v cache ${l}`));
    const groups = kc.map((kl, l) => ({
      split: bindGroup(device, k.splitHeads, u, [this.qkv, this.q, kl, vc[l]]),
      scores: bindGroup(device, k.attentionScores, u, [this.q, kl, this.scores, this.masked]),
      values: bindGroup(device, k.attentionValues, u, [this.weights, vc[l], this.attY])
    }));
    return { k: kc, v: vc, groups };
  }

  // Record the forward pass of T tokens (already written to `ids`) after Tc cached ones, with the
  // logits of the last `rows` positions, and copies of the traced tensors for which want() is true.
  record(rec: Recorder, cache: CacheBuffers, T: number, Tc: number, rows: number, want: (key: TraceKey) => boolean) {
    const { kernels: k, groups: g, w, config } = this;
    const { n_embd: C, n_head: nh, n_layer: L } = config;
    const hs = C / nh;
    const S = this.S;
    const Tk = Tc + T;
    const f = 4; // bytes per value
    const readouts: Readout[] = [];
    const keep = (key: TraceKey, layer: number | null, shape: number[], src: GPUBuffer) => {
      if (!want(key)) return;
      readouts.push({ key, layer, shape, offset: rec.readback(src, 0, f * shape.reduce((a, b) => a * b, 1)) });
    };
    const linear = (lin: Linear, groups: GPUBindGroup[], N: number, inRow0 = 0, perBlockOutput = false) =>
      lin.blocks.forEach((b, i) => {
        const params = [N, lin.IC, b.cols, perBlockOutput ? b.cols : lin.OC, perBlockOutput ? 0 : b.col0, inRow0];
        if (N === 1) rec.dispatch(k.matmulVector, groups[i], params, vectorGrid(b.cols));
        else rec.dispatch(k.matmulTiled, groups[i], params, tiledGrid(N, b.cols));
      });
    const elementwise = (kernel: Kernel, group: GPUBindGroup, params: number[], n: number) => rec.dispatch(kernel, group, params, grid(n));

    // token embedding + position embedding
    w.head.blocks.forEach((b, i) => elementwise(k.embedding, g.embedding[i], [T, C, b.col0, b.cols], T * C));
    rec.copy(w.wpe, f * Tc * C, this.posEmb, 0, f * T * C);
    rec.copy(this.tokEmb, 0, this.x, 0, f * T * C);
    elementwise(k.residual, g.addPosition, [T * C], T * C);
    keep('tok_emb', null, [T, C], this.tokEmb);
    keep('pos_emb', null, [T, C], this.posEmb);
    keep('x0', null, [T, C], this.x);

    for (let l = 0; l < L; l++) {
      const gl = g.layers[l];
      const gc = cache.groups[l];
      const lw = w.layers[l];
      // attention sublayer: x = x + c_proj(attention(ln_1(x)))
      rec.dispatch(k.layernorm, gl.ln1, [T, C, config.layer_norm_epsilon], grid(T, 1));
      keep('ln1', l, [T, C], this.ln);
      linear(lw.cAttn, gl.cAttn, T);
      elementwise(k.splitHeads, gc.split, [T, Tc, C, hs, S], T * C);
      keep('q', l, [nh, T, hs], this.q);
      for (const [key, buf] of [['k', cache.k[l]], ['v', cache.v[l]]] as const) {
        if (!want(key)) continue;
        // (nh, S, hs) -> (nh, Tk, hs): the first Tk rows of each head, one after the other
        const offsets = Array.from({ length: nh }, (_, h) => rec.readback(buf, f * h * S * hs, f * Tk * hs));
        readouts.push({ key, layer: l, shape: [nh, Tk, hs], offset: offsets[0] });
      }
      elementwise(k.attentionScores, gc.scores, [T, Tc, nh, hs, S, 1 / Math.sqrt(hs)], nh * T * Tk);
      rec.dispatch(k.attentionSoftmax, gl.softmax, [T, Tc, nh], grid(nh * T, 1));
      elementwise(k.attentionValues, gc.values, [T, Tc, C, hs, S], T * C);
      keep('attn.scores', l, [nh, T, Tk], this.scores);
      keep('attn.masked', l, [nh, T, Tk], this.masked);
      keep('attn.weights', l, [nh, T, Tk], this.weights);
      keep('attn.heads', l, [T, C], this.attY);
      linear(lw.cProj, gl.cProj, T);
      keep('attn.out', l, [T, C], this.proj);
      elementwise(k.residual, g.addProjection, [T * C], T * C);
      keep('res1', l, [T, C], this.x);

      // MLP sublayer: x = x + c_proj(gelu(c_fc(ln_2(x))))
      rec.dispatch(k.layernorm, gl.ln2, [T, C, config.layer_norm_epsilon], grid(T, 1));
      keep('ln2', l, [T, C], this.ln);
      linear(lw.cFc, gl.cFc, T);
      keep('mlp.pre', l, [T, 4 * C], this.pre);
      elementwise(k.gelu, gl.gelu, [T * 4 * C], T * 4 * C);
      keep('mlp.act', l, [T, 4 * C], this.act);
      linear(lw.mProj, gl.mProj, T);
      keep('mlp.out', l, [T, C], this.proj);
      elementwise(k.residual, g.addProjection, [T * C], T * C);
      keep('res2', l, [T, C], this.x);
    }

    rec.dispatch(k.layernorm, g.lnf, [T, C, config.layer_norm_epsilon], grid(T, 1));
    keep('ln_f', null, [T, C], this.ln);
    // the tied output head, over the last `rows` rows of ln_f; each block writes its own buffer
    linear(w.head, g.head, rows, T - rows, true);
    const logits: LogitsReadout = {
      rows,
      blocks: w.head.blocks.map((b, i) => ({ offset: rec.readback(this.logits[i], 0, f * rows * b.cols), col0: b.col0, cols: b.cols }))
    };
    return { readouts, logits };
  }
}
