import { commitWrite, type Write } from '../db/write';
import type { Deps } from '../deps';
import { fenceAgentCredentials } from './agent-credential-fence';
import { kickWriters } from './kick-writers';
import { notifyClusters } from './notify-clusters';

/**
 * Commits a write (one D1 batch, `commitWrite`) and then sets off what must follow it, after the response: the affected
 * accounts' Cloudflare writers are woken (they debounce, so a burst of writes becomes one sync) and the affected
 * clusters' agents are told their new revision (a lost notification only delays them to their next poll). Every
 * service and sync write goes through here, so the store never needs to know who listens.
 *
 * A write that replaces or removes agent credentials first fences those clusters' notifiers, which answer the agent's
 * 304 from a copy of the credential hash, and settles them once the batch is done (ADR 0013): no copy made before the
 * batch can accept the old credential after it. A fence that cannot be set refuses the write before anything is written.
 */
export async function commit(deps: Deps, write: Write): Promise<void> {
  const settle = await fenceAgentCredentials(deps, write.agentCredentials ?? []);
  try {
    await commitWrite(deps, write);
  } finally {
    await settle();
  }
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
