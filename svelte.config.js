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
    prerender: {
      // Every chapter is reached from the home page's links, so crawling finds them all; the
      // chapter route also lists its entries explicitly.
      handleHttpError: 'fail'
    }
  }
};

export default config;
