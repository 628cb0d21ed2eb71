import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: 'agent', include: ['test/agent/**/*.test.ts'], environment: 'node', root: '.', passWithNoTests: true },
});
