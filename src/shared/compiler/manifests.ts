import { bundleHash } from './bundle-hash';
import { CONNECTOR_NAMESPACE, connectorNamespace, connectorObjects } from './connector-objects';
import { httpRouteObjects, ingressObjects } from './routing-objects';
import type { ClusterBundle, DesiredCluster, KubeObject } from './types';
import { infraCandidates } from './infra-refs';
import { workloadNamespace, workloadObjects } from './workload-objects';

/** Apply order: namespaces before what lives in them, Secrets before the Deployments that mount them. */
const KIND_ORDER = [
  'Namespace',
  'ConfigMap',
  'Secret',
  'PersistentVolumeClaim',
  'Service',
  'Deployment',
  'StatefulSet',
  'PodDisruptionBudget',
  'Ingress',
  'HTTPRoute',
];

const rank = (o: KubeObject): number => {
  const i = KIND_ORDER.indexOf(o.kind);
  return i < 0 ? KIND_ORDER.length : i;
};

/** Sort order of bundle objects: kind (apply order), then namespace, then name. */
export function compareObjects(a: KubeObject, b: KubeObject): number {
  return (
    rank(a) - rank(b) ||
    cmp(a.kind, b.kind) ||
    cmp(a.metadata.namespace ?? '', b.metadata.namespace ?? '') ||
    cmp(a.metadata.name, b.metadata.name)
  );
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Compiles a cluster's bundle (synchronous; runs in workerd, Node and browsers): per tunnel connector placed in the
 * cluster its Secret, Deployment and PodDisruptionBudget in the shared `edgeplane-tunnels` namespace, plus the
 * Ingresses (mode `ingress`) or HTTPRoutes (mode `gateway`) of its routes, plus each workload's objects and Namespace. Objects are sorted and built with a fixed
 * key order, so the same desired state gives byte-identical JSON and the same `hash` (SHA-256 of the canonical JSON).
 */
export function compileClusterBundle(desired: DesiredCluster): ClusterBundle {
  const clusterId = desired.cluster.id;
  const objects: KubeObject[] = [];
  if (desired.tunnels.length > 0) objects.push(connectorNamespace(clusterId));
  for (const tunnel of desired.tunnels) {
    objects.push(...connectorObjects(clusterId, tunnel), ...ingressObjects(clusterId, tunnel), ...httpRouteObjects(clusterId, tunnel));
  }
  const workloads = desired.workloads ?? [];
  const namespaces = new Set(workloads.map((w) => w.namespace));
  if (desired.tunnels.length > 0) namespaces.delete(CONNECTOR_NAMESPACE);
  for (const namespace of namespaces) objects.push(workloadNamespace(clusterId, namespace));
  // Infra references resolve against what the agent discovered and the cluster's own database workloads.
  const infra = infraCandidates(desired.infra ?? [], workloads);
  for (const workload of workloads) objects.push(...workloadObjects(clusterId, workload, infra));
  objects.sort(compareObjects);
  return { hash: bundleHash(objects), objects };
}

/** The annotation on a Secret whose data was removed before the bundle was shown to an API caller. */
export const REDACTED_ANNOTATION = 'edgeplane.dev/redacted';

/**
 * Copies bundle objects with every Secret's `data`/`stringData` removed and annotated as redacted: what the API shows.
 * Only the agent of the cluster ever receives the token.
 */
export function redactSecrets(objects: readonly KubeObject[]): KubeObject[] {
  return objects.map((o) => {
    if (o.kind !== 'Secret' || (o.data === undefined && o.stringData === undefined)) return o;
    const { data, stringData, ...rest } = o;
    const keys = Object.keys({ ...(data as object | undefined), ...(stringData as object | undefined) }).sort();
    return {
      ...rest,
      metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, [REDACTED_ANNOTATION]: keys.join(',') } },
    } as KubeObject;
  });
}
