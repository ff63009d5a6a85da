import { describe, expect, it } from 'vitest';
import { EngineError } from '../../engine/errors';
import { maxHeaderBytes, parseSafetensors, serializeSafetensors } from '../../engine/safetensors';
import { errorCode as code } from './helpers';

const tensors = new Map([
  ['a', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-30, -7]) }],
  ['b', { shape: [4], data: Float32Array.from([0.1, 0.2, 0.3, 0.4]) }],
  ['scalar', { shape: [], data: Float32Array.from([42]) }]
]);

// a safetensors file written by hand, to check the reader against the format rather than our writer
// (the header as an object, or as JSON text to write what JSON.stringify cannot, like a key twice)
function handMade(header: object | string, data: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
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

  // Files made to mislead a reader: each must be refused, with the reason, as a typed error.
  describe('rejects hostile headers', () => {
    // the EngineError that f throws; anything else fails the test
    function refusal(f: () => unknown): EngineError {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(EngineError);
        expect((e as EngineError).code).toBe('bad_safetensors');
        return e as EngineError;
      }
      throw new Error('the file was accepted');
    }
    const f32 = (n: number) => ({ dtype: 'F32', shape: [n] });

    it('a tensor named twice (duplicate JSON keys: JSON.parse would keep the last silently)', () => {
      const text = '{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
      expect(refusal(() => parseSafetensors(handMade(text, new Uint8Array(8)))).message).toMatch(/"x" twice/);
    });
    it('a key repeated inside a tensor entry, and one spelt with an escape', () => {
      const inner = '{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"shape":[1]}}';
      expect(refusal(() => parseSafetensors(handMade(inner, new Uint8Array(4)))).message).toMatch(/"shape" twice/);
      const escaped = '{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"\\u0078":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
      expect(refusal(() => parseSafetensors(handMade(escaped, new Uint8Array(8)))).message).toMatch(/"x" twice/);
    });
    it('keys that only look alike are two keys (a quote and a bracket inside a name)', () => {
      const text = '{"a\\"}":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
      expect([...parseSafetensors(handMade(text, new Uint8Array(8))).tensors.keys()].sort()).toEqual(['a', 'a"}']);
    });
    it('a hole between two tensors', () => {
      const file = handMade({ x: { ...f32(1), data_offsets: [0, 4] }, y: { ...f32(1), data_offsets: [8, 12] } }, new Uint8Array(12));
      expect(refusal(() => parseSafetensors(file)).message).toMatch(/belong to no tensor/);
    });
    it('a hole before the first tensor', () => {
      const file = handMade({ x: { ...f32(1), data_offsets: [4, 8] } }, new Uint8Array(8));
      expect(refusal(() => parseSafetensors(file)).message).toMatch(/hole before "x"/);
    });
    it('trailing bytes after the last tensor, or data with no tensor at all', () => {
      const file = handMade({ x: { ...f32(1), data_offsets: [0, 4] } }, new Uint8Array(12));
      expect(refusal(() => parseSafetensors(file)).message).toMatch(/last 8 bytes/);
      expect(refusal(() => parseSafetensors(handMade({}, new Uint8Array(4)))).message).toMatch(/last 4 bytes/);
    });
    it('empty tensors take no bytes and leave no hole', () => {
      const file = handMade({ e: { dtype: 'F32', shape: [0], data_offsets: [8, 8] }, x: { ...f32(2), data_offsets: [0, 8] } }, new Uint8Array(8));
      expect(parseSafetensors(file).tensors.get('e')!.data.length).toBe(0);
    });
    it('a header length that claims gigabytes is refused by the cap, before any allocation', () => {
      for (const claim of [2n ** 32n, 2n ** 53n + 1n, 2n ** 64n - 1n, BigInt(maxHeaderBytes) + 1n]) {
        const bad = serializeSafetensors(tensors);
        new DataView(bad.buffer).setBigUint64(0, claim, true);
        expect(refusal(() => parseSafetensors(bad)).message).toContain(`more than the ${maxHeaderBytes.toLocaleString('en')}`);
      }
    });
  });
});
