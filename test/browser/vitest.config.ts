import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: 'browser', include: ['test/browser/**/*.test.ts'], environment: 'node', root: '.', passWithNoTests: true },
});
