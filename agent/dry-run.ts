import type { DryRunObject } from '../src/shared/api/cluster-dry-run';
import { identityKey } from '../src/shared/kube/object-key';
import { conflictsOf, isImmutableChange, TAKE_OWNERSHIP } from './apply';
import { leafPaths, normalise } from './compare';
import { refOf, type Kube, type KObject, type KStatus } from './kube';
import { isDeepStrictEqual } from 'node:util';

/** Requests in flight at once: a dry run is two calls per object (read, then apply with dryRun=All). */
const CONCURRENCY = 8;
const MESSAGE_MAX = 2000;

const at = (value: unknown, path: string[]): unknown =>
  path.reduce<unknown>(
    (node, key) => (typeof node === 'object' && node !== null && !Array.isArray(node) ? (node as Record<string, unknown>)[key] : undefined),
    value,
  );

/**
 * The fields whose value an apply would change: every leaf of the live object and of the API server's dry-run answer
 * (server-set metadata and status aside), compared; a field only one side has was added or removed. Paths only.
 */
export function changedFields(live: KObject, after: KObject): string[] {
  const keys = new Map<string, string[]>();
  for (const path of [...leafPaths(live), ...leafPaths(after)]) keys.set(path.join('\u0000'), path);
  const changed: string[] = [];
  for (const path of keys.values()) if (!isDeepStrictEqual(at(live, path), at(after, path))) changed.push(`.${path.join('.')}`);
  return changed.sort();
}

/** A Secret's values (plain and base64) never leave the cluster in a message: the API server may quote them. */
function redactor(object: KObject): (text: string) => string {
  if (object.kind !== 'Secret') return (text) => text;
  const values: string[] = [];
  for (const field of ['data', 'stringData']) {
    const map = object[field];
    if (typeof map !== 'object' || map === null) continue;
    for (const v of Object.values(map as Record<string, unknown>)) {
      const text = String(v);
      if (text.length >= 4) values.push(text, Buffer.from(text).toString('base64'), Buffer.from(text, 'base64').toString('utf8'));
    }
  }
  const secrets = values.filter((v) => v.length >= 4);
  return (text) => secrets.reduce((out, v) => out.split(v).join('[redacted]'), text);
}

const statusText = (status: number, error: KStatus) => error.message ?? `status ${status}`;

/**
 * One object's verdict: read it, then server-side apply it exactly as a real pass would (field manager `edgeplane`,
 * force only with the take-ownership annotation) with dryRun=All, and classify the answer. `newNamespaces` are
 * namespaces the same bundle creates: an object inside one cannot be checked, as its namespace does not exist yet.
 */
export async function dryRunOne(kube: Kube, desired: KObject, newNamespaces: Set<string>): Promise<DryRunObject> {
  const object = normalise(desired);
  const ref = refOf(object);
  const redact = redactor(desired);
  const base = {
    key: identityKey({ ...ref, namespace: ref.namespace ?? null }),
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    namespace: ref.namespace ?? null,
    name: ref.name,
  };
  const message = (text: string) => ({ message: redact(text).slice(0, MESSAGE_MAX) });
  const live = await kube.get(ref);
  if (!live.ok && live.status !== 404)
    return { ...base, outcome: 'error', ...message(`read failed (${live.status}): ${statusText(live.status, live.error)}`) };
  const force = object.metadata.annotations?.[TAKE_OWNERSHIP] === 'true';
  const applied = await kube.apply(object, force, { dryRun: true });
  if (applied.ok) {
    if (!live.ok) return { ...base, outcome: 'created' };
    const fields = changedFields(live.value, applied.value);
    return fields.length === 0 ? { ...base, outcome: 'unchanged' } : { ...base, outcome: 'changed', fields: fields.slice(0, 200) };
  }
  if (applied.status === 409) {
    const conflicts = conflictsOf(object, applied.error).map((c) => ({ field: c.field, manager: c.manager }));
    return { ...base, outcome: 'conflict', conflicts: conflicts.slice(0, 200), ...message(statusText(applied.status, applied.error)) };
  }
  if (applied.status === 422 && live.ok && isImmutableChange(object, applied.error)) {
    // A real pass deletes and recreates the object (agent/apply.ts): that is a change, not a refusal.
    const fields = (applied.error.details?.causes ?? []).map((c) => `.${(c.field ?? '').replace(/^\./, '')}`).filter((f) => f !== '.');
    return {
      ...base,
      outcome: 'changed',
      fields: [...new Set(fields)].slice(0, 200),
      ...message(`would be deleted and recreated: ${statusText(applied.status, applied.error)}`),
    };
  }
  if (applied.status === 422) return { ...base, outcome: 'invalid', ...message(statusText(applied.status, applied.error)) };
  if (applied.status === 404 && ref.namespace && newNamespaces.has(ref.namespace))
    return {
      ...base,
      outcome: 'unchecked',
      ...message(
        `not checked: its namespace "${ref.namespace}" does not exist yet (this bundle creates it), so the API server cannot dry-run objects in it`,
      ),
    };
  return { ...base, outcome: 'error', ...message(`${applied.status}: ${statusText(applied.status, applied.error)}`) };
}

/** Dry-runs a whole bundle, namespaces first (as a pass applies them), keeping the bundle's order in the answer. */
export async function dryRunBundle(kube: Kube, objects: KObject[]): Promise<DryRunObject[]> {
  const results: DryRunObject[] = new Array<DryRunObject>(objects.length);
  const newNamespaces = new Set<string>();
  const order = objects.map((o, i) => ({ o, i }));
  for (const { o, i } of order.filter((x) => x.o.kind === 'Namespace')) {
    const result = await dryRunOne(kube, o, newNamespaces);
    if (result.outcome === 'created') newNamespaces.add(o.metadata.name);
    results[i] = result;
  }
  const rest = order.filter((x) => x.o.kind !== 'Namespace');
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, rest.length) }, async () => {
      while (next < rest.length) {
        const item = rest[next++];
        if (item) results[item.i] = await dryRunOne(kube, item.o, newNamespaces);
      }
    }),
  );
  return results;
}
