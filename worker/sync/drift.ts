import { and, eq, isNotNull } from 'drizzle-orm';
import { cfDnsRecords, splitTunnelEntries, tunnels } from '../db/schema';
import { type SyncContext, describeError, rateLimitWait } from './context';
import { prefetchRecords, reconcileDns } from './dns';
import { reconcileSplitTunnel } from './split-tunnel';
import { markFailure } from './sync-state';
import { reconcileTunnelConfig } from './tunnel-config';

// The scheduled drift check (Cron Trigger): re-reads every remote tunnel config, every DNS record edgeplane owns and
// every split-tunnel list it has entries in, reports differences per target in cf_sync, and puts them back only
// where the tunnel's driftPolicy is `revert`.

export interface DriftReport {
  runId: string;
  checked: number;
  drifted: number;
  reverted: number;
  calls: number;
  waitingUntil: string | null;
  errors: { target: string; error: string }[];
}

/** Checks one account for drift. */
export async function checkDrift(ctx: SyncContext): Promise<DriftReport> {
  const report: DriftReport = { runId: ctx.runId, checked: 0, drifted: 0, reverted: 0, calls: 0, waitingUntil: null, errors: [] };
  const callsBefore = ctx.budget.calls;
  const managed = await ctx.db
    .select({ id: tunnels.id })
    .from(tunnels)
    .where(and(eq(tunnels.account, ctx.account), isNotNull(tunnels.cloudflareTunnelId)));
  const records = await ctx.db.select({ hostname: cfDnsRecords.hostname }).from(cfDnsRecords).where(eq(cfDnsRecords.account, ctx.account));
  const lists = await ctx.db
    .selectDistinct({ profile: splitTunnelEntries.profile, mode: splitTunnelEntries.mode })
    .from(splitTunnelEntries)
    .where(eq(splitTunnelEntries.account, ctx.account));
  const checks: { kind: string; target: string; run: () => Promise<string> }[] = [
    ...managed.map((t) => ({ kind: 'tunnel_config', target: t.id, run: () => reconcileTunnelConfig(ctx, t.id, { mode: 'drift' }) })),
    ...records.map((r) => ({ kind: 'dns', target: r.hostname, run: () => reconcileDns(ctx, r.hostname, { mode: 'drift' }) })),
    ...lists.map((l) => ({
      kind: 'split_tunnel',
      target: `${ctx.account}/${l.profile}:${l.mode}`,
      run: () => reconcileSplitTunnel(ctx, `${l.profile}:${l.mode}`, { mode: 'drift' }),
    })),
  ];
  if (records.length >= 5) {
    try {
      await prefetchRecords(
        ctx,
        records.map((r) => r.hostname),
      ); // one list per zone instead of one per hostname
    } catch {
      ctx.records.clear(); // best effort: each hostname then lists its own name, and a real failure shows there
    }
  }
  for (const check of checks) {
    report.checked += 1;
    try {
      const outcome = await check.run();
      if (outcome === 'drift-reported') report.drifted += 1;
      // In drift mode a write only happens to repair a remote change.
      if (outcome === 'written' || outcome === 'updated' || outcome === 'created') {
        report.drifted += 1;
        report.reverted += 1;
      }
    } catch (error) {
      const wait = rateLimitWait(error, ctx.budget);
      const message = wait ? wait.message : describeError(error);
      report.errors.push({ target: `${check.kind}:${check.target}`, error: message });
      await markFailure(ctx, check.kind, check.target, message);
      if (wait) {
        report.waitingUntil = wait.until.toISOString();
        break;
      }
    }
  }
  report.calls = ctx.budget.calls - callsBefore;
  return report;
}
