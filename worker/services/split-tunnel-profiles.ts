import { and, asc, eq, sql } from 'drizzle-orm';
import type { SplitTunnelProfile, SplitTunnelProfilePut } from '../../src/shared/api';
import { splitTunnelProfiles } from '../db/schema';
import { commit } from '../effects/commit';
import { toApiSplitTunnelProfile } from '../db/mappers';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { checkIfMatch } from './etag';
import { resolveAccount } from './split-tunnel';

type Row = typeof splitTunnelProfiles.$inferSelect;

/** Every profile with settings of its own (a profile not listed has the defaults: drift policy "alert"). */
export async function listSplitTunnelProfiles(deps: Deps): Promise<{ items: SplitTunnelProfile[] }> {
  const rows = await deps.db.select().from(splitTunnelProfiles).orderBy(asc(splitTunnelProfiles.account), asc(splitTunnelProfiles.profile));
  return { items: rows.map(toApiSplitTunnelProfile) };
}

/**
 * Sets a profile's split-tunnel drift policy (created on first use). It changes only what the drift check does, so no
 * outbox row: the next check reports or reverts by the new policy.
 */
export async function putSplitTunnelProfile(
  deps: Deps,
  profile: string,
  input: SplitTunnelProfilePut,
  ifMatch?: string,
): Promise<{ profile: SplitTunnelProfile; created: boolean }> {
  const account = await resolveAccount(deps, input.account);
  const where = and(eq(splitTunnelProfiles.account, account), eq(splitTunnelProfiles.profile, profile));
  const before = await deps.db.query.splitTunnelProfiles.findFirst({ where });
  if (before) checkIfMatch(ifMatch, before, `split-tunnel profile "${profile}"`);
  const at = deps.now().toISOString();
  const after: Row = {
    account,
    profile,
    driftPolicy: input.driftPolicy,
    version: (before?.version ?? 0) + 1,
    createdAt: before?.createdAt ?? at,
    updatedAt: at,
  };
  const t = splitTunnelProfiles;
  const same = sql`SELECT 1 FROM ${t} WHERE ${t.account} = ${account} AND ${t.profile} = ${profile}`;
  await commit(deps, {
    guards: [
      {
        // Still the version read above (or still absent): two PUTs racing do not both think they created it.
        holds: before ? sql`EXISTS (${same} AND ${t.version} = ${before.version})` : sql`NOT EXISTS (${same})`,
        error: new AppError('conflict', `split-tunnel profile "${profile}" changed while this request was processed; read it again`),
      },
    ],
    statements: [
      deps.db
        .insert(t)
        .values(after)
        .onConflictDoUpdate({
          target: [t.account, t.profile],
          set: { driftPolicy: after.driftPolicy, version: after.version, updatedAt: after.updatedAt },
        }),
    ],
    audit: {
      action: before ? 'update' : 'create',
      entityType: 'split_tunnel_profile',
      entityId: `${account}/${profile}`,
      before: before ? toApiSplitTunnelProfile(before) : null,
      after: toApiSplitTunnelProfile(after),
    },
  });
  return { profile: toApiSplitTunnelProfile(after), created: !before };
}
