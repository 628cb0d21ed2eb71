import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: 'dev', include: ['test/dev/**/*.test.ts'], environment: 'node', root: '.', testTimeout: 180_000, hookTimeout: 60_000 },
});
