import { existsSync } from 'node:fs';
import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';
import { mdsvex } from 'mdsvex';
import remarkMath from 'remark-math';
import rehypeKatexSvelte from 'rehype-katex-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
  extensions: ['.svelte', '.md'],
  preprocess: [
    vitePreprocess(),
    // Chapters are Markdown with Svelte components between paragraphs. Math is typeset by KaTeX at
    // build time, so the reader downloads HTML and a stylesheet, not a math engine.
    mdsvex({
      extensions: ['.md'],
      smartypants: { dashes: 'oldschool' },
      remarkPlugins: [remarkMath],
      rehypePlugins: [[rehypeKatexSvelte, { throwOnError: true }]]
    })
  ],
  compilerOptions: {
    // Our own components use runes; mdsvex output (and third-party code) keeps its own mode.
    runes: ({ filename }) =>
      filename && filename.endsWith('.svelte') && !filename.split(/[/\\]/).includes('node_modules')
        ? true
        : undefined
  },
  kit: {
    adapter: adapter({ pages: 'build', assets: 'build', fallback: undefined, strict: true }),
    alias: {
      // for components; src/lib/engine/api.ts imports the engine by relative path so that Node
      // tests (which do not load SvelteKit) can import it too
      $engine: 'engine'
    },
    // The Content Security Policy of every page. A prerendered page carries it in a <meta> tag, with
    // the hash of Kit's one inline script (its start-up call) added to script-src; any other inline
    // script is refused. Everything comes from the site itself: the engine worker, the model files,
    // the comparison tokenizers (bundled). 'wasm-unsafe-eval' lets WebAssembly compile (the WASM
    // backend); inline styles are allowed because Svelte and KaTeX write style attributes; data:
    // and blob: images are the export's pictures. frame-ancestors cannot be set from a <meta> tag,
    // so the header that lets any site frame an embed is sent by the server: see static/_headers,
    // vite.config.ts (preview) and docs/teaching.md.
    csp: {
      mode: 'hash',
      directives: {
        'default-src': ['self'],
        'script-src': ['self', 'wasm-unsafe-eval'],
        'worker-src': ['self'],
        'connect-src': ['self'],
        'img-src': ['self', 'data:', 'blob:'],
        'style-src': ['self', 'unsafe-inline'],
        'font-src': ['self', 'data:'],
        'frame-src': ['self'],
        'object-src': ['none'],
        'base-uri': ['self'],
        'form-action': ['self']
      }
    },
    prerender: {
      // Every chapter is reached from the home page's links, so crawling finds them all; the
      // chapter route also lists its entries explicitly.
      // A broken link fails the build. One exception: the reveal.js deck links reveal.js's files,
      // which exist only when the reveal.js package is installed (the deck then says it is missing).
      handleHttpError: ({ path, message }) => {
        if (path.startsWith('/examples/slides/') && !existsSync('node_modules/reveal.js')) {
          console.warn(`${path}: reveal.js is not installed, so the deck runs without it`);
          return;
        }
        throw new Error(message);
      }
    }
  }
};

export default config;
