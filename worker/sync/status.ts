import { and, eq, ne } from 'drizzle-orm';
import type { SyncStatus, SyncTarget } from '../../src/shared/api/sync';
import { cfSync, outbox, splitTunnelEntries, tunnels } from '../db/schema';
import type { Db } from '../deps';

/** Every account edgeplane has Cloudflare work for: tunnels, split-tunnel entries and the configured default. */
export async function knownAccounts(db: Db, configured: string | undefined): Promise<string[]> {
  const fromTunnels = await db.selectDistinct({ account: tunnels.account }).from(tunnels);
  const fromEntries = await db.selectDistinct({ account: splitTunnelEntries.account }).from(splitTunnelEntries);
  const all = [...fromTunnels, ...fromEntries].map((r) => r.account);
  if (configured) all.push(configured);
  return [...new Set(all.filter((a) => a.length > 0))].sort();
}

/** GET /v1/sync: per account and per target, what was synced, what waits, what failed, what drifted. */
export async function syncStatus(db: Db, now: Date): Promise<SyncStatus> {
  const states = await db.select().from(cfSync);
  const pendingRows = await db.select().from(outbox).where(eq(outbox.status, 'pending'));
  const targets = new Map<string, SyncTarget>();
  const keyOf = (account: string, kind: string, target: string) => `${account}|${kind}|${target}`;
  for (const s of states) {
    if (s.kind === 'account') continue;
    targets.set(keyOf(s.account, s.kind, s.target), {
      account: s.account,
      kind: s.kind,
      target: s.target,
      lastSuccessAt: s.lastSuccessAt,
      remoteName: s.remoteName,
      remoteVersion: s.remoteVersion,
      pending: 0,
      nextAttemptAt: null,
      lastError: s.lastError,
      attempts: s.attempts,
      conflict: s.conflict,
      drift: s.drift ?? null,
      driftCheckedAt: s.driftCheckedAt,
    });
  }
  for (const row of pendingRows) {
    const kind = row.kind === 'tunnel' && row.payload.deleted === true ? 'tunnel' : row.kind;
    const target = kind === 'split_tunnel' ? `${row.account}/${row.target}` : row.target;
    const key = keyOf(row.account, kind, target);
    const entry = targets.get(key) ?? {
      account: row.account,
      kind,
      target,
      lastSuccessAt: null,
      remoteName: null,
      remoteVersion: null,
      pending: 0,
      nextAttemptAt: null,
      lastError: null,
      attempts: 0,
      conflict: null,
      drift: null,
      driftCheckedAt: null,
    };
    entry.pending += 1;
    if (row.nextAttemptAt && (!entry.nextAttemptAt || row.nextAttemptAt < entry.nextAttemptAt)) entry.nextAttemptAt = row.nextAttemptAt;
    if (row.lastError) {
      entry.lastError = entry.lastError ?? row.lastError;
      entry.attempts = Math.max(entry.attempts, row.attempts);
    }
    targets.set(key, entry);
  }
  const accountRows = await db
    .select()
    .from(cfSync)
    .where(and(eq(cfSync.kind, 'account'), ne(cfSync.account, '')));
  const accounts = new Set([...accountRows.map((a) => a.account), ...pendingRows.map((r) => r.account)]);
  return {
    accounts: [...accounts].sort().map((account) => {
      const state = accountRows.find((a) => a.account === account);
      const until = state?.rateLimitedUntil ?? null;
      const waiting = until && Date.parse(until) > now.getTime() ? `waiting for rate limit until ${until}` : null;
      return {
        account,
        pending: pendingRows.filter((r) => r.account === account).length,
        rateLimitedUntil: until,
        waiting,
        lastRunId: state?.lastRunId ?? null,
        lastError: state?.lastError ?? null,
      };
    }),
    targets: [...targets.values()].sort((a, b) => (a.account + a.kind + a.target).localeCompare(b.account + b.kind + b.target)),
  };
}
