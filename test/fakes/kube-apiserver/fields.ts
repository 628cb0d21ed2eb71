import { isDeepStrictEqual } from 'node:util';

/** A path to one owned field, e.g. ["spec", "replicas"]. Lists are atomic: a list is one field. */
export type FieldPath = string[];

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Fields that identify an object or belong to the server; no manager owns them. */
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

/** Every leaf field an applied configuration sets (maps are walked, lists and scalars are leaves). */
export function fieldPaths(object: Json, prefix: FieldPath = []): FieldPath[] {
  if (!isObject(object)) return [prefix];
  const keys = Object.keys(object);
  if (keys.length === 0 && prefix.length > 0) return [prefix];
  const paths: FieldPath[] = [];
  for (const key of keys) {
    const path = [...prefix, key];
    if (UNOWNED.has(path.join('.'))) continue;
    paths.push(...fieldPaths(object[key] ?? null, path));
  }
  return paths;
}

/** `.spec.replicas`, as Kubernetes prints a field in a conflict. */
export const printPath = (path: FieldPath): string => `.${path.join('.')}`;

/** Kubernetes' FieldsV1 encoding: `{"f:spec":{"f:replicas":{}}}`. */
export function toFieldsV1(paths: FieldPath[]): JsonObject {
  const root: JsonObject = {};
  for (const path of paths) {
    let node = root;
    for (const key of path) {
      const next = node[`f:${key}`];
      if (isObject(next)) node = next;
      else {
        const created: JsonObject = {};
        node[`f:${key}`] = created;
        node = created;
      }
    }
  }
  return root;
}

/** The leaf paths of a FieldsV1 set. */
export function fromFieldsV1(fields: Json, prefix: FieldPath = []): FieldPath[] {
  if (!isObject(fields)) return [];
  const keys = Object.keys(fields).filter((k) => k.startsWith('f:'));
  if (keys.length === 0) return prefix.length ? [prefix] : [];
  return keys.flatMap((k) => fromFieldsV1(fields[k] ?? null, [...prefix, k.slice(2)]));
}

/** Whether one path is the other or an ancestor of it (they then describe overlapping fields). */
export const overlaps = (a: FieldPath, b: FieldPath): boolean => {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
};

export function getAt(object: Json, path: FieldPath): Json | undefined {
  let node: Json | undefined = object;
  for (const key of path) {
    if (!isObject(node)) return undefined;
    node = node[key];
  }
  return node;
}

export function setAt(object: JsonObject, path: FieldPath, value: Json): void {
  let node = object;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (isObject(next)) node = next;
    else {
      const created: JsonObject = {};
      node[key] = created;
      node = created;
    }
  }
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = structuredClone(value);
}

/** Removes a field and any map it leaves empty (as the real server does when the last owner lets go). */
export function deleteAt(object: JsonObject, path: FieldPath): void {
  const parents: [JsonObject, string][] = [];
  let node = object;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (!isObject(next)) return;
    parents.push([node, key]);
    node = next;
  }
  const last = path[path.length - 1];
  if (last === undefined) return;
  delete node[last];
  for (let i = parents.length - 1; i >= 1; i--) {
    const entry = parents[i];
    if (!entry) break;
    const [parent, key] = entry;
    const child = parent[key];
    if (isObject(child) && Object.keys(child).length === 0) delete parent[key];
    else break;
  }
}

export const equal = (a: unknown, b: unknown): boolean => isDeepStrictEqual(a, b);
export { isObject };
