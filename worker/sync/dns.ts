import { eq } from 'drizzle-orm';
import type { RecordResponse } from 'cloudflare/resources/dns/records';
import { cfDnsRecords, tunnels } from '../db/schema';
import { type SyncContext, statusOf } from './context';
import { type OwnedRecord, dnsPlan, loadDnsPlans } from './dns-plan';
import { type DnsBookkeeping, bookkeepingStatements } from './dns-bookkeeping';

// DNS for route hostnames: a proxied CNAME <hostname> → <cloudflare tunnel id>.cfargotunnel.com in the zone that owns
// the hostname. edgeplane changes or deletes only records listed in cf_dns_records (the ones it created); the record
// comment says so to people looking at the dashboard. A foreign record on the name is reported, never touched.

export const OWNER_COMMENT = 'managed by edgeplane';

export type DnsOutcome = 'unchanged' | 'created' | 'updated' | 'deleted' | 'conflict' | 'waiting-for-tunnel' | 'drift-reported';

const ZONE_CACHE_MS = 10 * 60_000;
const RECORDS_PER_PAGE = 5000;

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
    let page = await ctx.cf.dns.records.list({ zone_id: zoneId }, { query: { per_page: RECORDS_PER_PAGE } });
    for (;;) {
      for (const record of page.result) byName.set(record.name, [...(byName.get(record.name) ?? []), record]);
      // A short page is the last: this saves the empty page the SDK's iterator would fetch to find the end.
      if (page.result.length < RECORDS_PER_PAGE || !page.hasNextPage()) break;
      page = await page.getNextPage();
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

/** The proxied CNAME edgeplane writes for a hostname. */
export interface CnameBody {
  type: 'CNAME';
  name: string;
  content: string;
  proxied: true;
  ttl: 1;
  comment: string;
}

/** The one Cloudflare write a hostname's reconcile needs, sent alone or as an element of a zone's batch. */
export type DnsWrite =
  | { kind: 'post'; zoneId: string; body: CnameBody }
  | { kind: 'patch'; zoneId: string; recordId: string; body: CnameBody }
  | { kind: 'delete'; zoneId: string; recordId: string };

/**
 * A hostname's reconcile, decided but not yet written: the write (if any) and how to record its result. Deciding reads
 * Cloudflare and D1 but changes neither, so many hostnames' writes can go to Cloudflare together (one batch per zone)
 * and their results to D1 together.
 */
export interface DnsStep {
  hostname: string;
  /** What the reconcile comes to once `write` succeeded. */
  outcome: DnsOutcome;
  write: DnsWrite | null;
  /** What to record in D1 (and this drain's record cache kept true); `record` is Cloudflare's answer; null: nothing. */
  finish: (record: RecordResponse | null) => DnsBookkeeping | null;
}

/** Records hostnames' results as one D1 batch of a few statements (see dns-bookkeeping.ts). */
export async function recordResults(ctx: SyncContext, entries: DnsBookkeeping[]): Promise<void> {
  const [first, ...rest] = bookkeepingStatements(ctx, entries);
  if (first) await ctx.db.batch([first, ...rest]);
}

/** Sends one step's write on its own (a 404 on a delete means already gone). */
export async function writeOne(ctx: SyncContext, write: DnsWrite): Promise<RecordResponse | null> {
  switch (write.kind) {
    case 'post':
      return ctx.cf.dns.records.create({ zone_id: write.zoneId, ...write.body });
    case 'patch':
      return ctx.cf.dns.records.edit(write.recordId, { zone_id: write.zoneId, ...write.body });
    case 'delete':
      try {
        await ctx.cf.dns.records.delete(write.recordId, { zone_id: write.zoneId });
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
      }
      return null;
  }
}

/**
 * Reconciles one hostname with single calls. `outbox` mode skips the remote read when the desired record was already
 * pushed and nothing failed since (a no-op sync costs nothing here); `drift` mode always reads and repairs only under
 * `revert`. The drain batches many hostnames instead (dns-batch.ts); both go through `planDns`.
 */
export async function reconcileDns(ctx: SyncContext, hostname: string, options: { mode: 'outbox' | 'drift' }): Promise<DnsOutcome> {
  const step = await planDns(ctx, hostname, options);
  const record = step.write ? await writeOne(ctx, step.write) : null;
  const entry = step.finish(record);
  if (entry) await recordResults(ctx, [entry]);
  return step.outcome;
}

const noWrite = (hostname: string, outcome: DnsOutcome, entry: DnsBookkeeping | null): DnsStep => ({
  hostname,
  outcome,
  write: null,
  finish: () => entry,
});

/** Decides one hostname's reconcile: reads what it must, writes nothing (see DnsStep). */
export async function planDns(ctx: SyncContext, hostname: string, options: { mode: 'outbox' | 'drift' }): Promise<DnsStep> {
  const { desired, hash, settled, owned } = await dnsPlan(ctx, hostname);
  ctx.dnsPlans.delete(hostname); // from here on this hostname's state changes
  if (desired && desired.content === null) return noWrite(hostname, 'waiting-for-tunnel', null);
  if (options.mode === 'outbox' && settled) return noWrite(hostname, 'unchanged', null);

  if (!desired) {
    const success = { pushedHash: hash, conflict: null, drift: null };
    if (!owned) return noWrite(hostname, 'unchanged', { hostname, success });
    // Known gone (the zone's records were listed this drain and it is not among them): nothing to send.
    const gone =
      ctx.records.get(owned.zoneId) &&
      !ctx.records
        .get(owned.zoneId)
        ?.get(hostname)
        ?.some((r) => r.id === owned.recordId);
    return {
      hostname,
      outcome: 'deleted',
      write: gone ? null : { kind: 'delete', zoneId: owned.zoneId, recordId: owned.recordId },
      finish: () => {
        remember(ctx, owned.zoneId, hostname, null, owned.recordId);
        return { hostname, owned: 'forget', success };
      },
    };
  }
  const content = desired.content ?? '';
  const zone = owned ? { id: owned.zoneId } : await findZone(ctx, hostname);
  if (!zone) {
    const conflict = `no zone of account ${ctx.account} contains ${hostname}; add the zone to Cloudflare or turn DNS management off for this route`;
    return noWrite(hostname, 'conflict', { hostname, success: { conflict } });
  }
  const existing = await recordsNamed(ctx, zone.id, hostname);
  const mine = owned ? existing.find((r) => r.id === owned.recordId) : undefined;
  const foreign = existing.filter((r) => r.id !== mine?.id);
  const at = ctx.now().toISOString();
  const body: CnameBody = { type: 'CNAME', name: hostname, content, proxied: true, ttl: 1, comment: OWNER_COMMENT };

  if (mine && owned) {
    const same = 'content' in mine && mine.content === content && mine.proxied === true;
    if (same) {
      return noWrite(hostname, 'unchanged', {
        hostname,
        ...(owned.tunnelId !== desired.tunnelId ? { owned: { ...owned, tunnelId: desired.tunnelId, updatedAt: at } } : {}),
        success: { pushedHash: hash, conflict: null, drift: null, driftCheckedAt: at },
      });
    }
    const policy = await driftPolicyOf(ctx, desired.tunnelId);
    const drift = { detectedAt: at, summary: `CNAME ${hostname} was changed outside edgeplane`, reverted: false };
    if (options.mode === 'drift' && policy !== 'revert') {
      return noWrite(hostname, 'drift-reported', { hostname, success: { drift, driftCheckedAt: at } });
    }
    return {
      hostname,
      outcome: 'updated',
      write: { kind: 'patch', zoneId: zone.id, recordId: mine.id, body },
      finish: (record) => {
        if (record) remember(ctx, zone.id, hostname, record);
        return {
          hostname,
          owned: { ...owned, content, tunnelId: desired.tunnelId, updatedAt: at },
          success: {
            pushedHash: hash,
            conflict: null,
            drift: options.mode === 'drift' ? { ...drift, reverted: true } : null,
            driftCheckedAt: at,
          },
        };
      },
    };
  }
  const blocking = foreign.find((r) => ['CNAME', 'A', 'AAAA'].includes(r.type ?? ''));
  if (blocking) {
    const conflict = `hostname collides with ${describeForeign(blocking)}; edgeplane leaves it alone — delete it or turn DNS management off for this route`;
    return noWrite(hostname, 'conflict', { hostname, success: { conflict } });
  }
  if (owned && options.mode === 'drift' && (await driftPolicyOf(ctx, desired.tunnelId)) !== 'revert') {
    return noWrite(hostname, 'drift-reported', {
      hostname,
      success: {
        drift: { detectedAt: at, summary: `CNAME ${hostname} was deleted outside edgeplane`, reverted: false },
        driftCheckedAt: at,
      },
    });
  }
  const drift = owned ? { detectedAt: at, summary: `CNAME ${hostname} was deleted outside edgeplane`, reverted: true } : null;
  return {
    hostname,
    outcome: 'created',
    write: { kind: 'post', zoneId: zone.id, body },
    finish: (record) => {
      if (!record) throw new Error(`Cloudflare answered no record for the CNAME ${hostname}`);
      remember(ctx, zone.id, hostname, record);
      // Ownership is recorded with the sync state right after the write: the record is ours from the moment it exists.
      return {
        hostname,
        owned: {
          hostname,
          account: ctx.account,
          zoneId: zone.id,
          recordId: record.id,
          tunnelId: desired.tunnelId,
          content,
          createdAt: owned?.createdAt ?? at,
          updatedAt: at,
        },
        success: { pushedHash: hash, conflict: null, drift, driftCheckedAt: at },
      };
    },
  };
}

async function driftPolicyOf(ctx: SyncContext, tunnelId: string): Promise<'alert' | 'revert'> {
  const row = await ctx.db.query.tunnels.findFirst({ where: eq(tunnels.id, tunnelId), columns: { driftPolicy: true } });
  return row?.driftPolicy ?? 'alert';
}
