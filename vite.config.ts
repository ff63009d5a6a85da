import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';
import { chapterMeta } from './scripts/chapter-meta';

export default defineConfig({
  plugins: [chapterMeta(), sveltekit()],
  server: {
    // The engine lives beside src/, and chapters in content/; both are imported by the site.
    fs: { allow: ['engine', 'content'] }
  },
  worker: {
    // Module workers, so the engine worker can import the engine like any other module.
    format: 'es'
  },
  preview: { port: 4173, strictPort: true }
});
