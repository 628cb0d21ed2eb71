import { CLUSTER_LABEL, MANAGED_BY, MANAGED_BY_LABEL } from '../src/shared/kube/labels';
import { apiVersionOf, identityKey, objectKey, parseIdentityKey, versionOf } from '../src/shared/kube/object-key';
import type { KObject, ObjectRef } from './kube';

/**
 * One object edgeplane may own. `key` is its identity without the version (`group/kind/namespace/name`), so a bundle
 * that moves the object to another apiVersion still holds it and prune leaves it alone; `apiVersion` is the version it
 * was last applied with, the one prune addresses it by.
 */
export interface InventoryEntry {
  key: string;
  apiVersion: string;
}

/** The inventory entries of a bundle's objects. */
export const inventoryOf = (objects: KObject[]): InventoryEntry[] => objects.map((o) => ({ key: objectKey(o), apiVersion: o.apiVersion }));

/** The object an entry names, to read or delete it. */
export function refOfEntry(entry: InventoryEntry): ObjectRef {
  const parts = parseIdentityKey(entry.key);
  return {
    apiVersion: entry.apiVersion,
    kind: parts?.kind ?? '',
    name: parts?.name ?? '',
    ...(parts?.namespace ? { namespace: parts.namespace } : {}),
  };
}

/** Entries merged by key (a later entry's apiVersion wins) and sorted by key: one entry per object. */
function merge(...lists: InventoryEntry[][]): InventoryEntry[] {
  const byKey = new Map<string, InventoryEntry>();
  for (const list of lists) for (const entry of list) byKey.set(entry.key, entry);
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** An inventory with one entry per object, sorted by key. */
export const normaliseInventory = (entries: InventoryEntry[]): InventoryEntry[] => merge(entries);

/**
 * The inventory to record before applying: everything previously recorded plus everything about to be applied. If the
 * agent dies mid-apply, the next run still knows every object it may have created, so nothing is orphaned. An object
 * already recorded keeps its recorded apiVersion: it exists under that one, while the bundle's may not be applied (or
 * served) yet; `recordApplied` moves it once it is.
 */
export const pendingInventory = (previous: InventoryEntry[], next: InventoryEntry[]): InventoryEntry[] => merge(next, previous);

/** The inventory with the objects applied in this pass recorded under the apiVersion they were applied with. */
export const recordApplied = (inventory: InventoryEntry[], applied: InventoryEntry[]): InventoryEntry[] => merge(inventory, applied);

/** Whether a live object carries edgeplane's labels for this cluster (a precondition of pruning it). */
export function ownedByEdgeplane(live: KObject, clusterId: string): boolean {
  const labels = live.metadata.labels ?? {};
  return labels[MANAGED_BY_LABEL] === MANAGED_BY[MANAGED_BY_LABEL] && labels[CLUSTER_LABEL] === clusterId;
}

/**
 * The inventory as the state ConfigMap stores it: `[{"id":"<group>/<kind>/<namespace>/<name>","v":"<version>"}]`, the
 * id without the version and the version beside it (as Flux stores its inventory).
 */
export const encodeInventory = (entries: InventoryEntry[]): string =>
  JSON.stringify(normaliseInventory(entries).map((e) => ({ id: e.key, v: versionOf(e.apiVersion) })));

/** An entry of the first format, `apiVersion/kind/namespace/name` (the apiVersion may hold a `/`), or undefined. */
function fromVersionedKey(key: string): InventoryEntry | undefined {
  const parts = key.split('/');
  const name = parts.pop();
  const namespace = parts.pop();
  const kind = parts.pop();
  const apiVersion = parts.join('/');
  if (!name || namespace === undefined || !kind || !apiVersion) return undefined;
  return { key: identityKey({ apiVersion, kind, namespace, name }), apiVersion };
}

function fromStored(value: unknown): InventoryEntry | undefined {
  if (typeof value === 'string') return fromVersionedKey(value);
  if (typeof value !== 'object' || value === null) return undefined;
  const { id, v } = value as { id?: unknown; v?: unknown };
  if (typeof id !== 'string' || typeof v !== 'string' || !v) return undefined;
  const parts = parseIdentityKey(id);
  return parts ? { key: id, apiVersion: apiVersionOf(parts.group, v) } : undefined;
}

/**
 * Reads a stored inventory, migrating entries of the first format (strings `apiVersion/kind/namespace/name`, written
 * by agents before the version left the key) to the current one. An object recorded under two apiVersions (a
 * version move the old format could not see as one object) becomes one entry. `current` is false when anything was
 * migrated or dropped, so the caller rewrites it. An entry that cannot be read is dropped: that object is then never
 * pruned, which is the safe side; a damaged whole reads as empty for the same reason.
 */
export function decodeInventory(text: string | undefined): { entries: InventoryEntry[]; current: boolean } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '[]');
  } catch {
    return { entries: [], current: false };
  }
  if (!Array.isArray(parsed)) return { entries: [], current: false };
  const entries: InventoryEntry[] = [];
  let current = true;
  for (const value of parsed) {
    const entry = fromStored(value);
    if (!entry || typeof value === 'string') current = false;
    if (entry) entries.push(entry);
  }
  const merged = normaliseInventory(entries);
  return { entries: merged, current: current && merged.length === entries.length };
}
