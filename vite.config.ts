import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig, type Plugin } from 'vite';
import { chapterMeta } from './scripts/chapter-meta';

// What a host must send for embeds, since a <meta> CSP cannot say frame-ancestors: any site may
// frame our pages. The rest of the policy is in each page's <meta> tag (svelte.config.js). Kit's
// preview server serves the pages itself (preview.headers does not reach them), so this sets the
// header before it.
const frameAnyone: Plugin = {
  name: 'explorable-llm:frame-ancestors',
  configurePreviewServer(server) {
    server.middlewares.use((_req, res, next) => {
      res.setHeader('Content-Security-Policy', 'frame-ancestors *');
      next();
    });
  }
};

export default defineConfig({
  plugins: [frameAnyone, chapterMeta(), sveltekit()],
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
