import { defineConfig } from 'vitest/config';

// The `edgeplane` CLI as a real process against the Worker under `wrangler dev` (one Worker for the whole file).
export default defineConfig({
  test: { name: 'cli', include: ['test/cli/**/*.test.ts'], environment: 'node', root: '.', testTimeout: 60_000, hookTimeout: 90_000 },
});
