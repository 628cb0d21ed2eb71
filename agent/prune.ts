import type { ObjectResult } from '../src/shared/api/agent';
import { ownedByEdgeplane, refOfEntry, type InventoryEntry } from './inventory';
import type { Kube } from './kube';

/** The annotation (set by the compiler on workload Namespaces) that keeps an object when it leaves the bundle. */
export const PRUNE_ANNOTATION = 'edgeplane.dev/prune';

export interface PrunePlan {
  delete: string[];
  /** Why nothing is deleted this pass, when the plan was refused. */
  refused?: string;
}

/**
 * Which objects to delete: the keys in the previous inventory and gone from the new bundle. Keys leave the version out,
 * so an object the bundle moved to another apiVersion is still in it and never deleted. Refuses when that is more
 * than `maxDeletes`, or when an empty bundle would remove everything and the cluster was not deliberately emptied.
 */
export function planPrune(previous: string[], next: string[], prune: { maxDeletes: number; allowEmpty: boolean }): PrunePlan {
  const keep = new Set(next);
  const gone = previous.filter((k) => !keep.has(k)).sort();
  if (gone.length === 0) return { delete: [] };
  if (next.length === 0 && !prune.allowEmpty) {
    return {
      delete: [],
      refused: `the bundle is empty and would prune all ${gone.length} objects; refused (the cluster was not deliberately emptied)`,
    };
  }
  if (gone.length > prune.maxDeletes) {
    return { delete: [], refused: `pruning ${gone.length} objects exceeds the limit of ${prune.maxDeletes} per pass; nothing was deleted` };
  }
  return { delete: gone };
}

/** Namespaces go last, so what lives in them is deleted by name first. */
const order = (entries: InventoryEntry[]) =>
  [...entries].sort((a, b) => Number(refOfEntry(a).kind === 'Namespace') - Number(refOfEntry(b).kind === 'Namespace'));

/**
 * Deletes the planned objects (addressed by the apiVersion each was last applied with), each only if it still carries
 * edgeplane's labels for this cluster. Returns one result per entry and the keys that are gone (deleted now or already
 * missing).
 */
export async function executePrune(
  kube: Kube,
  entries: InventoryEntry[],
  clusterId: string,
): Promise<{ results: ObjectResult[]; gone: string[] }> {
  const results: ObjectResult[] = [];
  const gone: string[] = [];
  for (const entry of order(entries)) {
    const key = entry.key;
    const ref = refOfEntry(entry);
    const id = { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) };
    const live = await kube.get(ref);
    if (!live.ok) {
      if (live.status === 404) gone.push(key);
      else results.push({ ...id, action: 'error', message: `read before prune failed (${live.status}): ${live.error.message ?? ''}` });
      continue;
    }
    if (!ownedByEdgeplane(live.value, clusterId)) {
      results.push({ ...id, action: 'prune_refused', message: "not deleted: it no longer carries edgeplane's labels for this cluster" });
      gone.push(key);
      continue;
    }
    // A workload Namespace may hold what edgeplane did not create, and deleting it deletes all of that: it is left in place.
    if (live.value.metadata.annotations?.[PRUNE_ANNOTATION] === 'keep') {
      results.push({
        ...id,
        action: 'prune_refused',
        message: `kept: marked ${PRUNE_ANNOTATION}=keep; delete it by hand if it is no longer needed`,
      });
      gone.push(key);
      continue;
    }
    const removed = await kube.delete(ref);
    if (removed.ok || removed.status === 404) {
      gone.push(key);
      results.push({ ...id, action: 'pruned' });
    } else results.push({ ...id, action: 'error', message: `delete failed (${removed.status}): ${removed.error.message ?? ''}` });
  }
  return { results, gone };
}
