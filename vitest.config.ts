import { defineConfig } from 'vitest/config';

// One `vitest run` drives every suite; each project is split by intent (see docs/ARCHITECTURE.md → Tests).
export default defineConfig({
  test: {
    projects: [
      'test/unit/vitest.config.ts',
      'test/worker/vitest.config.ts',
      'test/agent/vitest.config.ts',
      'test/browser/vitest.config.ts',
      'test/dev/vitest.config.ts',
      'test/cli/vitest.config.ts',
    ],
    reporters: ['default', ['json', { outputFile: '.test-results/results.json' }]],
  },
});
