import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { writeAgentModule } from '../../scripts/build-agent.mjs';
import { buildAdmin } from '../../scripts/build-admin.mjs';

const root = path.resolve(import.meta.dirname, '../..');

export default defineConfig(async () => {
  // The Worker imports the agent bundle (its install manifest carries it): build it from the agent/ beside it.
  await writeAgentModule(root);
  // The same SQL files local dev and deploy apply (drizzle-kit output in migrations/).
  const migrations = await readD1Migrations(path.join(root, 'migrations'));
  // The Worker imports the console's bundle (worker/generated/admin-assets.ts): build it from the admin/ beside it.
  await buildAdmin(root);
  return {
    plugins: [
      // The options function runs after globalSetup, so the Worker's Cloudflare API base URL is the fake's.
      cloudflareTest(async ({ inject }) => ({
        wrangler: { configPath: path.join(root, 'wrangler.toml') },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            // A production-mode Worker that nevertheless has a dev token configured: it must refuse it.
            ENVIRONMENT: 'production',
            EDGEPLANE_DEV_ADMIN_TOKEN: 'dev-admin-token',
            EDGEPLANE_ENCRYPTION_KEY: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=',
            // Where install manifests point agents; requests arrive as https://edgeplane.test, never trusted for this.
            EDGEPLANE_PUBLIC_URL: 'https://edgeplane.example.com',
            CLOUDFLARE_API_BASE_URL: inject('cloudflareFake').baseUrl,
            CLOUDFLARE_API_TOKEN: inject('cloudflareFake').token,
            CLOUDFLARE_ACCOUNT_ID: '0000000000000000000000000000test',
            // Control endpoints of the fake (/__fake/*), reached from inside workerd over loopback.
            TEST_CLOUDFLARE_FAKE: inject('cloudflareFake').origin,
            // The Triton-protocol origin the inference tests point their backends at (test/fakes/triton).
            TEST_TRITON_FAKE: inject('tritonFake'),
            // Alarms never fire on their own in tests: each test drains the writer with runDurableObjectAlarm.
            EDGEPLANE_SYNC_DEBOUNCE_MS: '3600000',
            // The fake answers in milliseconds; a hung request is abandoned quickly.
            EDGEPLANE_CLOUDFLARE_TIMEOUT_MS: '1500',
            // A low per-token rate so the 429 test needs few calls; each test uses its own tokens.
            EDGEPLANE_INFERENCE_RATE_PER_MINUTE: '40',
          },
        },
      })),
    ],
    test: {
      name: 'worker',
      root,
      include: ['test/worker/**/*.test.ts'],
      setupFiles: ['test/worker/setup.ts'],
      globalSetup: ['test/worker/cloudflare-fake.global.ts', 'test/worker/triton-fake.global.ts'],
    },
  };
});
