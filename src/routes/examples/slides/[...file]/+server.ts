// The reveal.js deck of examples/slides/, served with the site: its own files, and reveal.js's
// from the npm package (node_modules/reveal.js/dist), read when the site is prerendered. Without
// the package the deck still builds and its slides show as one page (deck.js says why).
import { existsSync, readFileSync } from 'node:fs';
import { error } from '@sveltejs/kit';
import type { EntryGenerator, RequestHandler } from './$types';

export const prerender = true;

const reveal = 'node_modules/reveal.js/dist';
const files: Record<string, { path: string; type: string }> = {
  'index.html': { path: 'examples/slides/index.html', type: 'text/html' },
  'deck.js': { path: 'examples/slides/deck.js', type: 'text/javascript' },
  'deck.css': { path: 'examples/slides/deck.css', type: 'text/css' },
  'reveal.js': { path: `${reveal}/reveal.js`, type: 'text/javascript' },
  'reveal.css': { path: `${reveal}/reveal.css`, type: 'text/css' },
  'white.css': { path: `${reveal}/theme/white.css`, type: 'text/css' },
  // the theme's face, which white.css imports from fonts/ beside it
  'fonts/source-sans-pro/source-sans-pro.css': { path: `${reveal}/theme/fonts/source-sans-pro/source-sans-pro.css`, type: 'text/css' },
  ...Object.fromEntries(
    ['regular', 'italic', 'semibold', 'semibolditalic'].map((face) => [
      `fonts/source-sans-pro/source-sans-pro-${face}.woff`,
      { path: `${reveal}/theme/fonts/source-sans-pro/source-sans-pro-${face}.woff`, type: 'font/woff' }
    ])
  )
};

export const entries: EntryGenerator = () => Object.entries(files).filter(([, f]) => existsSync(f.path)).map(([file]) => ({ file }));

export const GET: RequestHandler = ({ params }) => {
  const f = files[params.file];
  if (!f || !existsSync(f.path)) error(404, `No file ${params.file} in the deck.`);
  return new Response(readFileSync(f.path), { headers: { 'content-type': f.type } });
};
