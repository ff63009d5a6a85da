// A figure as a picture for slides: its DOM, with the page's styles, inside an SVG foreignObject,
// plus the caption and the model's name in small type below it. Canvases (the embedding map) are
// copied in as images first, since a serialised canvas is blank. The PNG is that SVG drawn at 2×.

import { resolvedColor, usedScheme } from './colors';

const XHTML = 'http://www.w3.org/1999/xhtml';
const SVG = 'http://www.w3.org/2000/svg';

// Every rule of the page's own stylesheets, so the picture looks like the page. A stylesheet from
// another origin cannot be read; the site has none (the CSP allows only 'self').
function pageCss(): string {
  let css = '';
  for (const sheet of Array.from(document.styleSheets)) {
    try {
      for (const rule of Array.from(sheet.cssRules)) css += rule.cssText + '\n';
    } catch {
      // unreadable sheet: skipped
    }
  }
  return css;
}

// The current values of the page's colour variables, fixed into the picture, so a dark page
// exports dark and the picture does not change with the viewer's scheme.
function rootVars(): string {
  const root = document.documentElement;
  const cs = getComputedStyle(root);
  // every colour of app.css (each a light-dark() pair, resolved here to this page's scheme)
  const colors = [...new Set([...pageCss().matchAll(/(--[\w-]+):\s*light-dark\(/g)].map((m) => m[1]))];
  const fonts = ['--font-ui', '--font-prose', '--font-mono'];
  const decl = [...colors.map((n) => `${n}: ${resolvedColor(document.body, n)};`), ...fonts.map((n) => `${n}: ${cs.getPropertyValue(n)};`)];
  return `:root, div.export-root { color-scheme: ${usedScheme(document.body)}; ${decl.join(' ')} }`;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export interface Picture {
  svg: string;
  width: number; // CSS pixels of the SVG
  height: number;
}

export function figureSvg(el: HTMLElement, caption: string, model: string): Picture {
  const box = el.getBoundingClientRect();
  const width = Math.ceil(box.width);
  const figHeight = Math.ceil(box.height);
  const clone = el.cloneNode(true) as HTMLElement;
  // canvases: their pixels, as images
  const from = el.querySelectorAll('canvas');
  clone.querySelectorAll('canvas').forEach((c, i) => {
    const img = document.createElement('img');
    try {
      img.src = from[i].toDataURL('image/png');
    } catch {
      return;
    }
    img.width = from[i].clientWidth;
    img.height = from[i].clientHeight;
    img.setAttribute('style', from[i].getAttribute('style') ?? '');
    img.className = from[i].className;
    c.replaceWith(img);
  });
  // inputs keep their typed values only as attributes
  const fromInputs = el.querySelectorAll('textarea, input');
  clone.querySelectorAll('textarea, input').forEach((c, i) => {
    const src = fromInputs[i] as HTMLInputElement | HTMLTextAreaElement;
    if (c instanceof HTMLTextAreaElement) c.textContent = src.value;
    else if (c instanceof HTMLInputElement) {
      c.setAttribute('value', src.value);
      if ((src as HTMLInputElement).checked) c.setAttribute('checked', '');
    }
  });
  clone.querySelectorAll('.figure-tools, .figure-copied').forEach((n) => n.remove());
  clone.style.margin = '0';
  clone.style.width = `${width}px`;
  const wrap = document.createElementNS(XHTML, 'div');
  wrap.setAttribute('class', 'export-root');
  wrap.setAttribute('style', `width:${width}px;background:var(--bg);color:var(--fg);font-family:var(--font-ui)`);
  wrap.appendChild(clone);
  const body = new XMLSerializer().serializeToString(wrap);
  const lines = wrapText(caption, Math.max(20, Math.floor(width / 6.5)));
  const foot = 14 * (lines.length + 1) + 16;
  const height = figHeight + foot;
  const bg = resolvedColor(document.body, '--bg') || '#fff';
  const fg = resolvedColor(document.body, '--muted') || '#555';
  const text = [...lines, `Explorable LLM · model ${model}`]
    .map((l, i) => `<text x="8" y="${figHeight + 20 + 14 * i}">${esc(l)}</text>`)
    .join('');
  const svg =
    `<svg xmlns="${SVG}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<rect width="100%" height="100%" fill="${esc(bg.trim())}"/>` +
    `<foreignObject x="0" y="0" width="${width}" height="${figHeight}">` +
    `<style xmlns="${XHTML}">${esc(pageCss() + rootVars())}</style>${body}</foreignObject>` +
    `<g font-family="system-ui, sans-serif" font-size="11" fill="${esc(fg.trim())}">${text}</g></svg>`;
  return { svg, width, height };
}

function wrapText(s: string, chars: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of s.split(/\s+/).filter(Boolean)) {
    if (line && line.length + word.length + 1 > chars) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}

// The SVG drawn at `scale` times its size, as a PNG blob.
export async function svgToPng(p: Picture, scale = 2): Promise<Blob> {
  const img = new Image();
  img.width = p.width;
  img.height = p.height;
  // a data: URL, not a blob: one: Chromium taints a canvas that draws a foreignObject SVG from a
  // blob: URL, and a tainted canvas cannot be saved
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(p.svg)}`;
  {
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(p.width * scale);
    canvas.height = Math.round(p.height * scale);
    const ctx = canvas.getContext('2d')!;
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0, p.width, p.height);
    return await new Promise<Blob>((ok, fail) => canvas.toBlob((b) => (b ? ok(b) : fail(new Error('The browser could not encode the PNG.'))), 'image/png'));
  }
}

export function save(blob: Blob, filename: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
