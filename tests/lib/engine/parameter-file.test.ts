import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dimensionSymbols, formatBytes, groupTensors, readLayout } from '../../../src/lib/engine/parameter-file';
import { paramShapes, makeConfig } from '../../../engine/config';
import { serializeSafetensors } from '../../../engine/safetensors';

function file(entries: [string, number[]][], metadata: Record<string, string> = {}) {
  return serializeSafetensors(entries.map(([name, shape]) => [name, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }]), metadata);
}

describe('readLayout', () => {
  it('finds every tensor with its shape, size and byte range, header and data making up the file', () => {
    const bytes = file([['wte.weight', [4, 2]], ['ln_f.bias', [2]]], { format: 'pt' });
    const layout = readLayout(bytes);
    expect(layout.fileBytes).toBe(bytes.length);
    expect(layout.metadata).toEqual({ format: 'pt' });
    expect(layout.tensors.map((t) => [t.name, t.shape, t.count, t.bytes, t.dtype])).toEqual([
      ['wte.weight', [4, 2], 8, 32, 'F32'],
      ['ln_f.bias', [2], 2, 8, 'F32']
    ]);
    expect(layout.tensors[0].begin).toBe(layout.headerBytes);
    expect(layout.tensors[1].begin).toBe(layout.headerBytes + 32);
    expect(layout.headerBytes + 40).toBe(bytes.length);
    // the first number of wte.weight is where the layout says
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    expect(view.getFloat32(layout.tensors[0].begin, true)).toBe(0);
  });

  it('names a Hugging Face file’s tensors by our keys and marks the buffers that are not parameters', () => {
    const layout = readLayout(file([['transformer.h.0.attn.bias', [1, 1, 2, 2]], ['transformer.wte.weight', [2, 2]], ['lm_head.weight', [2, 2]]]));
    const byName = Object.fromEntries(layout.tensors.map((t) => [t.name, t]));
    expect(byName['transformer.wte.weight']).toMatchObject({ key: 'wte.weight', isParam: true });
    expect(byName['transformer.h.0.attn.bias']).toMatchObject({ key: 'h.0.attn.bias', isParam: false });
    expect(byName['lm_head.weight'].isParam).toBe(false);
  });

  it('reads the shipped model’s file', () => {
    const index = JSON.parse(readFileSync('static/models/index.json', 'utf8')) as { default: string };
    const bytes = new Uint8Array(readFileSync(`static/models/${index.default}/model.safetensors`));
    const layout = readLayout(bytes);
    expect(layout.headerBytes + layout.tensors.reduce((n, t) => n + t.bytes, 0)).toBe(bytes.length);
  });

  it('rejects a file too short for its header length', () => {
    expect(() => readLayout(new Uint8Array(4))).toThrow(expect.objectContaining({ code: 'bad_safetensors' }));
    const lying = new Uint8Array(16);
    new DataView(lying.buffer).setBigUint64(0, 1000n, true);
    expect(() => readLayout(lying)).toThrow(/header claims 1000 bytes/);
  });

  it('rejects a header that is not JSON, or a tensor without offsets', () => {
    const text = (s: string) => {
      const head = new TextEncoder().encode(s);
      const out = new Uint8Array(8 + head.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
      out.set(head, 8);
      return out;
    };
    expect(() => readLayout(text('{not json'))).toThrow(/not valid JSON/);
    expect(() => readLayout(text('[1, 2]'))).toThrow(/not a JSON object/);
    expect(() => readLayout(text('{"a": {"dtype": "F32", "shape": [1]}}'))).toThrow(/bad data_offsets/);
  });
});

describe('groupTensors', () => {
  it('orders a model’s tensors as a forward pass meets them: embeddings, blocks by number, final LayerNorm', () => {
    const config = makeConfig('micro', { n_layer: 12 });
    const bytes = file(paramShapes(config).reverse()); // file order must not matter
    const groups = groupTensors(readLayout(bytes).tensors);
    expect(groups.map((g) => g.id)).toEqual(['embeddings', ...Array.from({ length: 12 }, (_, i) => `h.${i}`), 'ln_f']);
    expect(groups[1].layer).toBe(0);
    expect(groups[1].tensors).toHaveLength(12);
    const total = groups.reduce((n, g) => n + g.params, 0);
    expect(total).toBe(paramShapes(config).reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0));
  });

  it('puts unknown tensors last and leaves buffers out of the parameter count', () => {
    const groups = groupTensors(readLayout(file([['extra.thing', [3]], ['h.0.attn.bias', [2, 2]], ['wte.weight', [2, 2]]])).tensors);
    expect(groups.map((g) => g.id)).toEqual(['embeddings', 'h.0', 'other']);
    expect(groups[1].params).toBe(0);
    expect(groups[1].bytes).toBe(16);
  });
});

describe('dimensionSymbols', () => {
  it('names the dimensions of GPT-2’s tensors', () => {
    expect(dimensionSymbols('wte.weight', 2)).toEqual(['V', 'C']);
    expect(dimensionSymbols('h.3.attn.c_attn.weight', 2)).toEqual(['C', '3C']);
    expect(dimensionSymbols('h.3.attn.c_proj.weight', 2)).toEqual(['C', 'C']);
    expect(dimensionSymbols('h.3.mlp.c_proj.weight', 2)).toEqual(['4C', 'C']);
    expect(dimensionSymbols('h.3.mlp.c_proj.bias', 1)).toEqual(['C']);
    expect(dimensionSymbols('ln_f.weight', 1)).toEqual(['C']);
  });
  it('says nothing for an unknown tensor or an unexpected rank', () => {
    expect(dimensionSymbols('extra.thing', 1)).toBeNull();
    expect(dimensionSymbols('wte.weight', 3)).toBeNull();
  });
});

describe('formatBytes', () => {
  it('is exact below a kilobyte', () => expect(formatBytes(999)).toBe('999 bytes'));
  it('keeps three significant digits in decimal units', () => {
    expect(formatBytes(1000)).toBe('1.00 kB');
    expect(formatBytes(3_767_624)).toBe('3.77 MB');
    expect(formatBytes(497_759_232)).toBe('498 MB');
  });
  it('moves up a unit rather than print 1000', () => expect(formatBytes(999_999)).toBe('1.00 MB'));
});
