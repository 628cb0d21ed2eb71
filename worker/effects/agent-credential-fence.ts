import type { Deps } from '../deps';
import { AppError } from '../errors';

/**
 * Fences the notifiers of clusters whose agent credential a write is about to replace or remove, so none of them
 * answers a 304 from its copy of the old credential hash while or after the batch commits (ADR 0013). Returns the
 * settle step to run once the batch is done, whether it committed or not. A fence that cannot be set throws before
 * anything is written; a settle that fails only leaves the fence to expire (the 304s meanwhile go to D1).
 */
export async function fenceAgentCredentials(deps: Pick<Deps, 'env'>, clusterIds: string[]): Promise<() => Promise<void>> {
  const stubs = [...new Set(clusterIds)].map((id) => ({
    id,
    stub: deps.env.CLUSTER_NOTIFIER.get(deps.env.CLUSTER_NOTIFIER.idFromName(id)),
  }));
  if (stubs.length === 0) return async () => {};
  const settled = await Promise.allSettled(stubs.map(async ({ id, stub }) => ({ id, stub, fence: await stub.fenceCredential() })));
  const fenced = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const settle = async () => {
    await Promise.all(
      fenced.map(async ({ id, stub, fence }) => {
        try {
          await stub.settleCredential(fence);
        } catch (error) {
          console.warn(
            JSON.stringify({ msg: 'agent credential fence not settled; it expires on its own', cluster: id, error: String(error) }),
          );
        }
      }),
    );
  };
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) {
    await settle();
    throw new AppError(
      'unavailable',
      "the cluster's agent state could not be updated for this credential change; nothing was written, retry",
    );
  }
  return settle;
}
