import type { WorkloadPort, WorkloadSpec } from '../api/workload';
import { canonicalJson } from './canonical-json';
import { compileInfraRef } from './infra-refs';
import type { InfraInstance } from '../kube/infra';
import { CLUSTER_LABEL, MANAGED_BY, WORKLOAD_LABEL } from '../kube/labels';
import { base64Utf8 } from './names';
import { sha256Hex } from './sha256';
import type { KubeObject } from './types';

export { WORKLOAD_LABEL };

/** Pod-template annotation: a hash of the env ConfigMap and Secret, so an env change rolls the pods (envFrom does not). */
export const ENV_HASH_ANNOTATION = 'edgeplane.dev/env-hash';

/**
 * Annotation on objects the agent must never delete when they leave the bundle: a workload's Namespace may hold things
 * edgeplane did not create, and deleting a Namespace deletes everything in it.
 */
export const PRUNE_ANNOTATION = 'edgeplane.dev/prune';

/** Everything the compiler needs about one workload: its definition and its decrypted secret env values. */
export interface DesiredWorkload {
  id: string;
  namespace: string;
  spec: WorkloadSpec;
  /** Secret env values by name, decrypted only while the cluster's bundle is built. */
  secrets: Record<string, string>;
}

/** Env names that mark a value as sensitive: it goes to the Secret even when given as plain text. */
const SENSITIVE = /(^|_)(KEY|API_KEY|PASSWORD|PASSWD|PASS|TOKEN|SECRET|CREDENTIALS)$/;

/** True for env names such as `AWS_SECRET_ACCESS_KEY`, `POSTGRES_PASSWORD`, `API_TOKEN` whose values are secrets. */
export const isSensitiveEnvName = (name: string): boolean => SENSITIVE.test(name.toUpperCase());

/** Images whose containers keep state: without an explicit choice they become StatefulSets. */
const STATEFUL_IMAGES =
  /^(?:[^/]+\/)*(postgres|postgis|mysql|mariadb|mongo|mongodb|redis|valkey|minio|qdrant|neo4j|rabbitmq|elasticsearch|opensearch|clickhouse|etcd|cassandra|influxdb|timescaledb)(?::|@|$)/;

/** Whether a workload compiles to a StatefulSet: as asked, else when it has volumes or runs a known database image. */
export function isStateful(spec: Pick<WorkloadSpec, 'stateful' | 'volumes' | 'image'>): boolean {
  if (spec.stateful !== null) return spec.stateful;
  return spec.volumes.length > 0 || STATEFUL_IMAGES.test(spec.image.toLowerCase());
}

/** Names well-known ports get; others are `http` (TCP) or `udp`. */
const WELL_KNOWN: Record<number, string> = {
  443: 'https',
  8443: 'https',
  5432: 'postgres',
  3306: 'mysql',
  27017: 'mongo',
  6379: 'redis',
  5672: 'amqp',
  6333: 'qdrant-http',
  6334: 'qdrant-grpc',
  7687: 'bolt',
  9000: 'minio',
  9001: 'minio-console',
  8815: 'flight',
};

/** A port with its resolved name and protocol. */
export interface NamedPort {
  port: number;
  name: string;
  protocol: 'TCP' | 'UDP';
}

/**
 * Gives every port a unique name that is a DNS-1123 label of at most 15 characters with a letter (what Kubernetes
 * requires of container and Service port names): names given are kept, the others come from the port (`postgres`,
 * `https`) or the protocol (`http`, `udp`), and a repeat gets `-2`, `-3`, ... cut to fit.
 */
export function namePorts(ports: readonly WorkloadPort[]): NamedPort[] {
  const normalised = ports.map((p) => (typeof p === 'number' ? { port: p, protocol: 'TCP' as const } : p));
  const taken = new Set(normalised.flatMap((p) => ('name' in p && p.name ? [p.name] : [])));
  return normalised.map((p) => {
    if ('name' in p && p.name) return { port: p.port, name: p.name, protocol: p.protocol };
    const base = WELL_KNOWN[p.port] ?? (p.protocol === 'UDP' ? 'udp' : 'http');
    let name = base;
    for (let n = 2; taken.has(name); n++) {
      const suffix = `-${n}`;
      name = `${base.slice(0, 15 - suffix.length).replace(/-+$/, '')}${suffix}`;
    }
    taken.add(name);
    return { port: p.port, name, protocol: p.protocol };
  });
}

/** Names of one workload's objects. */
export const workloadNames = (id: string) => ({
  env: `${id}-env`,
  service: id,
  workload: id,
  claim: (volume: string) => `${id}-${volume}`,
});

/**
 * Splits env into the ConfigMap's data and the Secret's (given secrets plus plain values under sensitive names). Infra
 * references become their instance's address (or host, port, url) from `infra`, and go where a plain value would.
 */
export function splitEnv(
  w: DesiredWorkload,
  infra: readonly InfraInstance[] = [],
): { config: Record<string, string>; secret: Record<string, string> } {
  const config: Record<string, string> = {};
  const secret: Record<string, string> = {};
  for (const name of Object.keys(w.spec.env).sort()) {
    const stored = w.spec.env[name];
    if (stored === undefined) continue;
    const value = typeof stored === 'object' && 'infra' in stored ? compileInfraRef(stored, infra) : stored;
    if (typeof value === 'string' && !isSensitiveEnvName(name)) config[name] = value;
    else secret[name] = typeof value === 'string' ? value : (w.secrets[name] ?? '');
  }
  return { config, secret };
}

const labelsOf = (clusterId: string, w: DesiredWorkload): Record<string, string> => ({
  ...w.spec.labels,
  ...MANAGED_BY,
  [CLUSTER_LABEL]: clusterId,
  [WORKLOAD_LABEL]: w.id,
});

const selectorOf = (w: DesiredWorkload) => ({ 'app.kubernetes.io/name': w.id, [WORKLOAD_LABEL]: w.id });

const metadataOf = (clusterId: string, w: DesiredWorkload, name: string) => ({
  name,
  namespace: w.namespace,
  labels: labelsOf(clusterId, w),
  ...(Object.keys(w.spec.annotations).length > 0 ? { annotations: sortedRecord(w.spec.annotations) } : {}),
});

const sortedRecord = (r: Record<string, string>): Record<string, string> =>
  Object.fromEntries(
    Object.keys(r)
      .sort()
      .map((k) => [k, r[k] ?? '']),
  );

/** Resources with empty parts dropped, so `{}` and `{requests: {}}` compile alike. */
function resourcesOf(spec: WorkloadSpec): Record<string, Record<string, string>> | undefined {
  let out: Record<string, Record<string, string>> | undefined;
  for (const part of ['requests', 'limits'] as const) {
    const value = spec.resources[part];
    if (!value) continue;
    let sorted: Record<string, string> | undefined;
    for (const key of Object.keys(value).sort()) {
      const quantity: unknown = value[key as keyof typeof value];
      if (typeof quantity !== 'string') continue;
      sorted ??= {};
      sorted[key] = quantity;
    }
    if (sorted) {
      out ??= {};
      out[part] = sorted;
    }
  }
  return out;
}

function probes(spec: WorkloadSpec, ports: NamedPort[]): Record<string, unknown> {
  const check = spec.healthCheck;
  if (!check) return {};
  const target = ports.find((p) => p.port === (check.port ?? ports[0]?.port)) ?? ports[0];
  if (!target) return {};
  const httpGet = { path: check.path, port: target.name };
  // Readiness gates traffic quickly; liveness waits longer and tolerates more failures, so a slow start is not a restart loop.
  return {
    readinessProbe: { httpGet, initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
    livenessProbe: { httpGet, initialDelaySeconds: 30, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 6 },
  };
}

function podTemplate(clusterId: string, w: DesiredWorkload, env: ReturnType<typeof splitEnv>, ports: NamedPort[]) {
  const names = workloadNames(w.id);
  const hasConfig = Object.keys(env.config).length > 0;
  const hasSecret = Object.keys(env.secret).length > 0;
  const envFrom = [
    ...(hasConfig ? [{ configMapRef: { name: names.env } }] : []),
    ...(hasSecret ? [{ secretRef: { name: names.env } }] : []),
  ];
  const resources = resourcesOf(w.spec);
  const container = {
    name: w.id,
    image: w.spec.image,
    ...(w.spec.command ? { command: [...w.spec.command] } : {}),
    ...(w.spec.args ? { args: [...w.spec.args] } : {}),
    ...(envFrom.length > 0 ? { envFrom } : {}),
    ...(ports.length > 0 ? { ports: ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: p.protocol })) } : {}),
    ...probes(w.spec, ports),
    ...(resources ? { resources } : {}),
    ...(w.spec.volumes.length > 0
      ? { volumeMounts: w.spec.volumes.map((v) => ({ name: v.name, mountPath: v.mountPath, ...(v.readOnly ? { readOnly: true } : {}) })) }
      : {}),
  };
  const annotations = envFrom.length > 0 ? { [ENV_HASH_ANNOTATION]: sha256Hex(canonicalJson(env)).slice(0, 16) } : undefined;
  return {
    metadata: { labels: { ...labelsOf(clusterId, w), ...selectorOf(w) }, ...(annotations ? { annotations } : {}) },
    spec: {
      containers: [container],
      ...(w.spec.volumes.length > 0
        ? { volumes: w.spec.volumes.map((v) => ({ name: v.name, persistentVolumeClaim: { claimName: names.claim(v.name) } })) }
        : {}),
    },
  };
}

/**
 * One workload's objects: a ConfigMap for plain env and a Secret for sensitive env (both through `envFrom`, each only
 * when non-empty), a Deployment — or a StatefulSet with a PersistentVolumeClaim per named volume for stateful services —
 * and a Service with uniquely named ports (none for `serviceType: None` or no ports). Deterministic: env keys sorted,
 * fixed key order.
 */
export function workloadObjects(clusterId: string, w: DesiredWorkload, infra: readonly InfraInstance[] = []): KubeObject[] {
  const names = workloadNames(w.id);
  const env = splitEnv(w, infra);
  const ports = namePorts(w.spec.ports);
  const objects: KubeObject[] = [];
  if (Object.keys(env.config).length > 0) {
    objects.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: metadataOf(clusterId, w, names.env), data: env.config });
  }
  if (Object.keys(env.secret).length > 0) {
    const data = Object.fromEntries(Object.entries(env.secret).map(([k, v]) => [k, base64Utf8(v)]));
    objects.push({ apiVersion: 'v1', kind: 'Secret', metadata: metadataOf(clusterId, w, names.env), type: 'Opaque', data });
  }
  const stateful = isStateful(w.spec);
  const template = podTemplate(clusterId, w, env, ports);
  const selector = { matchLabels: selectorOf(w) };
  // One claim per named volume, mounted by name; a Deployment with volumes (`stateful: false`) mounts them the same way.
  for (const v of w.spec.volumes) {
    objects.push({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: metadataOf(clusterId, w, names.claim(v.name)),
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: v.size } } },
    });
  }
  objects.push(
    stateful
      ? {
          apiVersion: 'apps/v1',
          kind: 'StatefulSet',
          metadata: metadataOf(clusterId, w, names.workload),
          spec: { replicas: w.spec.replicas, serviceName: names.service, selector, template },
        }
      : {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: metadataOf(clusterId, w, names.workload),
          spec: { replicas: w.spec.replicas, revisionHistoryLimit: 3, selector, template },
        },
  );
  if (w.spec.serviceType !== 'None' && ports.length > 0) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: metadataOf(clusterId, w, names.service),
      spec: {
        type: w.spec.serviceType,
        selector: selectorOf(w),
        ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.name, protocol: p.protocol })),
      },
    });
  }
  return objects;
}

/** The Namespace of workloads, kept (never pruned) since it may hold what edgeplane did not create. */
export function workloadNamespace(clusterId: string, namespace: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespace, labels: { ...MANAGED_BY, [CLUSTER_LABEL]: clusterId }, annotations: { [PRUNE_ANNOTATION]: 'keep' } },
  };
}
