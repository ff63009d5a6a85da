import { describe, expect, it } from 'vitest';
import { tex, texExp, texNumber, texValue } from '../../../src/lib/math/tex';

describe('texNumber', () => {
  it('writes 3 significant digits, grouping thousands', () => {
    expect(texNumber(0.63212)).toBe('0.632');
    expect(texNumber(4.2)).toBe('4.2');
    expect(texNumber(-1.23456)).toBe('-1.23');
    expect(texNumber(8401.2)).toBe('8{,}401');
  });
  it('writes very large and very small numbers as powers of ten', () => {
    expect(texNumber(1.5e9)).toBe('1.5\\times 10^{9}');
    expect(texNumber(2.5e-7)).toBe('2.5\\times 10^{-7}');
    expect(texNumber(9.9996e9)).toBe('1\\times 10^{10}'); // a mantissa rounded up to 10 moves the power
  });
  it('zero, infinities and NaN', () => {
    expect(texNumber(0)).toBe('0');
    expect(texNumber(Infinity)).toBe('\\infty');
    expect(texNumber(-Infinity)).toBe('-\\infty');
    expect(texNumber(NaN)).toBe('\\text{–}');
  });
});

describe('texExp', () => {
  it('is e^x, from x, even where e^x overflows float64', () => {
    expect(texExp(0)).toBe('1');
    expect(texExp(Math.log(473.2))).toBe('473');
    expect(texExp(1000)).toBe('1.97\\times 10^{434}'); // e^1000 = 1.97e434
  });
});

describe('texValue', () => {
  it('renders with the unrounded number as data-value', () => {
    const html = tex(`P = ${texValue(0.632120558, '0.632')}`);
    expect(html).toContain('data-value="0.632120558"');
    expect(html).toContain('0.632');
  });
});
