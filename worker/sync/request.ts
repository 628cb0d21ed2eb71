import { and, eq } from 'drizzle-orm';
import type { SyncRequest, SyncStarted } from '../../src/shared/api/sync';
import { privateNetworks, routes, splitTunnelEntries, tunnels } from '../db/schema';
import type { OutboxIntent } from '../db/write';
import { commit } from '../effects/commit';
import type { Deps } from '../deps';
import { newId } from '../ids';
import { accountWriter } from '../effects/kick-writers';
import { knownAccounts } from './status';

/** Every target of an account, as outbox intents: a full, level-based reconcile (cheap where nothing changed). */
async function allIntents(deps: Deps, account: string): Promise<OutboxIntent[]> {
  const tunnelRows = await deps.db.select().from(tunnels).where(eq(tunnels.account, account));
  const intents: OutboxIntent[] = [];
  for (const t of tunnelRows) {
    // A tunnel not yet created (or without its token) is ensured first; its config, DNS and routes follow it.
    if (!t.cloudflareTunnelId || !t.tokenCiphertext) intents.push({ account, kind: 'tunnel', target: t.id });
    else intents.push({ account, kind: 'tunnel_config', target: t.id });
    const hosts = await deps.db
      .selectDistinct({ hostname: routes.hostname })
      .from(routes)
      .where(and(eq(routes.tunnelId, t.id), eq(routes.dns, true)));
    for (const h of hosts) intents.push({ account, kind: 'dns', target: h.hostname });
    const networks = await deps.db.select({ id: privateNetworks.id }).from(privateNetworks).where(eq(privateNetworks.tunnelId, t.id));
    for (const n of networks) intents.push({ account, kind: 'private_network', target: n.id });
  }
  const lists = await deps.db
    .selectDistinct({ profile: splitTunnelEntries.profile, mode: splitTunnelEntries.mode })
    .from(splitTunnelEntries)
    .where(eq(splitTunnelEntries.account, account));
  for (const l of lists) intents.push({ account, kind: 'split_tunnel', target: `${l.profile}:${l.mode}` });
  return intents;
}

/** POST /v1/sync: queues every target of the account(s) and starts their writers now; returns the run id. */
export async function requestSync(deps: Deps, input: SyncRequest): Promise<SyncStarted> {
  const id = newId('sync', deps.now());
  const accounts = input.account ? [input.account] : await knownAccounts(deps.db, deps.config.CLOUDFLARE_ACCOUNT_ID);
  const intents = (await Promise.all(accounts.map((a) => allIntents(deps, a)))).flat();
  await commit(deps, {
    statements: [],
    audit: { action: 'sync', entityType: 'cloudflare_sync', entityId: id, after: { accounts, targets: intents.length } },
    outbox: intents,
  });
  for (const account of accounts) deps.defer(accountWriter(deps.env, account).drain(account, id));
  return { id, accounts, enqueued: intents.length };
}
