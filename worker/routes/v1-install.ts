import { createRoute, z } from '@hono/zod-openapi';
import { stringify } from 'yaml';
import type { Router } from '../app';
import type { Config } from '../env';
import { AppError } from '../errors';
import { requireAdmin } from '../middleware/auth';
import { agentRuntime, BUNDLE_CONFIGMAP, bundleConfigMap, RELEASE_IMAGE } from '../services/agent-runtime';
import { BOOTSTRAP_TTL_HOURS, issueBootstrapToken, purgeExpiredBootstrapTokens } from '../services/bootstrap-tokens';
import { errors, idParam, security } from './contract';

const NAMESPACE = 'edgeplane-system';
const NAME = 'edgeplane-agent';

/** An OCI image reference: [registry[:port]/]path[:tag][@sha256:digest]. */
const IMAGE_REFERENCE =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

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

/**
 * Namespaced rules in the agent's own namespace only (a Role, not cluster-wide): egress probe Jobs are created, read and
 * deleted there, and their pods (and the agent's own pod, whose image and command the probe Jobs reuse) read there; the
 * cluster CA for the WARP kubeconfig is read from the one ConfigMap Kubernetes publishes it in, by name.
 */
export const AGENT_NAMESPACE_RULES = [
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'create', 'delete'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
  { apiGroups: [''], resources: ['configmaps'], resourceNames: ['kube-root-ca.crt'], verbs: ['get'] },
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
  const runtime = agentRuntime(input.image);
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
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: NAME, namespace: NAMESPACE, labels },
      rules: AGENT_NAMESPACE_RULES,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: NAME, namespace: NAMESPACE, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: NAME },
      subjects: [{ kind: 'ServiceAccount', name: NAME, namespace: NAMESPACE }],
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'edgeplane-bootstrap', namespace: NAMESPACE, labels, annotations: { 'edgeplane.dev/expires-at': input.expiresAt } },
      type: 'Opaque',
      stringData: { token: input.token },
    },
    ...(input.image === undefined ? [bundleConfigMap(NAMESPACE, labels)] : []),
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
          metadata: { labels, ...(Object.keys(runtime.podAnnotations).length ? { annotations: runtime.podAnnotations } : {}) },
          spec: {
            serviceAccountName: NAME,
            securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'agent',
                image: runtime.image,
                ...(runtime.command ? { command: runtime.command } : {}),
                env: [
                  ...runtime.env,
                  { name: 'EDGEPLANE_URL', value: input.url },
                  { name: 'EDGEPLANE_CLUSTER_ID', value: input.clusterId },
                  { name: 'EDGEPLANE_NAMESPACE', value: NAMESPACE },
                  { name: 'EDGEPLANE_BOOTSTRAP_TOKEN_FILE', value: '/var/run/edgeplane/bootstrap/token' },
                  // The agent reads its own pod for the image and command of egress probe Jobs.
                  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                ],
                ports: [{ name: 'http', containerPort: 9090 }],
                readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10 },
                livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 30, failureThreshold: 4 },
                // The request is the measured steady state at 500 objects (≈ 58 MB, bench/agent.bench.mjs); the limit covers
                // 5000 objects (≈ 71 MB idle, 89 MB peak, inside the image's 48 MB V8 old generation; docs/agent.md).
                resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '128Mi' } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                volumeMounts: [{ name: 'bootstrap', mountPath: '/var/run/edgeplane/bootstrap', readOnly: true }, ...runtime.volumeMounts],
              },
            ],
            volumes: [{ name: 'bootstrap', secret: { secretName: 'edgeplane-bootstrap', optional: true } }, ...runtime.volumes],
          },
        },
      },
    },
  ];
}

/**
 * The Worker URL an install manifest points the agent at: EDGEPLANE_PUBLIC_URL. The request's own URL (its Host header,
 * which whoever sends the request chooses) is used only in development; in production an unset URL refuses the manifest.
 */
export function publicUrl(config: Config, requestUrl: string): string {
  if (config.EDGEPLANE_PUBLIC_URL) return config.EDGEPLANE_PUBLIC_URL.replace(/\/+$/, '');
  if (config.development) return new URL(requestUrl).origin;
  throw new AppError(
    'unavailable',
    'EDGEPLANE_PUBLIC_URL is not set: install manifests need the URL agents reach this Worker at (set it in wrangler.toml [vars], e.g. "https://edgeplane.example.com")',
  );
}

/** The install manifest as multi-document YAML, with a header saying what the token does and which runtime runs. */
export function installManifest(input: Parameters<typeof installObjects>[0]): string {
  const header =
    `# edgeplane agent for cluster "${input.clusterId}". The bootstrap token registers one agent once and expires at ${input.expiresAt}.\n` +
    (input.image === undefined
      ? `# Runs the agent bundle (ConfigMap ${BUNDLE_CONFIGMAP}) on the official Node image; add ?image=${RELEASE_IMAGE} for the released agent image.\n`
      : `# Runs the agent image ${input.image}.\n`);
  return (
    header +
    installObjects(input)
      // No line folding: the bundle is one long line, and a folded scalar would only be harder to read back.
      .map((o) => stringify(o, { lineWidth: 0 }))
      .join('---\n')
  );
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
          image: z
            .string()
            .max(255)
            .regex(IMAGE_REFERENCE, 'an image reference such as "ghcr.io/edgeplane/agent:0.1.0" (optionally "@sha256:<64 hex>")')
            .optional()
            .describe(
              `run this image (built from agent/Dockerfile, e.g. the released ${RELEASE_IMAGE}) instead of the official Node image with the bundle in a ConfigMap`,
            ),
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
      const { expiresInHours, image } = c.req.valid('query');
      // Before a token is issued: a refused manifest leaves no token behind.
      publicUrl(c.get('config'), c.req.url);
      const { token, expiresAt } = await issueBootstrapToken(deps, id, expiresInHours);
      deps.defer(purgeExpiredBootstrapTokens(deps));
      const url = publicUrl(c.get('config'), c.req.url);
      const text = installManifest({ clusterId: id, url, token, expiresAt, ...(image === undefined ? {} : { image }) });
      return c.body(text, 200, { 'content-type': 'application/yaml; charset=utf-8', 'cache-control': 'no-store' });
    },
  );
}
