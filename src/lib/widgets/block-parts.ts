// Small pieces shared by the block chapter's figures: how a vector's numbers are coloured.
import { interpolateRdBu } from 'd3';

// A diverging colour for v on a scale symmetric about zero (±max): blue above, red below.
export function signedColour(v: number, max: number): string {
  const t = max > 0 ? Math.max(-1, Math.min(1, v / max)) : 0;
  return interpolateRdBu(0.5 - t / 2);
}

// Numbers as the figures print them: three significant digits, a real minus sign.
export function num(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return v > 0 ? '∞' : v < 0 ? '−∞' : '–';
  return Number(v.toPrecision(digits)).toString().replace('-', '−');
}
