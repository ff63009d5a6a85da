import { describe, expect, it } from 'vitest';
import { parseSafetensors, serializeSafetensors } from '../../engine/safetensors';
import { errorCode as code } from './helpers';

const tensors = new Map([
  ['a', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-30, -7]) }],
  ['b', { shape: [4], data: Float32Array.from([0.1, 0.2, 0.3, 0.4]) }],
  ['scalar', { shape: [], data: Float32Array.from([42]) }]
]);

// a safetensors file written by hand, to check the reader against the format rather than our writer
function handMade(header: object, data: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + head.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  out.set(data, 8 + head.length);
  return out;
}


describe('safetensors', () => {
  it('round-trips F32 tensors and metadata', () => {
    const bytes = serializeSafetensors(tensors, { format: 'pt' });
    const { tensors: back, metadata } = parseSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt' });
    for (const [name, t] of tensors) {
      expect(back.get(name)!.shape).toEqual(t.shape);
      expect(back.get(name)!.data).toEqual(t.data);
    }
  });

  it('aligns the data section to 8 bytes', () => {
    const bytes = serializeSafetensors(tensors);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
  });

  it('reads F16 and BF16 (as real checkpoints ship them)', () => {
    // 1.0, -2.0, 0.5, 65504 (max half), smallest subnormal half
    const f16 = Uint16Array.from([0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001]);
    const bf16 = Uint16Array.from([0x3f80, 0xc000, 0x3f00]); // 1, -2, 0.5
    const data = new Uint8Array(f16.byteLength + bf16.byteLength);
    data.set(new Uint8Array(f16.buffer), 0);
    data.set(new Uint8Array(bf16.buffer), f16.byteLength);
    const file = handMade(
      { h: { dtype: 'F16', shape: [5], data_offsets: [0, 10] }, b: { dtype: 'BF16', shape: [3], data_offsets: [10, 16] } },
      data
    );
    const { tensors: t } = parseSafetensors(file);
    expect([...t.get('h')!.data]).toEqual([1, -2, 0.5, 65504, 2 ** -24]);
    expect([...t.get('b')!.data]).toEqual([1, -2, 0.5]);
  });

  it('accepts an empty file of tensors ({} header)', () => {
    expect(parseSafetensors(handMade({}, new Uint8Array())).tensors.size).toBe(0);
  });

  describe('rejects corrupt files with a clear error', () => {
    const good = serializeSafetensors(tensors);
    it('too short to hold a header', () => expect(code(() => parseSafetensors(new Uint8Array(5)))).toBe('bad_safetensors'));
    it('header length beyond the file', () => {
      const bad = good.slice();
      new DataView(bad.buffer).setBigUint64(0, BigInt(good.length * 2), true);
      expect(code(() => parseSafetensors(bad))).toBe('bad_safetensors');
    });
    it('header that is not JSON', () => {
      const bad = good.slice();
      bad[8] = 0x7a; // 'z' where '{' was
      expect(code(() => parseSafetensors(bad))).toBe('bad_safetensors');
    });
    it('truncated data (sizes that do not add up)', () => expect(code(() => parseSafetensors(good.subarray(0, good.length - 4)))).toBe('bad_safetensors'));
    it('offsets that disagree with the shape', () =>
      expect(code(() => parseSafetensors(handMade({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(12))))).toBe('bad_safetensors'));
    it('overlapping tensors', () =>
      expect(
        code(() =>
          parseSafetensors(
            handMade(
              { x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, y: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
              new Uint8Array(12)
            )
          )
        )
      ).toBe('bad_safetensors'));
    it('unsupported dtype', () =>
      expect(code(() => parseSafetensors(handMade({ x: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8))))).toBe('bad_safetensors'));
    it('negative or fractional shape', () =>
      expect(code(() => parseSafetensors(handMade({ x: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4))))).toBe('bad_safetensors'));
    it('metadata that is not a map of strings', () => {
      for (const m of ['text', { a: 1 }, [1], null]) expect(code(() => parseSafetensors(handMade({ __metadata__: m }, new Uint8Array())))).toBe('bad_safetensors');
    });
    it('a dtype named like an object property', () =>
      expect(code(() => parseSafetensors(handMade({ x: { dtype: 'toString', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4))))).toBe('bad_safetensors'));
    it('random bytes', () => {
      const junk = new Uint8Array(1000).map((_, i) => (i * 7919) % 251);
      expect(code(() => parseSafetensors(junk))).toBe('bad_safetensors');
    });
  });
});
