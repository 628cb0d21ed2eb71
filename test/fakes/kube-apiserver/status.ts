import type { ResourceType } from './resources';

/** The body of a failed request: Kubernetes' `Status` object. */
export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; causes?: { reason: string; message: string; field: string }[] };
  code: number;
}

const qualified = (type: ResourceType) => (type.group ? `${type.plural}.${type.group}` : type.plural);

export const notFound = (type: ResourceType, name: string): StatusBody => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: `${qualified(type)} "${name}" not found`,
  reason: 'NotFound',
  details: { name, group: type.group, kind: type.plural },
  code: 404,
});

export const namespaceNotFound = (namespace: string): StatusBody => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: `namespaces "${namespace}" not found`,
  reason: 'NotFound',
  details: { name: namespace, kind: 'namespaces' },
  code: 404,
});

/** 409 exactly as kube-apiserver words an apply conflict. */
export function conflict(
  type: ResourceType,
  name: string,
  conflicts: { manager: string; apiVersion: string; field: string }[],
): StatusBody {
  const managers = [...new Set(conflicts.map((c) => c.manager))];
  const first = conflicts[0];
  const message =
    conflicts.length === 1 && first
      ? `Apply failed with 1 conflict: conflict with "${first.manager}" using ${first.apiVersion}: ${first.field}`
      : `Apply failed with ${conflicts.length} conflicts: ${managers
          .map((m) => {
            const mine = conflicts.filter((c) => c.manager === m);
            return `conflicts with "${m}" using ${mine[0]?.apiVersion ?? ''}:\n${mine.map((c) => `- ${c.field}`).join('\n')}`;
          })
          .join('\n')}`;
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'Conflict',
    details: {
      name,
      group: type.group,
      kind: type.plural,
      causes: conflicts.map((c) => ({
        reason: 'FieldManagerConflict',
        message: `conflict with "${c.manager}" using ${c.apiVersion}`,
        field: c.field,
      })),
    },
    code: 409,
  };
}

/** 422 Invalid with one cause per bad field. */
export function invalid(type: ResourceType, name: string, causes: { field: string; message: string }[]): StatusBody {
  const what = `${type.kind}${type.group ? `.${type.group}` : ''} "${name}"`;
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `${what} is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
    reason: 'Invalid',
    details: { name, group: type.group, kind: type.kind, causes: causes.map((c) => ({ reason: 'FieldValueInvalid', ...c })) },
    code: 422,
  };
}

/**
 * 422 from a ValidatingAdmissionPolicy whose validation failed: the policy's reason defaults to Invalid, and the
 * message names the policy and its binding as kube-apiserver words it.
 */
export function admissionDenied(type: ResourceType, name: string, policy: string, message: string): StatusBody {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `${qualified(type)} "${name}" is forbidden: ValidatingAdmissionPolicy '${policy}' with binding '${policy}-binding' denied request: ${message}`,
    reason: 'Invalid',
    details: { name, group: type.group, kind: type.plural },
    code: 422,
  };
}

export const badRequest = (message: string): StatusBody => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason: 'BadRequest',
  code: 400,
});

/**
 * 403 exactly as kube-apiserver words an RBAC refusal, e.g. `pods is forbidden: User "system:serviceaccount:edgeplane-system:
 * edgeplane-agent" cannot list resource "pods" in API group "" in the namespace "apps"`.
 */
export const forbidden = (type: ResourceType, verb: string, namespace: string | undefined, user: string): StatusBody => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: `${qualified(type)} is forbidden: User "${user}" cannot ${verb} resource "${type.plural}" in API group "${type.group}" ${
    namespace === undefined ? 'at the cluster scope' : `in the namespace "${namespace}"`
  }`,
  reason: 'Forbidden',
  details: { group: type.group, kind: type.plural },
  code: 403,
});
