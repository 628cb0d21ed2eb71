import { and, asc, count, desc, eq, gte, lte } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type {
  Probe,
  ProbeChange,
  ProbeCreate,
  ProbeReport,
  ProbeRequest,
  ProbeSchedule,
  ProbeScheduleCreate,
} from '../../src/shared/api/probe';
import { inList } from '../db/json-list';
import { PROBE_DEADLINE_MS, toApiProbe, toApiProbeSchedule } from '../db/mappers';
import { probeSchedules, probes } from '../db/schema';
import type { Write } from '../db/write';
import type { Deps } from '../deps';
import { commit } from '../effects/commit';
import { AppError, notFound } from '../errors';
import { newId } from '../ids';
import { loadCluster } from './clusters';

type ProbeRow = typeof probes.$inferSelect;
type Matrix = NonNullable<Probe['matrix']>;

/** Probes waiting for a cluster's agent at once: each is a Job per node, so a burst is refused rather than queued. */
export const MAX_PENDING_PROBES = 5;
/** Probe schedules per cluster. */
export const MAX_PROBE_SCHEDULES = 10;

/**
 * Decides a new probe: a `probes` row that bumps the cluster's revision, so the agent is notified and its next bundle
 * (whose ETag is the revision) carries the probe (docs/adr/0012-probes-in-the-bundle.md).
 */
function prepareProbe(deps: Deps, clusterId: string, request: ProbeCreate, scheduleId: string | null): { row: ProbeRow; write: Write } {
  const at = deps.now();
  const row: ProbeRow = {
    id: newId('prb', at),
    clusterId,
    scheduleId,
    request,
    status: 'pending',
    matrix: null,
    changes: null,
    createdAt: at.toISOString(),
    completedAt: null,
  };
  return {
    row,
    write: {
      statements: [deps.db.insert(probes).values(row)],
      audit: { action: 'probe.create', entityType: 'probe', entityId: row.id, after: { clusterId, scheduleId, request } },
      clusters: [clusterId],
    },
  };
}

async function pendingCount(deps: Deps, clusterId: string): Promise<number> {
  const since = new Date(deps.now().getTime() - PROBE_DEADLINE_MS).toISOString();
  const [row] = await deps.db
    .select({ n: count() })
    .from(probes)
    .where(and(eq(probes.clusterId, clusterId), eq(probes.status, 'pending'), gte(probes.createdAt, since)));
  return row?.n ?? 0;
}

/** Asks the cluster's agent to probe egress from its nodes; answers the pending probe. */
export async function createProbe(deps: Deps, clusterId: string, request: ProbeCreate): Promise<Probe> {
  await loadCluster(deps, clusterId);
  if ((await pendingCount(deps, clusterId)) >= MAX_PENDING_PROBES)
    throw new AppError(
      'conflict',
      `cluster "${clusterId}" already has ${MAX_PENDING_PROBES} probes waiting for its agent; wait for one to complete or expire (15 min)`,
    );
  const { row, write } = prepareProbe(deps, clusterId, request, null);
  await commit(deps, write);
  return toApiProbe(row, deps.now().getTime());
}

/** One probe of a cluster. */
export async function getProbe(deps: Deps, clusterId: string, probeId: string): Promise<Probe> {
  await loadCluster(deps, clusterId);
  const row = await deps.db.query.probes.findFirst({ where: and(eq(probes.id, probeId), eq(probes.clusterId, clusterId)) });
  if (!row) throw notFound('probe', probeId);
  return toApiProbe(row, deps.now().getTime());
}

/** The latest probes of a cluster, newest first. */
export async function listProbes(deps: Deps, clusterId: string, limit: number): Promise<Probe[]> {
  await loadCluster(deps, clusterId);
  const rows = await deps.db
    .select()
    .from(probes)
    .where(eq(probes.clusterId, clusterId))
    .orderBy(desc(probes.createdAt), desc(probes.id))
    .limit(limit);
  const now = deps.now().getTime();
  return rows.map((r) => toApiProbe(r, now));
}

/** The cluster's last completed probe: its current egress matrix. */
export async function lastMatrix(deps: Deps, clusterId: string): Promise<Probe> {
  await loadCluster(deps, clusterId);
  const row = await deps.db.query.probes.findFirst({
    where: and(eq(probes.clusterId, clusterId), eq(probes.status, 'completed')),
    orderBy: [desc(probes.completedAt), desc(probes.id)],
  });
  if (!row) throw new AppError('not_found', `cluster "${clusterId}" has no completed probe yet; POST /v1/clusters/${clusterId}/probes`);
  return toApiProbe(row, deps.now().getTime());
}

/** The probes a cluster's bundle carries: pending and not past the deadline, oldest first. */
export async function pendingProbeRequests(deps: Deps, clusterId: string): Promise<ProbeRequest[]> {
  const since = new Date(deps.now().getTime() - PROBE_DEADLINE_MS).toISOString();
  const rows = await deps.db
    .select({ id: probes.id, request: probes.request })
    .from(probes)
    .where(and(eq(probes.clusterId, clusterId), eq(probes.status, 'pending'), gte(probes.createdAt, since)))
    .orderBy(asc(probes.createdAt), asc(probes.id));
  return rows.map(({ id, request }) => {
    const r = request as ProbeCreate;
    return {
      id,
      targets: r.targets.map((t) => ({
        host: t.host,
        port: t.port,
        tls: t.tls,
        tlsVerify: t.tlsVerify,
        ...(t.serverName ? { serverName: t.serverName } : {}),
      })),
      nodes: r.nodes ?? null,
      timeoutMs: r.timeoutMs,
      hostNetwork: r.hostNetwork,
    };
  });
}

/** The matrix of a report: one row per node, one cell per requested target, in request order. */
function matrixOf(request: ProbeCreate, report: ProbeReport): Matrix {
  return report.nodes.map((n) => ({
    node: n.node,
    ran: n.ran,
    message: n.message ?? null,
    cells: n.ran
      ? request.targets.map((t, i) => {
          const o = n.outcomes[i];
          return {
            host: t.host,
            port: t.port,
            ok: o?.ok ?? false,
            latencyMs: o?.ms ?? null,
            address: o?.address ?? null,
            error: o?.error ?? (o ? null : { kind: 'error' as const, message: 'the agent reported no outcome for this target' }),
          };
        })
      : [],
  }));
}

/** Each cell's state, keyed `node|host|port`: "ok", the error kind, or "not_run" for every target of a node that did not run. */
function cellStates(request: ProbeCreate, matrix: Matrix): Map<string, string> {
  const states = new Map<string, string>();
  for (const row of matrix)
    for (const t of request.targets) {
      const cell = row.cells.find((c) => c.host === t.host && c.port === t.port);
      states.set(`${row.node}|${t.host}|${t.port}`, !row.ran ? 'not_run' : cell?.ok ? 'ok' : (cell?.error?.kind ?? 'error'));
    }
  return states;
}

/** The cells whose state differs from the previous run's. */
export function matrixChanges(request: ProbeCreate, before: Matrix | null, after: Matrix): ProbeChange[] {
  const old = before ? cellStates(request, before) : new Map<string, string>();
  const changes: ProbeChange[] = [];
  for (const [key, state] of cellStates(request, after)) {
    const previous = old.get(key) ?? null;
    if (previous === state) continue;
    const [node = '', host = '', port = '0'] = key.split('|');
    changes.push({ node, host, port: Number(port), before: previous, after: state });
  }
  return changes;
}

/**
 * The statements that complete the probes an agent reported, for the report's batch. A probe of another cluster, an
 * unknown one or one already completed is ignored: the agent repeats a report until its bundle drops the probe.
 */
export async function probeReportStatements(deps: Deps, clusterId: string, reports: ProbeReport[]): Promise<BatchItem<'sqlite'>[]> {
  if (reports.length === 0) return [];
  const rows = await deps.db
    .select()
    .from(probes)
    .where(
      and(
        eq(probes.clusterId, clusterId),
        eq(probes.status, 'pending'),
        inList(
          probes.id,
          reports.map((r) => r.id),
        ),
      ),
    );
  const at = deps.now().toISOString();
  const statements: BatchItem<'sqlite'>[] = [];
  for (const row of rows) {
    const report = reports.find((r) => r.id === row.id);
    if (!report) continue;
    const request = row.request as ProbeCreate;
    const matrix = matrixOf(request, report);
    let changes: ProbeChange[] | null = null;
    if (row.scheduleId) {
      const previous = await deps.db.query.probes.findFirst({
        where: and(eq(probes.scheduleId, row.scheduleId), eq(probes.status, 'completed')),
        orderBy: [desc(probes.completedAt), desc(probes.id)],
      });
      changes = matrixChanges(request, (previous?.matrix ?? null) as Matrix | null, matrix);
    }
    statements.push(
      deps.db
        .update(probes)
        .set({ status: 'completed', matrix, changes, completedAt: at })
        .where(and(eq(probes.id, row.id), eq(probes.status, 'pending'))),
    );
  }
  return statements;
}

/** Schedules a probe every `everyMinutes`; the first run is due at once. */
export async function createProbeSchedule(deps: Deps, clusterId: string, input: ProbeScheduleCreate): Promise<ProbeSchedule> {
  await loadCluster(deps, clusterId);
  const [existing] = await deps.db.select({ n: count() }).from(probeSchedules).where(eq(probeSchedules.clusterId, clusterId));
  if ((existing?.n ?? 0) >= MAX_PROBE_SCHEDULES)
    throw new AppError('conflict', `cluster "${clusterId}" already has ${MAX_PROBE_SCHEDULES} probe schedules; delete one first`);
  const { everyMinutes, ...request } = input;
  const at = deps.now();
  const row: typeof probeSchedules.$inferSelect = {
    id: newId('prs', at),
    clusterId,
    request,
    everyMinutes,
    nextRunAt: at.toISOString(),
    lastProbeId: null,
    createdAt: at.toISOString(),
  };
  await commit(deps, {
    statements: [deps.db.insert(probeSchedules).values(row)],
    audit: { action: 'probe_schedule.create', entityType: 'probe_schedule', entityId: row.id, after: row },
  });
  return toApiProbeSchedule(row);
}

/** The probe schedules of a cluster. */
export async function listProbeSchedules(deps: Deps, clusterId: string): Promise<ProbeSchedule[]> {
  await loadCluster(deps, clusterId);
  const rows = await deps.db.select().from(probeSchedules).where(eq(probeSchedules.clusterId, clusterId)).orderBy(asc(probeSchedules.id));
  return rows.map(toApiProbeSchedule);
}

/** Deletes a schedule; the probes it ran stay. */
export async function deleteProbeSchedule(deps: Deps, clusterId: string, scheduleId: string): Promise<void> {
  await loadCluster(deps, clusterId);
  const row = await deps.db.query.probeSchedules.findFirst({
    where: and(eq(probeSchedules.id, scheduleId), eq(probeSchedules.clusterId, clusterId)),
  });
  if (!row) throw notFound('probe schedule', scheduleId);
  await commit(deps, {
    statements: [deps.db.delete(probeSchedules).where(eq(probeSchedules.id, scheduleId))],
    audit: { action: 'probe_schedule.delete', entityType: 'probe_schedule', entityId: scheduleId, before: row },
  });
}

/**
 * Runs the schedules that are due (Cron Trigger): each gets a new probe, unless its previous one is still pending, and
 * its next run moves `everyMinutes` on. Returns the probes created.
 */
export async function runDueProbeSchedules(deps: Deps): Promise<string[]> {
  const now = deps.now();
  const due = await deps.db.select().from(probeSchedules).where(lte(probeSchedules.nextRunAt, now.toISOString())).limit(50);
  const created: string[] = [];
  for (const schedule of due) {
    const next = new Date(now.getTime() + schedule.everyMinutes * 60_000).toISOString();
    const last = schedule.lastProbeId ? await deps.db.query.probes.findFirst({ where: eq(probes.id, schedule.lastProbeId) }) : undefined;
    const waiting = last && toApiProbe(last, now.getTime()).status === 'pending';
    if (waiting) {
      await deps.db.update(probeSchedules).set({ nextRunAt: next }).where(eq(probeSchedules.id, schedule.id));
      continue;
    }
    const { row, write } = prepareProbe(deps, schedule.clusterId, schedule.request as ProbeCreate, schedule.id);
    write.statements.push(
      deps.db.update(probeSchedules).set({ nextRunAt: next, lastProbeId: row.id }).where(eq(probeSchedules.id, schedule.id)),
    );
    await commit(deps, write);
    created.push(row.id);
  }
  return created;
}
