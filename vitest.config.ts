import { existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// The WebGPU backend is tested in Node through the webgpu package (Dawn) over SwiftShader, the CPU
// Vulkan driver that Debian's chromium package installs. The dynamic loader reads LD_LIBRARY_PATH
// once, when a process starts, so it cannot be set from inside a test: it is given to the forked
// test workers here (vitest passes test.env to the processes of its 'forks' pool; the 'threads'
// pool would not see it). A machine with its own Vulkan driver can set VK_ICD_FILENAMES itself.
const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
const gpuEnv: Record<string, string> = existsSync(swiftshader)
  ? {
      LD_LIBRARY_PATH: ['/usr/lib/chromium', process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
      VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? swiftshader
    }
  : {};

// Unit tests run in Node against the engine and the site's plain TypeScript helpers.
// Browser tests (tests/e2e) belong to Playwright and are kept out of here.
export default defineConfig({
  // the embed registry names its components by $lib path (loaded only by the site)
  resolve: { alias: { $lib: new URL('./src/lib', import.meta.url).pathname } },
  test: {
    environment: 'node',
    include: ['tests/**/*.test.ts'],
    exclude: ['tests/e2e/**', 'node_modules/**'],
    pool: 'forks',
    env: gpuEnv
  }
});
