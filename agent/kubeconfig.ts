import { readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { parse } from 'yaml';
import { array, boolean, object, optional, ShapeError, string, type Check } from './check';

/** How to reach and authenticate to the API server. */
export interface Connection {
  server: string;
  /** TLS and client-certificate options for node:https. */
  tls: Pick<RequestOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername'>;
  /** The Authorization header value, read on every call (service-account tokens rotate on disk, exec tokens expire). */
  authorization: () => Promise<string | undefined> | string | undefined;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

const named = <T>(key: string, check: Check<T>) => object({ name: string(), [key]: check });

const kubeconfigShape = object({
  'current-context': string(1),
  contexts: array(named('context', object({ cluster: string(), user: string() }))),
  clusters: array(
    named(
      'cluster',
      object({
        server: string(1),
        'certificate-authority-data': optional(string()),
        'certificate-authority': optional(string()),
        'insecure-skip-tls-verify': optional(boolean),
        'tls-server-name': optional(string()),
      }),
    ),
  ),
  users: optional(
    array(
      named(
        'user',
        object({
          token: optional(string()),
          tokenFile: optional(string()),
          'client-certificate-data': optional(string()),
          'client-key-data': optional(string()),
          'client-certificate': optional(string()),
          'client-key': optional(string()),
          username: optional(string()),
          password: optional(string()),
        }),
      ),
    ),
  ),
});

interface KubeconfigCluster {
  server: string;
  'certificate-authority-data'?: string;
  'certificate-authority'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
}

interface KubeconfigUser {
  token?: string;
  tokenFile?: string;
  'client-certificate-data'?: string;
  'client-key-data'?: string;
  'client-certificate'?: string;
  'client-key'?: string;
  username?: string;
  password?: string;
  exec?: unknown;
  'auth-provider'?: unknown;
}

interface Kubeconfig {
  'current-context': string;
  contexts: { name: string; context: { cluster: string; user: string } }[];
  clusters: { name: string; cluster: KubeconfigCluster }[];
  users?: { name: string; user: KubeconfigUser }[];
}

/** Parses kubeconfig text (YAML or JSON) and checks the fields the agent reads. */
function parseKubeconfig(text: string): Kubeconfig {
  try {
    return kubeconfigShape(parse(text), '') as unknown as Kubeconfig;
  } catch (error) {
    if (error instanceof ShapeError) throw new Error(`the kubeconfig is not valid: ${error.message}`);
    throw error;
  }
}

const b64 = (text: string) => Buffer.from(text, 'base64');

/** Re-reads a token file at most once a minute (kubelet rotates projected service-account tokens). */
function tokenFile(path: string): () => string {
  let cached = '';
  let readAt = 0;
  return () => {
    if (Date.now() - readAt > 60_000) {
      cached = readFileSync(path, 'utf8').trim();
      readAt = Date.now();
    }
    return `Bearer ${cached}`;
  };
}

/** The in-cluster connection: the pod's service account and the cluster CA. */
export function inCluster(): Connection {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) throw new Error('not running in a pod (KUBERNETES_SERVICE_HOST is unset) and no KUBECONFIG was given');
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    tls: { ca: readFileSync(`${SA_DIR}/ca.crt`) },
    authorization: tokenFile(`${SA_DIR}/token`),
  };
}

/**
 * A kubeconfig's current context with static credentials (token, token file, client certificate, basic auth). Returns
 * undefined when the user needs an exec or auth-provider plugin: the caller then uses @kubernetes/client-node.
 * Like client-node, a plain-HTTP server is refused unless the cluster sets `insecure-skip-tls-verify: true`.
 */
export function fromKubeconfig(text: string): Connection | undefined {
  const config = parseKubeconfig(text);
  const context = config.contexts.find((c) => c.name === config['current-context'])?.context;
  if (!context) throw new Error(`the kubeconfig has no context named "${config['current-context']}"`);
  const cluster = config.clusters.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster) throw new Error(`the kubeconfig has no cluster named "${context.cluster}"`);
  const user: KubeconfigUser = config.users?.find((u) => u.name === context.user)?.user ?? {};
  if (user.exec !== undefined || user['auth-provider'] !== undefined) return undefined;
  const skipVerify = cluster['insecure-skip-tls-verify'] === true;
  if (cluster.server.startsWith('http:') && !skipVerify)
    throw new Error('HTTP protocol is not allowed when skipTLSVerify is not set or false');
  const ca = cluster['certificate-authority-data']
    ? b64(cluster['certificate-authority-data'])
    : cluster['certificate-authority']
      ? readFileSync(cluster['certificate-authority'])
      : undefined;
  const cert = user['client-certificate-data']
    ? b64(user['client-certificate-data'])
    : user['client-certificate']
      ? readFileSync(user['client-certificate'])
      : undefined;
  const key = user['client-key-data'] ? b64(user['client-key-data']) : user['client-key'] ? readFileSync(user['client-key']) : undefined;
  let authorization: () => string | undefined = () => undefined;
  if (user.token) authorization = () => `Bearer ${user.token ?? ''}`;
  else if (user.tokenFile) authorization = tokenFile(user.tokenFile);
  else if (user.username) authorization = () => `Basic ${Buffer.from(`${user.username ?? ''}:${user.password ?? ''}`).toString('base64')}`;
  return {
    server: cluster.server.replace(/\/+$/, ''),
    tls: {
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      ...(skipVerify ? { rejectUnauthorized: false } : {}),
      ...(cluster['tls-server-name'] ? { servername: cluster['tls-server-name'] } : {}),
    },
    authorization,
  };
}

/**
 * Exec and auth-provider kubeconfigs go through @kubernetes/client-node, loaded only then: it costs ~60 MB of RSS, so
 * the bundle keeps it external and the in-cluster path (service account) never loads it.
 */
export async function viaClientNode(text: string): Promise<Connection> {
  let KubeConfig: typeof import('@kubernetes/client-node/dist/config.js').KubeConfig;
  try {
    ({ KubeConfig } = await import('@kubernetes/client-node/dist/config.js'));
  } catch (error) {
    throw new Error(
      `this kubeconfig needs an exec or auth-provider plugin, which the agent supports through @kubernetes/client-node; install it beside the agent (npm i @kubernetes/client-node) or use a token/certificate kubeconfig (${(error as Error).message})`,
    );
  }
  const kc = new KubeConfig();
  kc.loadFromString(text);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const probe: RequestOptions = {};
  await kc.applyToHTTPSOptions(probe);
  const { ca, cert, key, rejectUnauthorized, servername } = probe;
  return {
    server: cluster.server.replace(/\/+$/, ''),
    tls: { ca, cert, key, servername, ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }) },
    // Exec credentials expire: ask client-node for fresh headers on every call (it caches them until expiry).
    authorization: async () => {
      const options: RequestOptions = {};
      await kc.applyToHTTPSOptions(options);
      const headers = options.headers && !Array.isArray(options.headers) ? (options.headers as Record<string, unknown>) : {};
      const header = headers.Authorization ?? headers.authorization;
      return typeof header === 'string' ? header : undefined;
    },
  };
}
