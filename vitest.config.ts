import { defineConfig } from 'vitest/config';

// Unit tests run in Node against the engine and the site's plain TypeScript helpers.
// Browser tests (tests/e2e) belong to Playwright and are kept out of here.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['tests/**/*.test.ts'],
    exclude: ['tests/e2e/**', 'node_modules/**']
  }
});
