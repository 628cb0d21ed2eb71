import type { FieldConflict, ObjectResult } from '../src/shared/api/agent';
import { normalise, upToDate } from './compare';
import { refKey, refOf, type KObject, type KStatus, type Kube, type KubeResult } from './kube';

/** The annotation by which a desired object asks edgeplane to take fields other managers own (apply with force). */
export const TAKE_OWNERSHIP = 'edgeplane.dev/take-ownership';

/**
 * Fields Kubernetes refuses to change in place. A change to one of them deletes and recreates the object; any other 422
 * is reported, never forced.
 */
const IMMUTABLE: Record<string, string[]> = {
  Deployment: ['spec.selector'],
  DaemonSet: ['spec.selector'],
  StatefulSet: ['spec.selector', 'spec.serviceName', 'spec.volumeClaimTemplates'],
  Service: ['spec.clusterIP', 'spec.clusterIPs', 'spec.type'],
  Secret: ['type', 'data', 'immutable'],
  ConfigMap: ['data', 'immutable'],
  Job: ['spec.template', 'spec.selector', 'spec.completions'],
  RoleBinding: ['roleRef'],
  ClusterRoleBinding: ['roleRef'],
  PodDisruptionBudget: ['spec.selector'],
};

export interface ApplyOutcome {
  result: ObjectResult;
  conflicts: FieldConflict[];
  /** The live object after the call (when it exists), for health. */
  live?: KObject;
}

const describe = (o: KObject) => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  name: o.metadata.name,
  ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
});

/** Parses the managers out of a 409 Status: causes carry `conflict with "helm" using apps/v1` and the field. */
export function conflictsOf(object: KObject, status: KStatus): FieldConflict[] {
  const causes = status.details?.causes ?? [];
  const key = refKey(refOf(object));
  const found = causes.map((c) => ({
    object: key,
    field: c.field ?? '',
    manager: /conflict with "([^"]+)"/.exec(c.message ?? '')?.[1] ?? 'unknown',
  }));
  if (found.length > 0) return found;
  const m = /conflicts? with "([^"]+)"[^:]*:\s*(\S+)/.exec(status.message ?? '');
  return [{ object: key, field: m?.[2] ?? '', manager: m?.[1] ?? 'unknown' }];
}

export function isImmutableChange(object: KObject, status: KStatus): boolean {
  const fields = IMMUTABLE[object.kind] ?? [];
  const causes = status.details?.causes ?? [];
  const text = `${status.message ?? ''} ${causes.map((c) => `${c.field ?? ''} ${c.message ?? ''}`).join(' ')}`;
  if (!/immutable/i.test(text)) return false;
  return fields.some((f) => causes.some((c) => (c.field ?? '').replace(/^\./, '').startsWith(f)) || text.includes(f));
}

/**
 * Converges one object: reads it, writes nothing when it already matches, otherwise server-side applies it (field
 * manager `edgeplane`, force only with the take-ownership annotation). A 409 is reported with field and manager; a
 * known immutable-field 422 deletes and recreates; any other failure is reported.
 */
export async function applyObject(kube: Kube, desired: KObject, known?: KObject, knownCurrent = false): Promise<ApplyOutcome> {
  const object = normalise(desired);
  const id = describe(object);
  // `known` is the live object from this pass's list; without it (or if the list missed it) read it by name.
  // `knownCurrent`: the list already found it matching `desired` (and `known` may be only a stub).
  const live: KubeResult<KObject> = known ? { ok: true, status: 200, value: known } : await kube.get(refOf(object));
  if (live.ok && (knownCurrent || upToDate(object, live.value)))
    return { result: { ...id, action: 'unchanged' }, conflicts: [], live: live.value };
  if (!live.ok && live.status !== 404)
    return { result: { ...id, action: 'error', message: `read failed (${live.status}): ${live.error.message ?? ''}` }, conflicts: [] };

  const force = object.metadata.annotations?.[TAKE_OWNERSHIP] === 'true';
  const applied = await kube.apply(object, force);
  if (applied.ok) return { result: { ...id, action: live.ok ? 'configured' : 'created' }, conflicts: [], live: applied.value };

  if (applied.status === 409) {
    const conflicts = conflictsOf(object, applied.error);
    return { result: { ...id, action: 'conflict', message: applied.error.message ?? 'conflict' }, conflicts };
  }
  if (applied.status === 422 && live.ok && isImmutableChange(object, applied.error)) {
    const removed = await kube.delete(refOf(object));
    if (!removed.ok && removed.status !== 404)
      return {
        result: { ...id, action: 'error', message: `delete for recreate failed (${removed.status}): ${removed.error.message ?? ''}` },
        conflicts: [],
      };
    const again = await kube.apply(object, force);
    if (again.ok)
      return {
        result: { ...id, action: 'recreated', message: applied.error.message ?? 'immutable field changed' },
        conflicts: [],
        live: again.value,
      };
    return {
      result: { ...id, action: again.status === 422 ? 'invalid' : 'error', message: again.error.message ?? `status ${again.status}` },
      conflicts: [],
    };
  }
  return {
    result: { ...id, action: applied.status === 422 ? 'invalid' : 'error', message: `${applied.status}: ${applied.error.message ?? ''}` },
    conflicts: [],
  };
}
