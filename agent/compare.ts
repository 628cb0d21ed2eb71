import { isDeepStrictEqual } from 'node:util';
import type { KObject } from './kube';

type Path = string[];

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Fields a manager never owns (identity and server-set metadata). */
const UNOWNED = new Set([
  'apiVersion',
  'kind',
  'status',
  'metadata.name',
  'metadata.namespace',
  'metadata.resourceVersion',
  'metadata.managedFields',
  'metadata.uid',
  'metadata.generation',
  'metadata.creationTimestamp',
]);

/** Leaf fields an applied configuration sets; lists and scalars are leaves (as a whole list is applied at once). */
export function leafPaths(value: unknown, prefix: Path = []): Path[] {
  if (!isMap(value)) return [prefix];
  const keys = Object.keys(value);
  if (keys.length === 0 && prefix.length > 0) return [prefix];
  return keys.flatMap((k) => {
    const path = [...prefix, k];
    return UNOWNED.has(path.join('.')) ? [] : leafPaths(value[k], path);
  });
}

/** The leaf paths of a managedFields FieldsV1 set; `k:`/`v:`/`i:` list members count as their list. */
export function fieldsV1Paths(fields: unknown, prefix: Path = []): Path[] {
  if (!isMap(fields)) return [];
  const keys = Object.keys(fields).filter((k) => k.startsWith('f:'));
  if (keys.length === 0) return prefix.length ? [prefix] : [];
  return keys.flatMap((k) => fieldsV1Paths(fields[k], [...prefix, k.slice(2)]));
}

const at = (value: unknown, path: Path): unknown => path.reduce<unknown>((node, key) => (isMap(node) ? node[key] : undefined), value);

/** A Secret's stringData as the server stores it (base64 data), so comparison sees what the server has. */
export function normalise(object: KObject): KObject {
  if (object.kind !== 'Secret' || !isMap(object.stringData)) return object;
  const { stringData, ...rest } = object;
  const data: Record<string, unknown> = { ...(isMap(rest.data) ? rest.data : {}) };
  for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v)).toString('base64');
  return { ...rest, data } as KObject;
}

const key = (p: Path) => p.join('\u0000');

/**
 * Whether applying `desired` would change nothing: every field it sets already has that value, and edgeplane's
 * managed set is exactly those fields (otherwise a field edgeplane stopped setting still needs removing).
 */
export function upToDate(desired: KObject, live: KObject): boolean {
  const want = normalise(desired);
  const paths = leafPaths(want);
  for (const path of paths) if (!isDeepStrictEqual(at(want, path), at(live, path))) return false;
  const mine = (live.metadata.managedFields ?? []).filter((m) => m.manager === 'edgeplane' && m.operation === 'Apply');
  if (mine.length !== 1) return false;
  const owned = new Set(fieldsV1Paths(mine[0]?.fieldsV1).map(key));
  const wanted = new Set(paths.map(key));
  return owned.size === wanted.size && [...wanted].every((p) => owned.has(p));
}
