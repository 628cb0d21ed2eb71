import { readFileSync } from 'node:fs';
import { z } from 'zod';

const seconds = (fallback: number) => z.coerce.number().positive().default(fallback);

const schema = z.object({
  EDGEPLANE_URL: z.url("EDGEPLANE_URL must be the Worker's URL, e.g. https://edgeplane.example.com"),
  EDGEPLANE_CLUSTER_ID: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'EDGEPLANE_CLUSTER_ID must be the cluster id (a DNS-1123 label)'),
  EDGEPLANE_NAMESPACE: z.string().min(1).default('edgeplane-system'),
  EDGEPLANE_BOOTSTRAP_TOKEN: z.string().optional(),
  EDGEPLANE_BOOTSTRAP_TOKEN_FILE: z.string().default('/var/run/edgeplane/bootstrap/token'),
  EDGEPLANE_POLL_INTERVAL_SECONDS: seconds(30),
  EDGEPLANE_RESYNC_INTERVAL_SECONDS: seconds(120),
  EDGEPLANE_BACKOFF_BASE_MS: z.coerce.number().positive().default(1000),
  EDGEPLANE_BACKOFF_MAX_SECONDS: seconds(60),
  EDGEPLANE_LISTEN_PORT: z.coerce.number().int().min(0).max(65535).default(9090),
  EDGEPLANE_APPLY_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
  KUBECONFIG: z.string().optional(),
});

/** The agent's configuration, parsed once at start so a missing setting is a named error. */
export interface AgentConfig {
  url: string;
  clusterId: string;
  namespace: string;
  /** Reads the bootstrap token (env first, then the mounted Secret file); undefined when neither exists. */
  bootstrapToken: () => string | undefined;
  pollIntervalMs: number;
  resyncIntervalMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  listenPort: number;
  applyConcurrency: number;
  kubeconfig: string | undefined;
}

/** Parses the environment; throws one message naming every bad variable. */
export function parseConfig(env: Record<string, string | undefined>): AgentConfig {
  const result = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!result.success) {
    throw new Error(
      `edgeplane agent configuration is invalid: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const c = result.data;
  return {
    url: c.EDGEPLANE_URL.replace(/\/+$/, ''),
    clusterId: c.EDGEPLANE_CLUSTER_ID,
    namespace: c.EDGEPLANE_NAMESPACE,
    bootstrapToken: () => {
      if (c.EDGEPLANE_BOOTSTRAP_TOKEN) return c.EDGEPLANE_BOOTSTRAP_TOKEN.trim();
      try {
        return readFileSync(c.EDGEPLANE_BOOTSTRAP_TOKEN_FILE, 'utf8').trim() || undefined;
      } catch {
        return undefined;
      }
    },
    pollIntervalMs: c.EDGEPLANE_POLL_INTERVAL_SECONDS * 1000,
    resyncIntervalMs: c.EDGEPLANE_RESYNC_INTERVAL_SECONDS * 1000,
    backoffBaseMs: c.EDGEPLANE_BACKOFF_BASE_MS,
    backoffMaxMs: c.EDGEPLANE_BACKOFF_MAX_SECONDS * 1000,
    listenPort: c.EDGEPLANE_LISTEN_PORT,
    applyConcurrency: c.EDGEPLANE_APPLY_CONCURRENCY,
    kubeconfig: c.KUBECONFIG,
  };
}
