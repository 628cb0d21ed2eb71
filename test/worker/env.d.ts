import type { D1Migration } from '@cloudflare/vitest-pool-workers';

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      EDGEPLANE_DEV_ADMIN_TOKEN: string;
      EDGEPLANE_ENCRYPTION_KEY: string;
      TEST_CLOUDFLARE_FAKE: string;
      TEST_TRITON_FAKE: string;
      CLOUDFLARE_API_TOKEN: string;
      CLOUDFLARE_ACCOUNT_ID: string;
    }
  }
}
export {};
