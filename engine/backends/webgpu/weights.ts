// The model's parameters on the GPU. Every linear layer is a list of column blocks (one, unless the
// weight is larger than a binding allows; see split.ts). The token embedding is stored once, as
// the column blocks of wteᵀ (C, V): the output head (logits = h @ wteᵀ) is then an ordinary matmul,
// and the embedding lookup reads a column of it.
import type { Weights } from '../../gpt';
import { bufferUsage } from './device';
import { columnBlocks, sliceColumns, transposedBlock, type ColumnBlock } from './split';

export interface LinearBlock extends ColumnBlock {
  w: GPUBuffer; // (IC, cols)
  b: GPUBuffer; // (cols)
}

export interface Linear {
  IC: number;
  OC: number; // a multiple of 4
  blocks: LinearBlock[];
}

export interface LayerWeights {
  ln1w: GPUBuffer; // (C)
  ln1b: GPUBuffer; // (C)
  cAttn: Linear; // (C, 3C)
  cProj: Linear; // (C, C)
  ln2w: GPUBuffer; // (C)
  ln2b: GPUBuffer; // (C)
  cFc: Linear; // (C, 4C)
  mProj: Linear; // (4C, C)
}

export interface GpuWeights {
  head: Linear; // wteᵀ (C, V4), V padded to a multiple of 4 with zero columns; zero bias
  wpe: GPUBuffer; // (n_positions, C), only ever copied from
  layers: LayerWeights[];
  lnfw: GPUBuffer; // (C)
  lnfb: GPUBuffer; // (C)
}

export function upload(device: GPUDevice, data: Float32Array, label: string, extraUsage = 0): GPUBuffer {
  const buffer = device.createBuffer({
    label,
    size: Math.max(4, data.byteLength),
    usage: bufferUsage.storage | bufferUsage.copyDst | extraUsage,
    mappedAtCreation: true
  });
  new Float32Array(buffer.getMappedRange()).set(data);
  buffer.unmap();
  return buffer;
}

// maxBytes: the most one block may take. rows: how many rows the largest activation holds, which
// the head's output (rows, cols) must also fit.
export function uploadWeights(device: GPUDevice, model: Weights, maxBytes: number, rows: number): GpuWeights {
  const { config: c, params: p } = model;
  const C = c.n_embd;
  const linear = (name: string, IC: number, OC: number): Linear => ({
    IC,
    OC,
    blocks: columnBlocks(OC, 4 * IC, maxBytes).map((block, i) => ({
      ...block,
      w: upload(device, sliceColumns(p[`${name}.weight`], IC, OC, block), `${name}.weight[${i}]`),
      b: upload(device, p[`${name}.bias`].slice(block.col0, block.col0 + block.cols), `${name}.bias[${i}]`)
    }))
  });
  const V4 = Math.ceil(c.vocab_size / 4) * 4;
  const head: Linear = {
    IC: C,
    OC: V4,
    blocks: columnBlocks(V4, 4 * Math.max(C, rows), maxBytes).map((block, i) => ({
      ...block,
      w: upload(device, transposedBlock(p['wte.weight'], c.vocab_size, C, block), `wteᵀ[${i}]`),
      b: upload(device, new Float32Array(block.cols), `head bias[${i}]`)
    }))
  };
  const layers = Array.from({ length: c.n_layer }, (_, l): LayerWeights => {
    const n = `h.${l}.`;
    return {
      ln1w: upload(device, p[n + 'ln_1.weight'], n + 'ln_1.weight'),
      ln1b: upload(device, p[n + 'ln_1.bias'], n + 'ln_1.bias'),
      cAttn: linear(n + 'attn.c_attn', C, 3 * C),
      cProj: linear(n + 'attn.c_proj', C, C),
      ln2w: upload(device, p[n + 'ln_2.weight'], n + 'ln_2.weight'),
      ln2b: upload(device, p[n + 'ln_2.bias'], n + 'ln_2.bias'),
      cFc: linear(n + 'mlp.c_fc', C, 4 * C),
      mProj: linear(n + 'mlp.c_proj', 4 * C, C)
    };
  });
  return {
    head,
    wpe: upload(device, p['wpe.weight'], 'wpe.weight', bufferUsage.copySrc),
    layers,
    lnfw: upload(device, p['ln_f.weight'], 'ln_f.weight'),
    lnfb: upload(device, p['ln_f.bias'], 'ln_f.bias')
  };
}
