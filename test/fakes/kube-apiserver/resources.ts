import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { HTTPRoute as HTTPRouteV1beta1 } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1/HTTPRoute';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Pod } from 'kubernetes-models/v1/Pod';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Node } from 'kubernetes-models/v1/Node';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';

/** One served resource: where it lives in the URL space and how its objects are validated. */
export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** Fields a client can never change once set; a change is a 422 "field is immutable", as in the real server. */
  immutable: string[][];
  /** Whether writes bump metadata.generation (kinds with a spec the controllers act on). */
  generation: boolean;
  /** Throws a kubernetes-models ValidationError for an object that does not match the schema. */
  validate: (object: Record<string, unknown>) => void;
}

type Model = new (data: never) => { validate(): void };

const validator = (model: Model) => (object: Record<string, unknown>) => new model(object as never).validate();

const r = (
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  model: Model,
  extra: Partial<Pick<ResourceType, 'immutable' | 'generation'>> = {},
): ResourceType => ({
  group,
  version,
  kind,
  plural,
  namespaced,
  immutable: extra.immutable ?? [],
  generation: extra.generation ?? false,
  validate: validator(model),
});

/**
 * The kinds edgeplane applies (and the agent's own RBAC), as served by the fake. A resource served in two versions is
 * listed once per version, the preferred (storage) version first: it is one object in two views, as the real server
 * converts between the versions of a resource (the Gateway API CRDs serve HTTPRoute as v1 and v1beta1).
 */
export const RESOURCES: ResourceType[] = [
  r('', 'v1', 'Namespace', 'namespaces', false, Namespace),
  r('', 'v1', 'Node', 'nodes', false, Node),
  r('', 'v1', 'Secret', 'secrets', true, Secret, { immutable: [['type']] }),
  r('', 'v1', 'ConfigMap', 'configmaps', true, ConfigMap),
  r('', 'v1', 'Service', 'services', true, Service, { immutable: [['spec', 'clusterIP']] }),
  r('', 'v1', 'ServiceAccount', 'serviceaccounts', true, ServiceAccount),
  // Pods are made by controllers and kubelets, not by edgeplane: the fake's Job controller (jobs.ts) makes them, and
  // tests put them with FakeKubeApiserver.putPod.
  r('', 'v1', 'Pod', 'pods', true, Pod, {
    immutable: [
      ['spec', 'nodeName'],
      ['spec', 'containers'],
    ],
  }),
  r('batch', 'v1', 'Job', 'jobs', true, Job, { immutable: [['spec', 'template']], generation: true }),
  r('apps', 'v1', 'Deployment', 'deployments', true, Deployment, { immutable: [['spec', 'selector']], generation: true }),
  r('apps', 'v1', 'StatefulSet', 'statefulsets', true, StatefulSet, {
    immutable: [
      ['spec', 'selector'],
      ['spec', 'serviceName'],
      ['spec', 'volumeClaimTemplates'],
    ],
    generation: true,
  }),
  r('', 'v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true, PersistentVolumeClaim, { immutable: [['spec', 'accessModes']] }),
  r('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true, PodDisruptionBudget, { generation: true }),
  r('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false, ClusterRole),
  r('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false, ClusterRoleBinding, {
    immutable: [['roleRef']],
  }),
  r('rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true, Role),
  r('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true, RoleBinding, { immutable: [['roleRef']] }),
  r('networking.k8s.io', 'v1', 'Ingress', 'ingresses', true, Ingress, { generation: true }),
  r('gateway.networking.k8s.io', 'v1', 'HTTPRoute', 'httproutes', true, HTTPRoute, { generation: true }),
  r('gateway.networking.k8s.io', 'v1beta1', 'HTTPRoute', 'httproutes', true, HTTPRouteV1beta1, { generation: true }),
];

/** The preferred (storage) version of a served resource: the one its objects are kept in, whatever version wrote them. */
export const storageType = (type: ResourceType): ResourceType =>
  RESOURCES.find((t) => t.group === type.group && t.plural === type.plural) ?? type;

/** "apps/v1", or "v1" for the core group. */
export const groupVersion = (t: Pick<ResourceType, 'group' | 'version'>): string => (t.group ? `${t.group}/${t.version}` : t.version);

/** The discovery document of one group version (`/api/v1`, `/apis/apps/v1`). */
export function resourceList(group: string, version: string): Record<string, unknown> | undefined {
  const types = RESOURCES.filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupVersion({ group, version }),
    resources: types.map((t) => ({
      name: t.plural,
      singularName: t.kind.toLowerCase(),
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    })),
  };
}

/** `/apis`: every non-core group with its versions, the first listed preferred. */
export function groupList(): Record<string, unknown> {
  const groups = new Map<string, string[]>();
  for (const t of RESOURCES.filter((x) => x.group)) {
    const versions = groups.get(t.group) ?? [];
    if (!versions.includes(t.version)) versions.push(t.version);
    groups.set(t.group, versions);
  }
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups].map(([name, versions]) => {
      const view = (version: string) => ({ groupVersion: `${name}/${version}`, version });
      return { name, versions: versions.map(view), preferredVersion: view(versions[0] ?? '') };
    }),
  };
}
