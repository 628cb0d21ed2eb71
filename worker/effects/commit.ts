import { commitWrite, type Write } from '../db/write';
import type { Deps } from '../deps';
import { kickWriters } from './kick-writers';
import { notifyClusters } from './notify-clusters';

/**
 * Commits a write (one D1 batch, `commitWrite`) and then sets off what must follow it, after the response: the affected
 * accounts' Cloudflare writers are woken (they debounce, so a burst of writes becomes one sync) and the affected
 * clusters' agents are told their new revision (a lost notification only delays them to their next poll). Every
 * service and sync write goes through here, so the store never needs to know who listens.
 */
export async function commit(deps: Deps, write: Write): Promise<void> {
  await commitWrite(deps, write);
  if (write.outbox?.length)
    deps.defer(
      kickWriters(
        deps.env,
        write.outbox.map((o) => o.account),
      ),
    );
  const affected = [...new Set(write.clusters ?? [])];
  if (affected.length > 0) deps.defer(notifyClusters(deps, affected));
}
