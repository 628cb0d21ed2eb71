import { eq } from 'drizzle-orm';
import type { RecordResponse } from 'cloudflare/resources/dns/records';
import { cfDnsRecords, tunnels } from '../db/schema';
import { type SyncContext, statusOf } from './context';
import { type OwnedRecord, dnsPlan, loadDnsPlans } from './dns-plan';
import { markSuccess, successStatement } from './sync-state';

// DNS for route hostnames: a proxied CNAME <hostname> → <cloudflare tunnel id>.cfargotunnel.com in the zone that owns
// the hostname. edgeplane changes or deletes only records listed in cf_dns_records (the ones it created); the record
// comment says so to people looking at the dashboard. A foreign record on the name is reported, never touched.

export const OWNER_COMMENT = 'managed by edgeplane';

export type DnsOutcome = 'unchanged' | 'created' | 'updated' | 'deleted' | 'conflict' | 'waiting-for-tunnel' | 'drift-reported';

const ZONE_CACHE_MS = 10 * 60_000;

async function loadZones(ctx: SyncContext): Promise<void> {
  const byName = new Map<string, string>();
  for await (const zone of ctx.cf.zones.list({ account: { id: ctx.account }, per_page: 50 })) byName.set(zone.name, zone.id);
  ctx.zones.byName = byName;
  ctx.zones.loadedAt = Date.now();
  ctx.zones.loadedBy = ctx.runId;
}

function longestZone(ctx: SyncContext, hostname: string): { id: string; name: string } | undefined {
  const labels = hostname.replace(/^\*\./, '').split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const name = labels.slice(i).join('.');
    const id = ctx.zones.byName.get(name);
    if (id) return { id, name };
  }
  return undefined;
}

/**
 * The zone that owns a hostname: the longest suffix of it that is a zone of the account. The account's zone list is
 * read once (one call for up to 50 zones) and cached; a miss reloads it at most once per drain.
 */
export async function findZone(ctx: SyncContext, hostname: string): Promise<{ id: string; name: string } | undefined> {
  const stale = Date.now() - ctx.zones.loadedAt > ZONE_CACHE_MS;
  if (stale) await loadZones(ctx);
  const found = longestZone(ctx, hostname);
  if (found || ctx.zones.loadedBy === ctx.runId) return found;
  await loadZones(ctx);
  return longestZone(ctx, hostname);
}

/** Lists every record of the zones of many hostnames once, so a bulk change costs one list per zone, not per name. */
export async function prefetchRecords(ctx: SyncContext, hostnames: string[]): Promise<void> {
  const zoneIds = new Set<string>();
  await loadDnsPlans(ctx, hostnames);
  for (const hostname of hostnames) {
    const owned = ctx.dnsPlans.get(hostname)?.owned;
    const zoneId = owned?.zoneId ?? (await findZone(ctx, hostname))?.id;
    if (zoneId) zoneIds.add(zoneId);
  }
  for (const zoneId of zoneIds) {
    const byName = new Map<string, RecordResponse[]>();
    for await (const record of ctx.cf.dns.records.list({ zone_id: zoneId }, { query: { per_page: 5000 } })) {
      byName.set(record.name, [...(byName.get(record.name) ?? []), record]);
    }
    ctx.records.set(zoneId, byName);
  }
}

/** Keeps this drain's prefetched records true after a write. */
function remember(ctx: SyncContext, zoneId: string, hostname: string, record: RecordResponse | null, removedId?: string): void {
  const byName = ctx.records.get(zoneId);
  if (!byName) return;
  const others = (byName.get(hostname) ?? []).filter((r) => r.id !== removedId && r.id !== record?.id);
  byName.set(hostname, record ? [...others, record] : others);
}

/** Records on a name (any type), with the schema's plain `name` filter (the SDK's `name.exact` is not in the contract). */
async function recordsNamed(ctx: SyncContext, zoneId: string, hostname: string): Promise<RecordResponse[]> {
  const prefetched = ctx.records.get(zoneId);
  if (prefetched) return prefetched.get(hostname) ?? [];
  const page = await ctx.cf.dns.records.list({ zone_id: zoneId }, { query: { name: hostname, per_page: 100 } });
  return page.result;
}

/** Deletes a record edgeplane owns (already gone counts as deleted) and forgets its ownership. */
export async function deleteOwnedRecord(ctx: SyncContext, owned: OwnedRecord): Promise<void> {
  try {
    await ctx.cf.dns.records.delete(owned.recordId, { zone_id: owned.zoneId });
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
  }
  remember(ctx, owned.zoneId, owned.hostname, null, owned.recordId);
  await ctx.db.delete(cfDnsRecords).where(eq(cfDnsRecords.hostname, owned.hostname));
}

const describeForeign = (r: RecordResponse): string =>
  `${r.type} ${r.name} → ${'content' in r ? String(r.content) : '?'} (record ${r.id}, not created by edgeplane)`;

/** Whether an outbox reconcile of this hostname will read Cloudflare (used to decide on a bulk prefetch). */
export async function dnsNeedsRead(ctx: SyncContext, hostname: string): Promise<boolean> {
  const { desired, settled } = await dnsPlan(ctx, hostname);
  return !settled && !(desired && desired.content === null);
}

/**
 * Reconciles one hostname. `outbox` mode skips the remote read when the desired record was already pushed and nothing
 * failed since (a no-op sync costs nothing here); `drift` mode always reads and repairs only under `revert`.
 */
export async function reconcileDns(ctx: SyncContext, hostname: string, options: { mode: 'outbox' | 'drift' }): Promise<DnsOutcome> {
  const { desired, hash, settled, owned } = await dnsPlan(ctx, hostname);
  ctx.dnsPlans.delete(hostname); // from here on this hostname's state changes
  if (desired && desired.content === null) return 'waiting-for-tunnel';
  if (options.mode === 'outbox' && settled) return 'unchanged';

  if (!desired) {
    if (owned) await deleteOwnedRecord(ctx, owned);
    await markSuccess(ctx, 'dns', hostname, { pushedHash: hash, conflict: null, drift: null });
    return owned ? 'deleted' : 'unchanged';
  }
  const content = desired.content ?? '';
  const zone = owned ? { id: owned.zoneId } : await findZone(ctx, hostname);
  if (!zone) {
    await markSuccess(ctx, 'dns', hostname, {
      conflict: `no zone of account ${ctx.account} contains ${hostname}; add the zone to Cloudflare or turn DNS management off for this route`,
    });
    return 'conflict';
  }
  const existing = await recordsNamed(ctx, zone.id, hostname);
  const mine = owned ? existing.find((r) => r.id === owned.recordId) : undefined;
  const foreign = existing.filter((r) => r.id !== mine?.id);
  const at = ctx.now().toISOString();
  const body = { type: 'CNAME' as const, name: hostname, content, proxied: true, ttl: 1, comment: OWNER_COMMENT };

  if (mine) {
    const same = 'content' in mine && mine.content === content && mine.proxied === true;
    if (same) {
      if (owned && owned.tunnelId !== desired.tunnelId)
        await ctx.db.update(cfDnsRecords).set({ tunnelId: desired.tunnelId, updatedAt: at }).where(eq(cfDnsRecords.hostname, hostname));
      await markSuccess(ctx, 'dns', hostname, { pushedHash: hash, conflict: null, drift: null, driftCheckedAt: at });
      return 'unchanged';
    }
    const policy = await driftPolicyOf(ctx, desired.tunnelId);
    const drift = { detectedAt: at, summary: `CNAME ${hostname} was changed outside edgeplane`, reverted: false };
    if (options.mode === 'drift' && policy !== 'revert') {
      await markSuccess(ctx, 'dns', hostname, { drift, driftCheckedAt: at });
      return 'drift-reported';
    }
    remember(ctx, zone.id, hostname, await ctx.cf.dns.records.edit(mine.id, { zone_id: zone.id, ...body }));
    await ctx.db
      .update(cfDnsRecords)
      .set({ content, tunnelId: desired.tunnelId, updatedAt: at })
      .where(eq(cfDnsRecords.hostname, hostname));
    await markSuccess(ctx, 'dns', hostname, {
      pushedHash: hash,
      conflict: null,
      drift: options.mode === 'drift' ? { ...drift, reverted: true } : null,
      driftCheckedAt: at,
    });
    return 'updated';
  }
  const blocking = foreign.find((r) => ['CNAME', 'A', 'AAAA'].includes(r.type ?? ''));
  if (blocking) {
    await markSuccess(ctx, 'dns', hostname, {
      conflict: `hostname collides with ${describeForeign(blocking)}; edgeplane leaves it alone — delete it or turn DNS management off for this route`,
    });
    return 'conflict';
  }
  if (owned && options.mode === 'drift' && (await driftPolicyOf(ctx, desired.tunnelId)) !== 'revert') {
    await markSuccess(ctx, 'dns', hostname, {
      drift: { detectedAt: at, summary: `CNAME ${hostname} was deleted outside edgeplane`, reverted: false },
      driftCheckedAt: at,
    });
    return 'drift-reported';
  }
  const record = await ctx.cf.dns.records.create({ zone_id: zone.id, ...body });
  remember(ctx, zone.id, hostname, record);
  const drift = owned ? { detectedAt: at, summary: `CNAME ${hostname} was deleted outside edgeplane`, reverted: true } : null;
  // Ownership and sync state in one D1 round trip: the record is ours from the moment it exists.
  await ctx.db.batch([
    ctx.db
      .insert(cfDnsRecords)
      .values({
        hostname,
        account: ctx.account,
        zoneId: zone.id,
        recordId: record.id,
        tunnelId: desired.tunnelId,
        content,
        createdAt: at,
        updatedAt: at,
      })
      .onConflictDoUpdate({
        target: cfDnsRecords.hostname,
        set: { zoneId: zone.id, recordId: record.id, tunnelId: desired.tunnelId, content, updatedAt: at },
      }),
    successStatement(ctx, 'dns', hostname, { pushedHash: hash, conflict: null, drift, driftCheckedAt: at }),
  ]);
  return 'created';
}

async function driftPolicyOf(ctx: SyncContext, tunnelId: string): Promise<'alert' | 'revert'> {
  const row = await ctx.db.query.tunnels.findFirst({ where: eq(tunnels.id, tunnelId), columns: { driftPolicy: true } });
  return row?.driftPolicy ?? 'alert';
}
