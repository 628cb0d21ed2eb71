import type { DesiredBundle, ObjectResult } from '../src/shared/api/agent';
import { ownedByEdgeplane, refOfEntry, type InventoryEntry } from './inventory';
import { type Kube, NOT_SERVED } from './kube';

/** The annotation (set by the compiler on workload Namespaces) that keeps an object when it leaves the bundle. */
export const PRUNE_ANNOTATION = 'edgeplane.dev/prune';

export interface PrunePlan {
  delete: string[];
  /** Why nothing is deleted this pass, when the plan was refused (names the revision and the objects). */
  refused?: string;
  /** The identity keys of a refused set: what an approval of this revision covers. */
  refusedObjects?: string[];
  /** The revision of the operator's approval the deletions go ahead under. */
  approved?: number;
}

/** What the breaker reads besides the two inventories: the bundle's revision, the clock and the agent's prune memory. */
export interface PruneContext {
  clusterId: string;
  revision: number;
  now: number;
  /** When each object the agent pruned without an approval was deleted (ms), as its state ConfigMap keeps them. */
  deletions: number[];
  /** The revision of the last approval the agent pruned under (0: none); an approval is used once. */
  approvalUsed: number;
}

/** The refusal's text: the revision, the objects (the first few; the report lists them all) and the way forward. */
function refusal(ctx: PruneContext, gone: string[], why: string): string {
  const shown = gone.slice(0, 5).join(', ') + (gone.length > 5 ? `, and ${gone.length - 5} more` : '');
  const text =
    `revision ${ctx.revision}: ${why}; nothing was deleted. Objects: ${shown}. Approve exactly this set with ` +
    `POST /v1/clusters/${ctx.clusterId}/prune-approvals {"revision": ${ctx.revision}}`;
  return text.length > 1000 ? `${text.slice(0, 999)}…` : text;
}

/** Deletions the agent made without an approval within the window ending at `now`. */
export const deletionsInWindow = (deletions: number[], windowSeconds: number, now: number): number[] =>
  deletions.filter((at) => at > now - windowSeconds * 1000 && at <= now);

/**
 * Which objects to delete: the keys in the previous inventory and gone from the new bundle. Keys leave the version out,
 * so an object the bundle moved to another apiVersion is still in it and never deleted.
 *
 * The breaker counts deletions over a window, not per pass, so twelve small deletes in a row trip it the same way as
 * one large one, however the passes fall: it refuses when the deletions already made in the window plus this set
 * exceed `maxDeletes`, or when an empty bundle would remove everything and the cluster was not deliberately emptied.
 * An operator's approval of a refused revision lets exactly that set (or part of it) through, once; a larger or other
 * set is refused again.
 */
export function planPrune(previous: string[], next: string[], prune: DesiredBundle['prune'], ctx: PruneContext): PrunePlan {
  const keep = new Set(next);
  const gone = previous.filter((k) => !keep.has(k)).sort();
  if (gone.length === 0) return { delete: [] };
  const approval = prune.approval;
  if (approval && approval.revision > ctx.approvalUsed) {
    const approved = new Set(approval.objects);
    if (gone.every((k) => approved.has(k))) return { delete: gone, approved: approval.revision };
  }
  if (next.length === 0 && !prune.allowEmpty) {
    return {
      delete: [],
      refused: refusal(
        ctx,
        gone,
        `the bundle is empty and would prune all ${gone.length} objects (the cluster was not deliberately emptied)`,
      ),
      refusedObjects: gone,
    };
  }
  const recent = deletionsInWindow(ctx.deletions, prune.windowSeconds, ctx.now).length;
  if (recent + gone.length > prune.maxDeletes) {
    const minutes = Math.round(prune.windowSeconds / 60);
    const window = minutes >= 1 ? `${minutes} minute${minutes === 1 ? '' : 's'}` : `${prune.windowSeconds} s`;
    const earlier = recent > 0 ? ` after ${recent} already deleted` : '';
    return {
      delete: [],
      refused: refusal(
        ctx,
        gone,
        `pruning ${gone.length} objects${earlier} exceeds this cluster's limit of ${prune.maxDeletes} deletions per ${window}`,
      ),
      refusedObjects: gone,
    };
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
      if (live.status === 404 && live.error.reason === NOT_SERVED) {
        // It cannot be read or deleted through the apiVersion it was applied with. Forgotten rather than retried on every
        // pass (a removed CRD takes its objects with it), but said: under a newer apiVersion it may still exist.
        results.push({
          ...id,
          action: 'prune_refused',
          message: `not deleted, and no longer tracked: ${live.error.message ?? 'its kind is not served'}; if it still exists under another apiVersion, delete it by hand`,
        });
        gone.push(key);
      } else if (live.status === 404) gone.push(key);
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
