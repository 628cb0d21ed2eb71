import { createClient } from 'cloudflare/tree-shakable';
import { Records } from 'cloudflare/resources/dns/records';
import { Zones } from 'cloudflare/resources/zones/zones';
import { BaseCloudflared } from 'cloudflare/resources/zero-trust/tunnels/cloudflared/cloudflared';
import { Configurations } from 'cloudflare/resources/zero-trust/tunnels/cloudflared/configurations';
import { BaseConnections } from 'cloudflare/resources/zero-trust/tunnels/cloudflared/connections';
import { BaseToken } from 'cloudflare/resources/zero-trust/tunnels/cloudflared/token';
import { BaseRoutes } from 'cloudflare/resources/zero-trust/networks/routes/routes';
import { BaseIncludes as DefaultIncludes } from 'cloudflare/resources/zero-trust/devices/policies/default/includes';
import { BaseExcludes as DefaultExcludes } from 'cloudflare/resources/zero-trust/devices/policies/default/excludes';
import { BaseIncludes as CustomIncludes } from 'cloudflare/resources/zero-trust/devices/policies/custom/includes';
import { BaseExcludes as CustomExcludes } from 'cloudflare/resources/zero-trust/devices/policies/custom/excludes';
import type { Config } from '../env';

/** Only the SDK resources edgeplane calls: the tree-shakable client keeps the rest of the SDK out of the bundle. */
const RESOURCES = [
  BaseCloudflared,
  Configurations,
  BaseConnections,
  BaseToken,
  BaseRoutes,
  Zones,
  Records,
  DefaultIncludes,
  DefaultExcludes,
  CustomIncludes,
  CustomExcludes,
] as const;

export type CloudflareClient = ReturnType<typeof buildClient>;

function buildClient(apiToken: string, baseURL: string, fetchImpl: typeof fetch, timeout: number) {
  // Retries are the sync writer's (backoff with jitter, rate budget, rows never dropped), never the SDK's.
  return createClient({ apiToken, baseURL, maxRetries: 0, timeout, fetch: fetchImpl, resources: RESOURCES });
}

/** The configured Cloudflare client; a missing API token is a named error, not an `undefined` later. */
export function cloudflareClient(config: Config, fetchImpl: typeof fetch, timeoutMs = 30_000): CloudflareClient {
  if (!config.CLOUDFLARE_API_TOKEN) {
    throw new Error('CLOUDFLARE_API_TOKEN is not set: the Cloudflare sync cannot run (wrangler secret put CLOUDFLARE_API_TOKEN)');
  }
  return buildClient(config.CLOUDFLARE_API_TOKEN, config.CLOUDFLARE_API_BASE_URL, fetchImpl, timeoutMs);
}
