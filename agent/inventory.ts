import { refKey, refOf, type KObject } from './kube';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const CLUSTER_LABEL = 'edgeplane.dev/cluster';

/** The inventory keys of a bundle's objects. */
export const inventoryOf = (objects: KObject[]): string[] => objects.map((o) => refKey(refOf(o)));

/** Whether a live object carries edgeplane's labels for this cluster (a precondition of pruning it). */
export function ownedByEdgeplane(live: KObject, clusterId: string): boolean {
  const labels = live.metadata.labels ?? {};
  return labels[MANAGED_BY_LABEL] === 'edgeplane' && labels[CLUSTER_LABEL] === clusterId;
}

/**
 * The inventory to record before applying: everything previously recorded plus everything about to be applied. If the
 * agent dies mid-apply, the next run still knows every object it may have created, so nothing is orphaned.
 */
export const pendingInventory = (previous: string[], next: string[]): string[] => [...new Set([...previous, ...next])].sort();
