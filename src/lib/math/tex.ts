// Live numbers inside KaTeX: a formula is built as TeX with the engine's numbers in it and rendered
// at run time. Each number is wrapped in \htmlData so it carries its unrounded value as data-value,
// like every other number a figure shows.
import katex from 'katex';

const options = {
  throwOnError: false,
  strict: 'ignore' as const,
  output: 'htmlAndMathml' as const,
  trust: (ctx: { command: string }) => ctx.command === '\\htmlData'
};

export function tex(source: string, display = false): string {
  return katex.renderToString(source, { ...options, displayMode: display });
}

// A number as TeX, 3 significant digits; thousands grouped; very large or small in powers of ten.
export function texNumber(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return x > 0 ? '\\infty' : x < 0 ? '-\\infty' : '\\text{–}';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e6 || a < 1e-3) return texPower(Math.sign(x), Math.log10(a), digits);
  if (a >= 10 ** digits) return Math.round(x).toLocaleString('en').replaceAll(',', '{,}');
  return Number(x.toPrecision(digits)).toString();
}

// e^x as a plain number where it fits, from its natural log so that e^1000 still has a mantissa.
export function texExp(x: number, digits = 3): string {
  const log10 = x / Math.LN10;
  if (log10 >= 6 || log10 < -3) return texPower(1, log10, digits);
  return texNumber(Math.exp(x), digits);
}

function texPower(sign: number, log10: number, digits: number): string {
  let e = Math.floor(log10);
  let m = Number((10 ** (log10 - e)).toPrecision(digits));
  if (m >= 10) [m, e] = [m / 10, e + 1];
  return `${sign < 0 ? '-' : ''}${m}\\times 10^{${e}}`;
}

// A number with its unrounded value attached: data-value on the rendered element.
export function texValue(value: number, shown: string): string {
  return `\\htmlData{value=${String(value)}}{${shown}}`;
}
