import { describe, expect, it } from 'vitest';
import { percent, visibleToken } from '../../src/lib/format';

describe('visibleToken', () => {
  it('shows a leading space', () => expect(visibleToken(' cat')).toBe('␣cat'));
  it('shows line breaks and tabs', () => expect(visibleToken('\n\t')).toBe('↵⇥'));
  it('shows other control characters as bytes', () => expect(visibleToken('a\u0007')).toBe('a<0x07>'));
  it('shows the empty string', () => expect(visibleToken('')).toBe('∅'));
  it('leaves ordinary text alone', () => expect(visibleToken('naïve')).toBe('naïve'));
});

describe('percent', () => {
  it('keeps three significant digits', () => {
    expect(percent(0.6321)).toBe('63.2%');
    expect(percent(0.04172)).toBe('4.17%');
    expect(percent(0.000981)).toBe('0.0981%');
    expect(percent(0.00257)).toBe('0.257%');
  });
  it('handles the ends', () => {
    expect(percent(0)).toBe('0%');
    expect(percent(1)).toBe('100%');
    expect(percent(0.99971)).toBe('99.97%');
  });
  it('does not print NaN', () => expect(percent(Number.NaN)).toBe('–'));
});
