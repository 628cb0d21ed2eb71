import { createRoute, z } from '@hono/zod-openapi';
import { stringify } from 'yaml';
import type { Router } from '../app';
import { requireAdmin } from '../middleware/auth';
import { BOOTSTRAP_TTL_HOURS, issueBootstrapToken, purgeExpiredBootstrapTokens } from '../services/bootstrap-tokens';
import { errors, idParam, security } from './contract';

/** The agent image the manifest runs (the same code as `npm run build:agent`). */
export const AGENT_IMAGE = 'ghcr.io/edgeplane/agent:0.1.0';
const NAMESPACE = 'edgeplane-system';
const NAME = 'edgeplane-agent';

const verbsWrite = ['get', 'create', 'patch', 'delete'];

/**
 * The least RBAC the agent needs; docs/agent.md explains every rule. Writes are limited to the kinds a bundle can hold,
 * Secrets are never listed or watched (only read by name), Pods are only listed (no get, watch, logs or exec), and
 * nothing is granted on RBAC itself.
 */
export const AGENT_RULES = [
  { apiGroups: [''], resources: ['namespaces'], verbs: verbsWrite },
  { apiGroups: [''], resources: ['nodes'], verbs: ['list'] },
  { apiGroups: [''], resources: ['services'], verbs: [...verbsWrite, 'list'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
  { apiGroups: [''], resources: ['secrets', 'configmaps', 'persistentvolumeclaims'], verbs: verbsWrite },
  { apiGroups: ['apps'], resources: ['deployments', 'statefulsets'], verbs: verbsWrite },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: verbsWrite },
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: verbsWrite },
  { apiGroups: ['gateway.networking.k8s.io'], resources: ['httproutes'], verbs: verbsWrite },
];

/** Every object of an install manifest, in apply order. */
export function installObjects(input: {
  clusterId: string;
  url: string;
  token: string;
  expiresAt: string;
  image?: string;
}): Record<string, unknown>[] {
  const labels = { 'app.kubernetes.io/name': NAME, 'app.kubernetes.io/part-of': 'edgeplane' };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE, labels } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: NAME, namespace: NAMESPACE, labels } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: NAME, labels }, rules: AGENT_RULES },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: NAME, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NAME },
      subjects: [{ kind: 'ServiceAccount', name: NAME, namespace: NAMESPACE }],
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'edgeplane-bootstrap', namespace: NAMESPACE, labels, annotations: { 'edgeplane.dev/expires-at': input.expiresAt } },
      type: 'Opaque',
      stringData: { token: input.token },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: NAME, namespace: NAMESPACE, labels },
      spec: {
        replicas: 1,
        // Never two agents at once: the old one exits before the new one starts.
        strategy: { type: 'Recreate' },
        selector: { matchLabels: { 'app.kubernetes.io/name': NAME } },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: NAME,
            securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'agent',
                image: input.image ?? AGENT_IMAGE,
                env: [
                  { name: 'EDGEPLANE_URL', value: input.url },
                  { name: 'EDGEPLANE_CLUSTER_ID', value: input.clusterId },
                  { name: 'EDGEPLANE_NAMESPACE', value: NAMESPACE },
                  { name: 'EDGEPLANE_BOOTSTRAP_TOKEN_FILE', value: '/var/run/edgeplane/bootstrap/token' },
                ],
                ports: [{ name: 'http', containerPort: 9090 }],
                readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10 },
                livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 30, failureThreshold: 4 },
                // The request is the measured steady state at 500 objects (≈ 58 MB, bench/agent.bench.mjs); the limit covers
                // 5000 objects (≈ 71 MB idle, 89 MB peak, inside the image's 48 MB V8 old generation; docs/agent.md).
                resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '128Mi' } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                volumeMounts: [{ name: 'bootstrap', mountPath: '/var/run/edgeplane/bootstrap', readOnly: true }],
              },
            ],
            volumes: [{ name: 'bootstrap', secret: { secretName: 'edgeplane-bootstrap', optional: true } }],
          },
        },
      },
    },
  ];
}

/** Mounts GET /v1/clusters/{id}/install.yaml (admin only). */
export function registerInstall(app: Router): void {
  const path = '/v1/clusters/{id}/install.yaml';
  app.use('/v1/clusters/:id/install.yaml', requireAdmin);
  app.openapi(
    createRoute({
      method: 'get',
      path,
      tags: ['clusters'],
      security,
      summary: 'The agent install manifest, with a one-time bootstrap token',
      request: {
        params: idParam,
        query: z.object({
          expiresInHours: z.coerce.number().int().min(1).max(168).default(BOOTSTRAP_TTL_HOURS).describe('bootstrap token lifetime'),
        }),
      },
      responses: {
        200: { description: 'multi-document YAML for `kubectl apply -f -`', content: { 'application/yaml': { schema: z.string() } } },
        ...errors,
      },
    }),
    async (c) => {
      const deps = c.get('deps');
      const { id } = c.req.valid('param');
      const { token, expiresAt } = await issueBootstrapToken(deps, id, c.req.valid('query').expiresInHours);
      deps.defer(purgeExpiredBootstrapTokens(deps));
      const url = new URL(c.req.url).origin;
      const header = `# edgeplane agent for cluster "${id}". The bootstrap token registers one agent once and expires at ${expiresAt}.\n`;
      const text =
        header +
        installObjects({ clusterId: id, url, token, expiresAt })
          .map((o) => stringify(o))
          .join('---\n');
      return c.body(text, 200, { 'content-type': 'application/yaml; charset=utf-8', 'cache-control': 'no-store' });
    },
  );
}
