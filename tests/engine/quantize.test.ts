import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { makeConfig, paramShapes } from '../../engine/config';
import { initParams } from '../../engine/model';
import { parseSafetensors } from '../../engine/safetensors';
import {
  bytesPerParam, f16round, INT4_GROUP, levels, loraParams, quantizeParams, quantizeTensor
} from '../../engine/quantize';
import { expectEngineError } from './helpers';

// Every fp16 bit pattern, decoded by the safetensors reader (an independent decoder): the sorted
// finite values are the whole set f16round may answer with.
function allHalves(): Float32Array {
  const n = 65536;
  const header = JSON.stringify({ t: { dtype: 'F16', shape: [n], data_offsets: [0, 2 * n] } }).padEnd(64, ' ');
  const bytes = new Uint8Array(8 + header.length + 2 * n);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
  bytes.set(new TextEncoder().encode(header), 8);
  const view = new DataView(bytes.buffer, 8 + header.length);
  for (let i = 0; i < n; i++) view.setUint16(2 * i, i, true);
  return parseSafetensors(bytes).tensors.get('t')!.data as Float32Array;
}

describe('f16round', () => {
  const halves = allHalves();
  const finite = Float64Array.from(new Set(Array.from(halves).filter(Number.isFinite))).sort();

  it('leaves every fp16 value as it is (round trip)', () => {
    for (const h of halves) if (Number.isFinite(h)) expect(f16round(h)).toBe(h);
  });

  it('hand-checkable cases: ties to even, the largest value, subnormals, overflow', () => {
    expect(f16round(1)).toBe(1);
    expect(f16round(1 + 2 ** -11)).toBe(1); // halfway between 1 and 1 + 2^-10: the even one
    expect(f16round(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9); // halfway again: up to the even one
    expect(f16round(0.1)).toBe(0.0999755859375);
    expect(f16round(65504)).toBe(65504);
    expect(f16round(65519)).toBe(65504);
    expect(f16round(65520)).toBe(Infinity);
    expect(f16round(-1e6)).toBe(-Infinity);
    expect(f16round(2 ** -24)).toBe(2 ** -24); // the smallest subnormal
    expect(f16round(2 ** -25)).toBe(0); // halfway to it: ties to 0
    expect(f16round(3 * 2 ** -26)).toBe(2 ** -24);
    expect(Number.isNaN(f16round(NaN))).toBe(true);
  });

  it('gives the nearest fp16 value of any float32 in range', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true, min: -65504, max: 65504 }), (x) => {
        const r = f16round(x);
        // binary search for the neighbours of x among all fp16 values
        let lo = 0;
        let hi = finite.length - 1;
        while (hi - lo > 1) {
          const mid = (lo + hi) >> 1;
          if (finite[mid] <= x) lo = mid;
          else hi = mid;
        }
        const best = Math.min(Math.abs(x - finite[lo]), Math.abs(x - finite[hi]));
        expect(Math.abs(x - r)).toBe(best);
        expect(finite.includes(r) || r === 0).toBe(true);
      }),
      { numRuns: 3000 }
    );
  });

  it('keeps the relative error of a normal number within 2^-11', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, min: 2 ** -14, max: 65000 }), (x) => {
        expect(Math.abs(f16round(x) - x) / x).toBeLessThanOrEqual(2 ** -11);
      })
    );
  });
});

describe('quantizeTensor', () => {
  it('int8 by hand: one row, scale max/127 (as fp16), codes rounded', () => {
    const w = Float32Array.from([1.27, -0.645, 0.01, 0]); // -0.645 / s = -64.49
    const q = quantizeTensor('w', w, [1, 4], 'int8');
    const s = f16round(Math.fround(1.27) / 127); // 0.0100021..., the nearest fp16 to 0.01
    expect(q.scaleValues![0]).toBe(s);
    expect(Array.from(q.values)).toEqual([127, -64, 1, 0].map((k) => Math.fround(k * s)));
    expect(q.bytes).toBe(4 + 2); // four codes and one fp16 scale
    expect(q.stored).toBe('int8');
    expect(q.blockSize).toBe(4);
  });

  it('int4 by hand: groups of 32, 15 levels, two codes a byte', () => {
    const w = new Float32Array(2 * 40); // two rows of 40: groups of 32 and 8 in each row
    w[0] = 7; w[1] = 3.4; w[2] = -3.6; w[33] = -0.5;
    const q = quantizeTensor('w', w, [2, 40], 'int4');
    expect(q.scales).toBe(4);
    expect(Array.from(q.scaleValues!)).toEqual([1, f16round(0.5 / 7), 0, 0]);
    expect(q.values[0]).toBe(7);
    expect(q.values[1]).toBe(3); // 3.4 → 3
    expect(q.values[2]).toBe(-4); // -3.6 → -4
    expect(q.values[33]).toBeCloseTo(-0.5, 3);
    expect(q.bytes).toBe(2 * (16 + 2 + 4 + 2));
    expect(q.maxAbs).toBeCloseTo(0.4, 6);
  });

  it('vectors stay in fp16 in the integer formats', () => {
    const w = Float32Array.from([0.1, 0.2, 0.3]);
    const q = quantizeTensor('b', w, [3], 'int4');
    expect(q.stored).toBe('fp16');
    expect(q.bytes).toBe(6);
    expect(Array.from(q.values)).toEqual([0.1, 0.2, 0.3].map((x) => Math.fround(f16round(Math.fround(x)))));
  });

  it('fp32 is the identity with zero error; fp16 is f16round of every number', () => {
    const w = Float32Array.from([0.123, -4.5, 1e-3]);
    const a = quantizeTensor('w', w, [3], 'fp32');
    expect(Array.from(a.values)).toEqual(Array.from(w));
    expect([a.rms, a.maxAbs, a.bytes]).toEqual([0, 0, 12]);
    const h = quantizeTensor('w', w, [1, 3], 'fp16');
    expect(Array.from(h.values)).toEqual(Array.from(w, (x) => f16round(x)));
    expect(h.bytes).toBe(6);
  });

  it('an all-zero row gets scale 0 and stays exactly zero', () => {
    const q = quantizeTensor('w', new Float32Array(8), [2, 4], 'int8');
    expect(Array.from(q.values)).toEqual(new Array(8).fill(0));
    expect([q.rms, q.relRms]).toEqual([0, 0]);
  });

  for (const precision of ['int8', 'int4'] as const) {
    it(`${precision}: every error is at most half its block's stored scale, codes within ±qmax`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 5 }),
          fc.integer({ min: 1, max: 70 }),
          fc.float({ noNaN: true, min: Math.fround(1e-6), max: 1000 }),
          fc.integer(),
          (rows, cols, amp, seed) => {
            const w = new Float32Array(rows * cols);
            let h = seed >>> 0;
            for (let i = 0; i < w.length; i++) {
              h = (Math.imul(h, 1664525) + 1013904223) >>> 0;
              w[i] = Math.fround(((h / 2 ** 32) * 2 - 1) * amp);
            }
            const q = quantizeTensor('w', w, [rows, cols], precision);
            const group = precision === 'int8' ? cols : INT4_GROUP;
            const perRow = Math.ceil(cols / group);
            for (let i = 0; i < w.length; i++) {
              const r = Math.floor(i / cols);
              const s = q.scaleValues![r * perRow + Math.floor((i % cols) / group)];
              expect(Math.abs(w[i] - q.values[i])).toBeLessThanOrEqual(s / 2);
              if (s > 0) {
                const code = q.values[i] / s;
                expect(Number.isInteger(code)).toBe(true);
                expect(Math.abs(code)).toBeLessThanOrEqual(q.qmax);
              }
            }
          }
        ),
        { numRuns: 200 }
      );
    });
  }

  it('rejects bad input with a typed error', () => {
    expectEngineError(() => quantizeTensor('w', Float32Array.from([1, NaN]), [2], 'fp16'), 'bad_weights');
    expectEngineError(() => quantizeTensor('w', Float32Array.from([1, 2]), [3], 'fp16'), 'bad_shape');
    expectEngineError(() => quantizeTensor('w', Float32Array.from([1e5]), [1], 'fp16'), 'out_of_range');
    expectEngineError(() => quantizeTensor('w', Float32Array.from([1]), [1], 'int3' as never), 'bad_precision');
  });
});

describe('quantizeParams', () => {
  const config = makeConfig('tiny'); // rows of 128 or more, so int4's groups are full
  const params = initParams(config, 3);

  it('sizes: fp32 is 4 bytes a number, fp16 2, int8 just over 1, int4 just over 0.5', () => {
    const n = Object.values(params).reduce((a, t) => a + t.length, 0);
    const size = (p: 'fp32' | 'fp16' | 'int8' | 'int4') => quantizeParams(config, params, p).bytes;
    expect(size('fp32')).toBe(4 * n);
    expect(size('fp16')).toBe(2 * n);
    expect(size('int8') / n).toBeGreaterThan(1);
    expect(size('int8') / n).toBeLessThan(1.1);
    expect(size('int4') / n).toBeGreaterThan(0.5 + 2 / 32 - 0.01);
    expect(size('int4') / n).toBeLessThan(0.7);
  });

  it('each tensor\'s bytes add up to the total, one error row per parameter', () => {
    const q = quantizeParams(config, params, 'int4');
    expect(q.tensors.map((t) => t.name)).toEqual(paramShapes(config).map(([n]) => n));
    expect(q.tensors.reduce((a, t) => a + t.bytes, 0)).toBe(q.bytes);
  });

  it('fewer bits, larger error, on every matrix', () => {
    const e = (p: 'fp16' | 'int8' | 'int4') => quantizeParams(config, params, p).tensors;
    const [h, b8, b4] = [e('fp16'), e('int8'), e('int4')];
    for (let i = 0; i < h.length; i++) {
      if (h[i].shape.length !== 2) continue;
      expect(h[i].relRms).toBeLessThan(b8[i].relRms);
      expect(b8[i].relRms).toBeLessThan(b4[i].relRms);
    }
  });
});

describe('sizes and adapters', () => {
  it('bytes per parameter of each format', () => {
    expect(bytesPerParam('fp32')).toBe(4);
    expect(bytesPerParam('fp16')).toBe(2);
    expect(bytesPerParam('int8')).toBe(1);
    expect(bytesPerParam('int4')).toBe(0.5625); // 4 bits and a 16-bit scale per 32
  });

  it('levels are q·s for q in −qmax..qmax', () => {
    expect(levels(0.5, 2)).toEqual([-1, -0.5, 0, 0.5, 1]);
  });

  it('a rank-r LoRA adapter on a (rows, cols) matrix has r·(rows + cols) numbers', () => {
    expect(loraParams(128, 384, 1)).toBe(512);
    expect(loraParams(4096, 4096, 8)).toBe(65536);
    expectEngineError(() => loraParams(128, 128, 0), 'bad_argument');
  });
});
