import { readFileSync } from 'node:fs';

const CLUSTER_ID = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Reads variables one by one, collecting every problem so one error names them all. */
class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: Record<string, string | undefined>) {}

  /** The variable, or undefined when unset or empty. */
  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value === '' ? undefined : value;
  }

  required(name: string, valid: (v: string) => boolean, message: string): string {
    const value = this.raw(name);
    if (value === undefined || !valid(value)) {
      this.problems.push(`${name}: ${message}${value === undefined ? ' (it is not set)' : ''}`);
      return '';
    }
    return value;
  }

  /** A number within [min, max] (integers only when `integer`), or the fallback when unset. */
  number(name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER, integer = false, exclusiveMin = false } = {}): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    const ok = Number.isFinite(n) && (exclusiveMin ? n > min : n >= min) && n <= max && (!integer || Number.isInteger(n));
    if (!ok) {
      const range =
        exclusiveMin && max === Number.MAX_SAFE_INTEGER
          ? 'a positive number'
          : `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`;
      this.problems.push(`${name}: must be ${range}, got ${JSON.stringify(value)}`);
      return fallback;
    }
    return n;
  }
}

const isHttpUrl = (value: string): boolean => {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
};

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
  /** The agent's own pod (probe Jobs copy its image and command): POD_NAME from the downward API, else HOSTNAME. */
  podName: string | undefined;
}

/** Parses the environment; throws one message naming every bad variable. */
export function parseConfig(env: Record<string, string | undefined>): AgentConfig {
  const read = new EnvReader(env);
  const positive = { exclusiveMin: true };
  const url = read.required('EDGEPLANE_URL', isHttpUrl, "EDGEPLANE_URL must be the Worker's URL, e.g. https://edgeplane.example.com");
  const clusterId = read.required(
    'EDGEPLANE_CLUSTER_ID',
    (v) => CLUSTER_ID.test(v),
    'EDGEPLANE_CLUSTER_ID must be the cluster id (a DNS-1123 label)',
  );
  const namespace = read.raw('EDGEPLANE_NAMESPACE') ?? 'edgeplane-system';
  const token = read.raw('EDGEPLANE_BOOTSTRAP_TOKEN');
  const tokenFile = read.raw('EDGEPLANE_BOOTSTRAP_TOKEN_FILE') ?? '/var/run/edgeplane/bootstrap/token';
  const config: AgentConfig = {
    url: url.replace(/\/+$/, ''),
    clusterId,
    namespace,
    bootstrapToken: () => {
      if (token) return token.trim();
      try {
        return readFileSync(tokenFile, 'utf8').trim() || undefined;
      } catch {
        return undefined;
      }
    },
    pollIntervalMs: read.number('EDGEPLANE_POLL_INTERVAL_SECONDS', 30, positive) * 1000,
    resyncIntervalMs: read.number('EDGEPLANE_RESYNC_INTERVAL_SECONDS', 120, positive) * 1000,
    backoffBaseMs: read.number('EDGEPLANE_BACKOFF_BASE_MS', 1000, positive),
    backoffMaxMs: read.number('EDGEPLANE_BACKOFF_MAX_SECONDS', 60, positive) * 1000,
    listenPort: read.number('EDGEPLANE_LISTEN_PORT', 9090, { max: 65535, integer: true }),
    applyConcurrency: read.number('EDGEPLANE_APPLY_CONCURRENCY', 8, { min: 1, max: 64, integer: true }),
    kubeconfig: read.raw('KUBECONFIG'),
    podName: read.raw('POD_NAME') ?? read.raw('HOSTNAME'),
  };
  if (read.problems.length > 0) throw new Error(`edgeplane agent configuration is invalid: ${read.problems.join('; ')}`);
  return config;
}
