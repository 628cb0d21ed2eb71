import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

const root = path.resolve(import.meta.dirname, '../..');

export default defineConfig(async () => {
  // The same SQL files local dev and deploy apply (drizzle-kit output in migrations/).
  const migrations = await readD1Migrations(path.join(root, 'migrations'));
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: path.join(root, 'wrangler.toml') },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            // A production-mode Worker that nevertheless has a dev token configured: it must refuse it.
            ENVIRONMENT: 'production',
            EDGEPLANE_DEV_ADMIN_TOKEN: 'dev-admin-token',
            EDGEPLANE_ENCRYPTION_KEY: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=',
          },
        },
      }),
    ],
    test: {
      name: 'worker',
      root,
      include: ['test/worker/**/*.test.ts'],
      setupFiles: ['test/worker/setup.ts'],
    },
  };
});
