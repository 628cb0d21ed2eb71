import { and, asc, eq, isNull, lte, or } from 'drizzle-orm';
import { inList } from '../db/json-list';
import { cfSync, outbox, privateNetworks, routes } from '../db/schema';
import { MAX_BACKOFF_MS, backoffMs } from './backoff';
import { type SyncContext, SyncProblem, describeError, rateLimitWait } from './context';
import type { RateLimitWait } from './rate-budget';
import { dnsNeedsRead, prefetchRecords } from './dns';
import { type DnsResults, reconcileDnsBatched } from './dns-batch';
import { loadDnsPlans } from './dns-plan';
import { type PrivateNetworkPayload, reconcilePrivateNetwork } from './private-networks';
import { reconcileSplitTunnel } from './split-tunnel';
import { markFailure, noteSync } from './sync-state';
import { reconcileTunnelConfig } from './tunnel-config';
import { deleteTunnel, ensureTunnel } from './tunnels';

// One drain of an account's outbox. Rows are intents ("this target must be reconciled"), so rows about the same target
// collapse into one reconcile (100 route edits → one config GET and at most one PUT). Targets run in an order that
// keeps Cloudflare consistent: tunnels exist before their config, a config routes a hostname before its CNAME
// appears, and tunnel deletions come last (they remove their own DNS records first).

type OutboxRow = typeof outbox.$inferSelect;

const PHASES = ['tunnel', 'tunnel_config', 'dns', 'private_network', 'split_tunnel', 'tunnel_delete'] as const;
type Phase = (typeof PHASES)[number];

interface Group {
  phase: Phase;
  target: string;
  rows: OutboxRow[];
  payload: Record<string, unknown>;
}

export interface DrainReport {
  runId: string;
  targets: number;
  done: number;
  failed: number;
  /** Cloudflare API calls this drain made. */
  calls: number;
  waitingUntil: string | null;
  /** When the writer should run again (earliest retry or the end of a rate-limit wait), or null when all is done. */
  nextRunAt: string | null;
  errors: { target: string; error: string }[];
}

const MAX_ROWS = 500;

function groupRows(rows: OutboxRow[]): Group[] {
  const groups = new Map<string, Group>();
  for (const row of rows) {
    const deleted = row.kind === 'tunnel' && row.payload.deleted === true;
    const phase: Phase = deleted ? 'tunnel_delete' : (row.kind as Phase);
    const key = `${phase}|${row.target}`;
    const group = groups.get(key) ?? { phase, target: row.target, rows: [], payload: {} };
    group.rows.push(row);
    // Later rows know more (e.g. the Cloudflare route id captured at delete time); keep non-null values.
    for (const [k, v] of Object.entries(row.payload)) if (v !== null && v !== undefined) group.payload[k] = v;
    groups.set(key, group);
  }
  return [...groups.values()];
}

const syncKind = (phase: Phase): string => (phase === 'tunnel_delete' ? 'tunnel' : phase);
const syncTarget = (ctx: SyncContext, group: Group): string =>
  group.phase === 'split_tunnel' ? `${ctx.account}/${group.target}` : group.target;

/** After a tunnel is created or adopted, everything that waited for its Cloudflare id is reconciled in the same drain. */
async function followUps(ctx: SyncContext, tunnelId: string): Promise<Group[]> {
  const hostnames = await ctx.db
    .selectDistinct({ hostname: routes.hostname })
    .from(routes)
    .where(and(eq(routes.tunnelId, tunnelId), eq(routes.dns, true)));
  const networks = await ctx.db.select({ id: privateNetworks.id }).from(privateNetworks).where(eq(privateNetworks.tunnelId, tunnelId));
  return [
    { phase: 'tunnel_config', target: tunnelId, rows: [], payload: {} },
    ...hostnames.map((h): Group => ({ phase: 'dns', target: h.hostname, rows: [], payload: { tunnel: tunnelId } })),
    ...networks.map((n): Group => ({ phase: 'private_network', target: n.id, rows: [], payload: {} })),
  ];
}

async function reconcile(ctx: SyncContext, group: Group): Promise<Group[]> {
  switch (group.phase) {
    case 'tunnel': {
      const outcome = await ensureTunnel(ctx, group.target, { rename: group.payload.rename === true });
      return outcome.ready ? followUps(ctx, group.target) : [];
    }
    case 'tunnel_config':
      await reconcileTunnelConfig(ctx, group.target, { mode: 'outbox' });
      return [];
    case 'dns':
      throw new SyncProblem('DNS targets are reconciled together (reconcileDnsBatched)');
    case 'private_network':
      await reconcilePrivateNetwork(ctx, group.target, group.payload as PrivateNetworkPayload);
      return [];
    case 'split_tunnel':
      await reconcileSplitTunnel(ctx, group.target, { mode: 'outbox' });
      return [];
    case 'tunnel_delete': {
      const cfId = typeof group.payload.cloudflareTunnelId === 'string' ? group.payload.cloudflareTunnelId : null;
      await deleteTunnel(ctx, group.target, cfId);
      return [];
    }
    default:
      throw new SyncProblem(`unknown outbox kind "${String(group.phase)}"`);
  }
}

/** Marks rows done in one statement (the ids travel as one JSON parameter: D1 binds at most 100 per statement). */
async function markDone(ctx: SyncContext, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await ctx.db
    .update(outbox)
    .set({ status: 'done', doneAt: ctx.now().toISOString(), lastError: null, nextAttemptAt: null })
    .where(inList(outbox.id, ids));
  ids.length = 0;
}

/** A failed row keeps its intent: one more attempt, the error, and when to try again. Never dropped. */
async function markRetry(ctx: SyncContext, group: Group, error: string, at: Date | null): Promise<Date> {
  let earliest = at ?? new Date(ctx.now().getTime() + MAX_BACKOFF_MS);
  for (const row of group.rows) {
    const next = at ?? new Date(ctx.now().getTime() + backoffMs(row.attempts + 1));
    if (next < earliest) earliest = next;
    await ctx.db
      .update(outbox)
      .set({ attempts: row.attempts + 1, lastError: error, nextAttemptAt: next.toISOString() })
      .where(eq(outbox.id, row.id));
  }
  return earliest;
}

/** The DNS targets of this drain whose tunnel config did not fail (those wait for it). */
const dnsTargets = (queue: Group[], blocked: Map<string, unknown>): string[] =>
  queue.filter((g) => g.phase === 'dns' && !(typeof g.payload.tunnel === 'string' && blocked.has(g.payload.tunnel))).map((g) => g.target);

const PREFETCH_FROM = 5;

/** With many hostnames to reconcile, list each zone's records once instead of once per hostname. */
async function prefetchDns(ctx: SyncContext, queue: Group[]): Promise<void> {
  await loadDnsPlans(
    ctx,
    queue.filter((g) => g.phase === 'dns').map((g) => g.target),
  );
  const hostnames: string[] = [];
  for (const group of queue) if (group.phase === 'dns' && (await dnsNeedsRead(ctx, group.target))) hostnames.push(group.target);
  if (hostnames.length < PREFETCH_FROM) return;
  try {
    await prefetchRecords(ctx, hostnames);
  } catch {
    // Best effort: without the prefetch each hostname lists its own name, and a real failure is reported there.
    ctx.records.clear();
  }
}

/** A follow-up without a row of its own that could not run: keep the intent as a row so it is not forgotten. */
async function keepIntent(ctx: SyncContext, group: Group, error: string, at: Date): Promise<void> {
  await ctx.db.insert(outbox).values({
    account: ctx.account,
    kind: syncKind(group.phase),
    target: group.target,
    payload: group.payload,
    createdAt: ctx.now().toISOString(),
    attempts: 1,
    lastError: error,
    nextAttemptAt: at.toISOString(),
  });
}

/** Works the account's due outbox rows once. */
export async function drainOutbox(ctx: SyncContext): Promise<DrainReport> {
  const now = ctx.now();
  const rows = await ctx.db
    .select()
    .from(outbox)
    .where(
      and(
        eq(outbox.account, ctx.account),
        eq(outbox.status, 'pending'),
        or(isNull(outbox.nextAttemptAt), lte(outbox.nextAttemptAt, now.toISOString())),
      ),
    )
    .orderBy(asc(outbox.id))
    .limit(MAX_ROWS);
  const grouped = groupRows(rows);
  const queue = grouped.filter((g) => (PHASES as readonly string[]).includes(g.phase));
  const seen = new Set(queue.map((g) => `${g.phase}|${g.target}`));
  const report: DrainReport = {
    runId: ctx.runId,
    targets: 0,
    done: 0,
    failed: 0,
    calls: 0,
    waitingUntil: null,
    nextRunAt: null,
    errors: [],
  };
  const callsBefore = ctx.budget.calls;
  let nextRun: Date | null = null;
  // A hostname's CNAME waits for its tunnel's config: never point DNS at a tunnel whose rules failed to update.
  const blockedConfigs = new Map<string, { at: Date; error: string }>();
  const done: number[] = [];
  // A kind this writer does not know (written by a newer Worker?) stays visible with its error, retried with backoff.
  for (const group of grouped.filter((g) => !queue.includes(g))) {
    const message = `unknown outbox kind "${group.phase}"; this version of the sync writer cannot reconcile it`;
    report.failed += group.rows.length;
    report.errors.push({ target: `${group.phase}:${group.target}`, error: message });
    const retryAt = await markRetry(ctx, group, message, null);
    if (!nextRun || retryAt < nextRun) nextRun = retryAt;
  }

  for (let phase = 0; phase < PHASES.length; phase++) {
    const current = PHASES[phase];
    await markDone(ctx, done);
    if (current === 'dns') await prefetchDns(ctx, queue);
    // DNS is decided for every hostname first and written per zone in batches; other phases reconcile one by one.
    let dnsResults: DnsResults | undefined;
    let stopAt: RateLimitWait | undefined;
    for (let i = 0; i < queue.length; i++) {
      const group = queue[i];
      if (!group || group.phase !== current) continue;
      const blocked =
        group.phase === 'dns' && typeof group.payload.tunnel === 'string' ? blockedConfigs.get(group.payload.tunnel) : undefined;
      if (blocked) {
        report.targets += 1;
        const message = `waiting for the config of tunnel "${String(group.payload.tunnel)}" (${blocked.error})`;
        report.failed += group.rows.length;
        await markRetry(ctx, group, message, blocked.at);
        if (group.rows.length === 0) await keepIntent(ctx, group, message, blocked.at);
        continue;
      }
      let failure: { error: unknown } | undefined;
      if (group.phase === 'dns') {
        dnsResults ??= await reconcileDnsBatched(ctx, dnsTargets(queue, blockedConfigs));
        // Not reached: the token's rate limit stopped the batch run; the rows keep their place.
        if (!dnsResults.has(group.target)) continue;
        const error = dnsResults.get(group.target);
        if (error !== null) failure = { error };
      } else {
        try {
          for (const extra of await reconcile(ctx, group)) {
            const key = `${extra.phase}|${extra.target}`;
            if (seen.has(key)) continue;
            seen.add(key);
            queue.push(extra);
          }
        } catch (error) {
          failure = { error };
        }
      }
      report.targets += 1;
      if (!failure) {
        // Marked done together at the end of the phase; if the writer dies first, the rows simply run again.
        done.push(...group.rows.map((r) => r.id));
        report.done += group.rows.length;
        continue;
      }
      const wait = rateLimitWait(failure.error, ctx.budget);
      const message = wait ? wait.message : describeError(failure.error);
      report.failed += group.rows.length;
      report.errors.push({ target: `${syncKind(group.phase)}:${group.target}`, error: message });
      await markFailure(ctx, syncKind(group.phase), syncTarget(ctx, group), message);
      const retryAt = await markRetry(ctx, group, message, wait ? wait.until : null);
      if (group.rows.length === 0) await keepIntent(ctx, group, message, retryAt);
      if (group.phase === 'tunnel_config') blockedConfigs.set(group.target, { at: retryAt, error: message });
      if (!nextRun || retryAt < nextRun) nextRun = retryAt;
      if (wait) {
        stopAt = wait;
        // One by one, every later call would fail until then: stop now. A DNS batch run has already stopped; its
        // other hostnames' results are recorded before the drain stops.
        if (group.phase !== 'dns') break;
      }
    }
    if (stopAt) {
      await markDone(ctx, done);
      // The rows not reached keep their place and run next time.
      report.waitingUntil = stopAt.until.toISOString();
      await noteRateLimit(ctx, stopAt.until);
      report.calls = ctx.budget.calls - callsBefore;
      report.nextRunAt = stopAt.until.toISOString();
      return report;
    }
  }
  await markDone(ctx, done);
  await noteRateLimit(ctx, null);
  report.calls = ctx.budget.calls - callsBefore;
  const remaining = rows.length === MAX_ROWS ? now : await nextDue(ctx);
  const candidates = [nextRun, remaining].filter((d): d is Date => d !== null);
  report.nextRunAt = candidates.length ? new Date(Math.min(...candidates.map((d) => d.getTime()))).toISOString() : null;
  return report;
}

async function noteRateLimit(ctx: SyncContext, until: Date | null): Promise<void> {
  await noteSync(ctx, 'account', ctx.account, {});
  // The writer ran, so whatever stopped it before (e.g. a missing token) is fixed.
  await ctx.db
    .update(cfSync)
    .set({ rateLimitedUntil: until ? until.toISOString() : null, lastRunId: ctx.runId, lastError: null, attempts: 0 })
    .where(eq(cfSync.key, `account:${ctx.account}`));
}

/** When the earliest pending row of the account is due, or null when none is pending. */
export async function nextDue(ctx: SyncContext): Promise<Date | null> {
  const pending = await ctx.db
    .select({ next: outbox.nextAttemptAt })
    .from(outbox)
    .where(and(eq(outbox.account, ctx.account), eq(outbox.status, 'pending')))
    .orderBy(asc(outbox.nextAttemptAt))
    .limit(1);
  const first = pending[0];
  if (!first) return null;
  return first.next ? new Date(first.next) : ctx.now();
}
