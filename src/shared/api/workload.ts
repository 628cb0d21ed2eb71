import { z } from 'zod';
import { INFRA_KINDS, INFRA_VALUES } from '../kube/infra';
import { infraInstance, workloadHealth } from './agent';
import { resourceMeta } from './common';
import { boundedRecord, hostname, labels, pathPrefix, port, resourceId } from './fields';

/** An environment variable name as containers take it through `envFrom` (a C identifier). */
export const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an env name is letters, digits and "_", not starting with a digit (e.g. "DATABASE_URL")')
  .max(253);

/**
 * A reference to a backing service of the cluster (docs/workloads.md → Infra references): `{"infra": "postgres"}` is
 * resolved on write to the one instance the cluster has (discovered by its agent, or a workload running a postgres
 * image) and pinned as `instance`; at compile time it becomes that instance's `value` (`address` = host:port).
 */
export const infraRef = z.strictObject({
  infra: z.enum(INFRA_KINDS),
  instance: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'an instance is "<namespace>/<service>", e.g. "data/postgres"')
    .max(127)
    .optional()
    .describe('"<namespace>/<service>"; set by edgeplane when omitted'),
  value: z.enum(INFRA_VALUES).default('address').describe('address (host:port), host, port or url (scheme://host:port)'),
});
export type InfraRef = z.infer<typeof infraRef>;

/** A stored infra reference: its instance is always pinned. */
export type PinnedInfraRef = InfraRef & { instance: string };

/**
 * An env value: plain text, `{"secret": "..."}` kept encrypted and delivered only in the cluster's bundle, or an infra
 * reference. On update, `{"secret": true}` keeps the value already stored (what GET shows, so a read-modify-write
 * round-trips).
 */
export const envValue = z.union([
  z.string().max(32 * 1024),
  z.strictObject({ secret: z.union([z.string().max(32 * 1024), z.literal(true)]) }),
  infraRef,
]);
export type EnvValue = z.infer<typeof envValue>;

/** A container port: a number, or one with a name and protocol. The Service exposes the same port. */
export const workloadPort = z.union([
  port,
  z.strictObject({
    port,
    name: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a port name is a DNS-1123 label')
      .regex(/[a-z]/, 'a port name needs at least one letter')
      .max(15, 'a port name is at most 15 characters')
      .optional(),
    protocol: z.enum(['TCP', 'UDP']).default('TCP'),
  }),
]);
export type WorkloadPort = z.infer<typeof workloadPort>;

/** A Kubernetes quantity such as "250m", "1", "512Mi", "1Gi". */
const quantity = z
  .string()
  .max(32)
  .regex(/^([0-9]+(\.[0-9]+)?)(m|k|Ki|Mi|Gi|Ti|M|G|T)?$/, 'expected a Kubernetes quantity such as "250m", "0.5", "512Mi" or "2Gi"');

const cpuMemory = z.strictObject({ cpu: quantity.optional(), memory: quantity.optional() });

/** Requests and limits of the container. */
export const workloadResources = z.strictObject({ requests: cpuMemory.optional(), limits: cpuMemory.optional() });

/** A named volume: a PersistentVolumeClaim mounted at `mountPath`. */
export const workloadVolume = z.strictObject({
  name: resourceId('volume name'),
  mountPath: z
    .string()
    .max(1024)
    .regex(/^\/\S*$/, 'mountPath is an absolute path in the container, e.g. "/var/lib/postgresql/data"'),
  size: quantity.default('1Gi'),
  readOnly: z.boolean().default(false),
});

/** HTTP readiness/liveness probes on this path (on `port`, or the first port). */
export const healthCheck = z.strictObject({
  path: z
    .string()
    .max(2048)
    .regex(/^\/\S*$/, 'the health-check path starts with "/", e.g. "/healthz"'),
  port: port.optional(),
});

/** Publishing through a tunnel: a route to the workload's Service, created and deleted with the workload. */
export const workloadRoute = z.strictObject({
  tunnel: resourceId('tunnel id'),
  hostname,
  path: pathPrefix.optional(),
  port: port.optional().describe('the Service port to route to; defaults to the first port'),
});

const spec = {
  image: z
    .string()
    .min(1)
    .max(512)
    .regex(/^[^\s]+$/, 'an image reference has no spaces, e.g. "nginx:1.27"'),
  command: z.array(z.string().max(4096)).max(100).optional().describe("replaces the image's entrypoint"),
  args: z.array(z.string().max(4096)).max(200).optional().describe("replaces the image's command"),
  env: boundedRecord(envName, envValue, 200, 'environment variables').describe(
    'names ending in _KEY, _PASSWORD, _TOKEN, _SECRET, ... are stored and delivered as secrets',
  ),
  ports: z.array(workloadPort).max(50),
  replicas: z.number().int().min(0).max(50),
  resources: workloadResources,
  healthCheck: healthCheck.nullable().describe('null: no probes'),
  volumes: z.array(workloadVolume).max(20),
  stateful: z.boolean().nullable().describe('StatefulSet instead of Deployment; null decides by volumes and image'),
  serviceType: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'None']).describe('None: no Service'),
  labels,
  annotations: boundedRecord(z.string().regex(/^[a-z0-9A-Z._/-]{1,253}$/), z.string().max(4096), 64, 'annotations'),
  route: workloadRoute.nullable(),
};

/** Body of POST /v1/workloads. */
export const workloadCreate = z.strictObject({
  id: resourceId('workload id'),
  cluster: resourceId('cluster id'),
  namespace: resourceId('namespace'),
  image: spec.image,
  command: spec.command,
  args: spec.args,
  env: spec.env.default({}),
  ports: spec.ports.default([]),
  replicas: spec.replicas.default(1),
  resources: spec.resources.default({}),
  healthCheck: spec.healthCheck.default(null),
  volumes: spec.volumes.default([]),
  stateful: spec.stateful.default(null),
  serviceType: spec.serviceType.default('ClusterIP'),
  labels: spec.labels.default({}),
  annotations: spec.annotations.default({}),
  route: spec.route.default(null),
});
export type WorkloadCreate = z.infer<typeof workloadCreate>;

/**
 * Body of PATCH /v1/workloads/:id (cluster and namespace are fixed); only the fields sent change, and `env` replaces the
 * whole map. Written out without defaults: zod keeps `.default()` under `.partial()`.
 */
export const workloadUpdate = z.strictObject({
  image: spec.image.optional(),
  command: spec.command.nullable(),
  args: spec.args.nullable(),
  env: spec.env.optional(),
  ports: spec.ports.optional(),
  replicas: spec.replicas.optional(),
  resources: spec.resources.optional(),
  healthCheck: spec.healthCheck.optional(),
  volumes: spec.volumes.optional(),
  stateful: spec.stateful.optional(),
  serviceType: spec.serviceType.optional(),
  labels: spec.labels.optional(),
  annotations: spec.annotations.optional(),
  route: spec.route.optional(),
});
export type WorkloadUpdate = z.infer<typeof workloadUpdate>;

/** The stored definition a workload compiles from (secret values already split off). */
export interface WorkloadSpec {
  image: string;
  command?: string[];
  args?: string[];
  /** Secret entries hold `{ secret: true }`; their values live encrypted beside the spec. Infra references are pinned. */
  env: Record<string, string | { secret: true } | PinnedInfraRef>;
  ports: WorkloadPort[];
  replicas: number;
  resources: z.infer<typeof workloadResources>;
  healthCheck: z.infer<typeof healthCheck> | null;
  volumes: z.infer<typeof workloadVolume>[];
  stateful: boolean | null;
  serviceType: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'None';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  route: z.infer<typeof workloadRoute> | null;
}

/** A workload as the API returns it: secret env values show as `{"secret": true}`, never their value. */
export const workload = z.object({
  id: z.string(),
  cluster: z.string(),
  namespace: z.string(),
  image: z.string(),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  env: z.record(z.string(), z.union([z.string(), z.object({ secret: z.literal(true) }), infraRef.extend({ instance: z.string() })])),
  ports: z.array(workloadPort),
  replicas: z.number().int(),
  resources: workloadResources,
  healthCheck: healthCheck.nullable(),
  volumes: z.array(workloadVolume),
  stateful: z.boolean().nullable(),
  serviceType: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'None']),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
  route: workloadRoute.nullable(),
  routeId: z.string().nullable().describe('the route created for `route`, managed with the workload'),
  kind: z.enum(['Deployment', 'StatefulSet']).describe('what the workload compiles to'),
  health: workloadHealth
    .omit({ workload: true, namespace: true })
    .extend({ revision: z.number().int(), reportedAt: z.string() })
    .nullable()
    .optional()
    .describe(
      "GET /v1/workloads and /v1/workloads/{id} (not write answers): its pods as the cluster's agent last reported them; null before any report names it",
    ),
  ...resourceMeta,
});
export type Workload = z.infer<typeof workload>;

/** Answer of GET /v1/clusters/{id}/infra: what `{"infra": ...}` references in the cluster's workloads resolve against. */
export const clusterInfraList = z.object({
  items: z.array(infraInstance),
  reportedAt: z.string().nullable().describe("when the cluster's agent last reported a scan; null: never"),
});
