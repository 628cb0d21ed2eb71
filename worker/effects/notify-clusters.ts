import { inList } from '../db/json-list';
import { clusters } from '../db/schema';
import type { Deps } from '../deps';

/** Tells the clusters' notifiers their new desired revisions (after a committed write; failures only delay the agent). */
export async function notifyClusters(deps: Pick<Deps, 'db' | 'env'>, clusterIds: string[]): Promise<void> {
  if (clusterIds.length === 0) return;
  const rows = await deps.db
    .select({ id: clusters.id, revision: clusters.desiredRevision })
    .from(clusters)
    .where(inList(clusters.id, clusterIds));
  await Promise.all(
    rows.map(async (r) => {
      try {
        await deps.env.CLUSTER_NOTIFIER.get(deps.env.CLUSTER_NOTIFIER.idFromName(r.id)).notify(r.revision);
      } catch (error) {
        console.warn(
          JSON.stringify({ msg: 'cluster notify failed; the agent will catch up by polling', cluster: r.id, error: String(error) }),
        );
      }
    }),
  );
}
