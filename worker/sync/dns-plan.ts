import { and, eq } from 'drizzle-orm';
import { inList } from '../db/json-list';
import { sha256Hex } from '../../src/shared/compiler';
import { cfDnsRecords, cfSync, routes, tunnels } from '../db/schema';
import type { SyncContext } from './context';
import { syncKey } from './sync-state';

// What each hostname's CNAME should be, what edgeplane owns for it and whether exactly that was pushed already —
// read in bulk for a drain (three queries per 1,000 hostnames instead of four per hostname; each list is one JSON
// parameter, so D1's 100-parameter limit does not cap it).

export type OwnedRecord = typeof cfDnsRecords.$inferSelect;

/** The CNAME a hostname should have: through which tunnel, and its content (null until the tunnel exists in Cloudflare). */
export interface DesiredCname {
  tunnelId: string;
  content: string | null;
}

export interface DnsPlan {
  desired: DesiredCname | null;
  hash: string;
  /** The desired record was pushed (or confirmed) and nothing failed or collided since. */
  settled: boolean;
  owned: OwnedRecord | undefined;
}

/** Hostnames per query (one JSON parameter each, see json-list.ts); bounds the rows a query returns. */
const CHUNK = 1000;

const chunks = <T>(items: T[]): T[][] =>
  Array.from({ length: Math.ceil(items.length / CHUNK) }, (_, i) => items.slice(i * CHUNK, (i + 1) * CHUNK));

/** Plans many hostnames at once and keeps the plans on the drain's context until each hostname is reconciled. */
export async function loadDnsPlans(ctx: SyncContext, hostnames: string[]): Promise<void> {
  const wanted = [...new Set(hostnames)].filter((h) => !ctx.dnsPlans.has(h));
  for (const part of chunks(wanted)) {
    const desiredRows = await ctx.db
      .select({ hostname: routes.hostname, tunnelId: tunnels.id, cfId: tunnels.cloudflareTunnelId })
      .from(routes)
      .innerJoin(tunnels, eq(routes.tunnelId, tunnels.id))
      .where(and(inList(routes.hostname, part), eq(routes.dns, true), eq(tunnels.account, ctx.account)));
    const syncRows = await ctx.db
      .select()
      .from(cfSync)
      .where(
        inList(
          cfSync.key,
          part.map((h) => syncKey('dns', h)),
        ),
      );
    const ownedRows = await ctx.db.select().from(cfDnsRecords).where(inList(cfDnsRecords.hostname, part));
    // A hostname's routes (several paths) share one tunnel; the first row speaks for them, as before.
    const desiredBy = new Map<string, (typeof desiredRows)[number]>();
    for (const r of desiredRows) if (!desiredBy.has(r.hostname)) desiredBy.set(r.hostname, r);
    const syncBy = new Map(syncRows.map((r) => [r.key, r]));
    const ownedBy = new Map(ownedRows.map((r) => [r.hostname, r]));
    for (const hostname of part) {
      const row = desiredBy.get(hostname);
      const desired = row ? { tunnelId: row.tunnelId, content: row.cfId ? `${row.cfId}.cfargotunnel.com` : null } : null;
      const hash = sha256Hex(JSON.stringify(desired));
      const previous = syncBy.get(syncKey('dns', hostname));
      const settled = previous?.pushedHash === hash && !previous.lastError && !previous.conflict;
      ctx.dnsPlans.set(hostname, { desired, hash, settled, owned: ownedBy.get(hostname) });
    }
  }
}

/** The plan of one hostname (from the drain's bulk plans when present). */
export async function dnsPlan(ctx: SyncContext, hostname: string): Promise<DnsPlan> {
  const known = ctx.dnsPlans.get(hostname);
  if (known) return known;
  await loadDnsPlans(ctx, [hostname]);
  const plan = ctx.dnsPlans.get(hostname);
  if (!plan) throw new Error(`no DNS plan for ${hostname}`);
  return plan;
}
