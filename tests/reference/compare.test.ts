// The comparison every parity and gradient test relies on must itself see real differences.
import { describe, expect, it } from 'vitest';
import { maxRelDiff } from './compare';

const TOLERANCE = 1e-5;

describe('the relative difference itself', () => {
  it('sees a change of one part in 10⁴ in one element', () => {
    const a = new Float32Array([1, -2, 0.5, 3]);
    const b = a.slice();
    b[2] *= 1 + 1e-4;
    expect(maxRelDiff(a, b).rel).toBeGreaterThan(TOLERANCE);
  });
  it('fails on NaN', () => {
    expect(maxRelDiff(new Float32Array([1, NaN]), new Float32Array([1, 2])).rel).toBe(Infinity);
  });
  it('holds elements far below the tensor scale to the floor, not to themselves', () => {
    // 1e-9 vs 2e-9 next to a 1: a 100% relative change of a negligible value, 1e-9 of the scale
    expect(maxRelDiff(new Float32Array([1, 1e-9]), new Float32Array([1, 2e-9])).rel).toBeLessThan(TOLERANCE);
  });
  it('still fails a small element that is off by 1e-5 of the tensor scale', () => {
    expect(maxRelDiff(new Float32Array([1, 1e-5]), new Float32Array([1, 0])).rel).toBeGreaterThan(TOLERANCE);
  });
});

describe('the relative difference on edge inputs', () => {
  it('is exactly 0 for identical tensors, zeros included', () => {
    expect(maxRelDiff(new Float32Array([0, 0, 3]), new Float32Array([0, 0, 3])).rel).toBe(0);
  });
  it('refuses tensors of different lengths', () => {
    expect(() => maxRelDiff(new Float32Array(3), new Float32Array(4))).toThrow(/3 and 4/);
  });
});
