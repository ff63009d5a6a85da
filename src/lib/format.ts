// How numbers and tokens are written on the page.

// A token as a reader should see it: spaces and line breaks made visible, since " cat" and "cat"
// are different tokens with different probabilities.
export function visibleToken(text: string): string {
  if (text === '') return '∅';
  return text
    .replaceAll(' ', '␣')
    .replaceAll('\n', '↵')
    .replaceAll('\r', '␍')
    .replaceAll('\t', '⇥')
    .replace(/[\u0000-\u001f\u007f]/g, (c) => `<0x${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}>`);
}

// A probability as a percentage with three significant digits however small it is, so that the
// near-equal probabilities of an untrained model still differ on screen: 63.2%, 4.17%, 0.0981%.
export function percent(p: number): string {
  if (!Number.isFinite(p)) return '–';
  if (p === 0) return '0%';
  const pct = p * 100;
  if (pct >= 99.95) return pct >= 100 ? '100%' : `${pct.toFixed(2)}%`;
  const digits = Math.max(1, 2 - Math.floor(Math.log10(pct)));
  return `${pct.toFixed(Math.min(digits, 12))}%`;
}
