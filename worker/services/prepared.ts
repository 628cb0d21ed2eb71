import type { RowChange } from '../db/view';
import type { Write } from '../db/write';
import type { Deps } from '../deps';
import { commit } from '../effects/commit';

/**
 * A write decided but not committed: what the endpoint answers, the batch `commit` runs, and the rows it puts or
 * deletes (which a plan lays over its view so the next change sees them). The endpoint commits it; a plan stops here.
 */
export interface Prepared<T> {
  result: T;
  write: Write;
  rows: RowChange[];
  /**
   * Clusters whose compiled state (a tunnel config) the write changes without bumping their revision (it names no
   * `write.clusters`): a plan reports them too.
   */
  affects?: string[];
}

/** What every endpoint does with its decision: commit the write, answer the result. */
export async function commitPrepared<T>(deps: Deps, decided: Promise<Prepared<T>>): Promise<T> {
  const prepared = await decided;
  await commit(deps, prepared.write);
  return prepared.result;
}
