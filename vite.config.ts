import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [sveltekit()],
  server: {
    // The engine lives beside src/, and chapters in content/; both are imported by the site.
    fs: { allow: ['engine', 'content'] }
  },
  worker: {
    // Module workers, so the engine worker can import the engine like any other module.
    format: 'es'
  },
  preview: {
    port: 4173,
    strictPort: true,
    // what a host must send for embeds (a <meta> CSP cannot say frame-ancestors): any site may
    // frame our pages; the rest of the policy is in each page's <meta> tag (svelte.config.js)
    headers: { 'Content-Security-Policy': 'frame-ancestors *' }
  }
});
