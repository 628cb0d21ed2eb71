import { eq } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { workloadCreate } from '../../src/shared/api';
import { type ComposeRoute, type ComposeServiceReport, readCompose, type UnroutedRule } from '../../src/shared/compiler';
import { stillExists, unchangedSince } from '../db/guards';
import { inList } from '../db/json-list';
import { clusters, routes, tunnels, workloadRoutes, workloads } from '../db/schema';
import type { Guard, OutboxIntent } from '../db/write';
import { commit } from '../effects/commit';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { newId } from '../ids';
import { dnsIntents } from './routes';
import { checkSpec, sealEnv, specOfCreate, type WorkloadRow } from './workload-rows';
import { discoveredInfra, pinInfraRefs } from './workload-infra';
import { loadRouteTunnel, loadTargetCluster } from './workloads';

/** What to import and where. */
export interface ComposeImportRequest {
  cluster: string;
  namespace: string;
  tunnel?: string;
  compose: string;
  env: Record<string, string>;
  envFiles: Record<string, string>;
  hostname?: string;
  cloudflaredConfig?: string;
  /** Re-point a route of this tunnel with the same hostname and path to the new Service instead of refusing it. */
  replaceRoutes?: boolean;
  dryRun: boolean;
}

type Status = 'would-create' | 'created' | 'would-replace' | 'replaced' | 'conflict';

/** What an import did or would do: per service, per route, and what was left out. */
export interface ComposeImportReport {
  cluster: string;
  namespace: string;
  tunnel: string | null;
  dryRun: boolean;
  services: (ComposeServiceReport & { result?: Status; conflict?: string })[];
  routes: (ComposeRoute & { status: Status; reason?: string; id?: string; replaces?: { origin: unknown } })[];
  unrouted: UnroutedRule[];
  warnings: string[];
  summary: { workloads: number; routes: number; skipped: number; unrouted: number; conflicts: number };
}

/** "/" and no path both match every path of the hostname: a route at one of them is the route at the other. */
const samePath = (a: string, b: string): boolean => (a === '/' ? '' : a) === (b === '/' ? '' : b);

/**
 * Reads a docker-compose.yml into workloads and tunnel routes. A dry run (the default) reports; otherwise every workload
 * and route is created in one write, or — on any conflict with what exists — nothing is (409 naming each conflict).
 */
export async function importCompose(deps: Deps, request: ComposeImportRequest): Promise<ComposeImportReport> {
  await loadTargetCluster(deps, request.cluster);
  const tunnel = request.tunnel ? await loadRouteTunnel(deps, request.tunnel, request.cluster, 'body.tunnel') : null;
  const parsed = readCompose(request.compose, {
    namespace: request.namespace,
    infra: (await discoveredInfra(deps, request.cluster)).instances,
    env: request.env,
    envFiles: request.envFiles,
    ...(request.hostname ? { hostname: request.hostname } : {}),
    ...(request.cloudflaredConfig ? { cloudflaredConfig: request.cloudflaredConfig } : {}),
  });
  if (!parsed.ok) throw invalidCompose(parsed.errors.map((e) => ({ path: `body.compose.${e.path}`, message: e.message })));
  const proposal = parsed.proposal;

  // Every proposed workload must be a valid POST /v1/workloads body; a failure names the service and field.
  const problems: { path: string; message: string }[] = [];
  const bodies = [];
  for (const s of proposal.services) {
    if (!s.workload) continue;
    const body = workloadCreate.safeParse({ ...s.workload, cluster: request.cluster });
    if (!body.success) {
      for (const issue of body.error.issues)
        problems.push({
          path: `body.compose.services.${s.service}.${issue.path.join('.')}`,
          message: `service "${s.service}": ${issue.message}`,
        });
    } else bodies.push(body.data);
  }
  if (problems.length > 0) throw invalidCompose(problems);

  const taken = new Set(
    (
      await deps.db
        .select({ id: workloads.id })
        .from(workloads)
        .where(
          inList(
            workloads.id,
            bodies.map((b) => b.id),
          ),
        )
    ).map((r) => r.id),
  );
  const hostRows = await deps.db
    .select()
    .from(routes)
    .where(inList(routes.hostname, [...new Set(proposal.routes.map((r) => r.hostname))]));
  // The workload (own `route`, or an earlier import) that owns each of those routes: an owned route is never re-pointed.
  const hostRouteIds = hostRows.map((r) => r.id);
  const owners = new Map<string, string>([
    ...(
      await deps.db
        .select({ routeId: workloadRoutes.routeId, workloadId: workloadRoutes.workloadId })
        .from(workloadRoutes)
        .where(inList(workloadRoutes.routeId, hostRouteIds))
    ).map((o): [string, string] => [o.routeId, o.workloadId]),
    ...(
      await deps.db
        .select({ routeId: workloads.routeId, workloadId: workloads.id })
        .from(workloads)
        .where(inList(workloads.routeId, hostRouteIds))
    ).flatMap((o): [string, string][] => (o.routeId ? [[o.routeId, o.workloadId]] : [])),
  ]);
  const services = proposal.services.map((s) => {
    if (!s.workload) return s;
    const conflict = taken.has(s.workload.id) ? `workload "${s.workload.id}" already exists` : undefined;
    return {
      ...s,
      result: (conflict ? 'conflict' : request.dryRun ? 'would-create' : 'created') as Status,
      ...(conflict ? { conflict } : {}),
    };
  });
  const reportRoutes: ComposeImportReport['routes'] = proposal.routes.map((r) => {
    const other = hostRows.find((x) => x.hostname === r.hostname && x.tunnelId !== tunnel?.id);
    const same = hostRows.find(
      (x) => x.hostname === r.hostname && samePath(x.path, r.path ?? '') && x.pathRegex === '' && x.tunnelId === tunnel?.id,
    );
    const owner = same ? owners.get(same.id) : undefined;
    const reason = !tunnel
      ? 'no tunnel was given; pass "tunnel" to create the routes'
      : other
        ? `hostname "${r.hostname}" is already routed through tunnel "${other.tunnelId}" (route ${other.id})`
        : same && owner
          ? `already routed on this tunnel by route ${same.id}, which belongs to workload "${owner}"`
          : same && !request.replaceRoutes
            ? `already routed on this tunnel by route ${same.id}; pass "replaceRoutes": true to re-point it to the new Service`
            : undefined;
    if (reason) return { ...r, status: 'conflict' as Status, reason };
    if (same)
      return { ...r, status: (request.dryRun ? 'would-replace' : 'replaced') as Status, id: same.id, replaces: { origin: same.origin } };
    return { ...r, status: (request.dryRun ? 'would-create' : 'created') as Status };
  });
  const conflicts = [
    ...services.flatMap((s) => ('conflict' in s && s.conflict ? [s.conflict] : [])),
    ...reportRoutes.flatMap((r) => (r.reason ? [r.reason] : [])),
  ];
  const report: ComposeImportReport = {
    cluster: request.cluster,
    namespace: request.namespace,
    tunnel: tunnel?.id ?? null,
    dryRun: request.dryRun,
    services,
    routes: reportRoutes,
    unrouted: proposal.unrouted,
    warnings: proposal.warnings,
    summary: {
      workloads: bodies.length,
      routes: reportRoutes.filter((r) => r.status !== 'conflict').length,
      skipped: proposal.services.filter((s) => s.status === 'skipped').length,
      unrouted: proposal.unrouted.length,
      conflicts: conflicts.length,
    },
  };
  if (request.dryRun) return report;
  if (conflicts.length > 0) {
    throw new AppError('conflict', `nothing was imported: ${conflicts.length} conflict(s) with what exists, first: ${conflicts[0] ?? ''}`, {
      details: conflicts.map((message) => ({ path: 'body.compose', message })),
    });
  }

  const at = deps.now().toISOString();
  const statements: BatchItem<'sqlite'>[] = [];
  for (const body of bodies) {
    const sealed = await sealEnv(deps, body.env, {});
    const spec = specOfCreate(body, pinInfraRefs(sealed.env, [], `body.compose.services.${body.id}.env`));
    checkSpec(spec, `body.compose.services.${body.id}`);
    const row: WorkloadRow = {
      id: body.id,
      clusterId: request.cluster,
      namespace: request.namespace,
      spec,
      secretsCiphertext: sealed.secretsCiphertext,
      routeId: null,
      version: 1,
      createdAt: at,
      updatedAt: at,
    };
    statements.push(deps.db.insert(workloads).values(row));
  }
  const outbox: OutboxIntent[] = [];
  const guards: Guard[] = [
    stillExists(clusters, clusters.id, request.cluster, new AppError('conflict', `cluster "${request.cluster}" was deleted meanwhile`)),
  ];
  if (tunnel && reportRoutes.length > 0) {
    for (const r of reportRoutes) {
      const origin = { service: { namespace: request.namespace, name: r.workload, port: r.port } };
      const replaced = r.status === 'replaced' ? hostRows.find((x) => x.id === r.id) : undefined;
      if (replaced) {
        // Re-pointed in place: its id, path, DNS, Access and origin settings stay; only the origin moves to the Service.
        guards.push(unchangedSince(routes, replaced.id, replaced.version, `route ${replaced.id}`));
        statements.push(
          deps.db
            .update(routes)
            .set({ origin, version: replaced.version + 1, updatedAt: at })
            .where(eq(routes.id, replaced.id)),
          deps.db.insert(workloadRoutes).values({ routeId: replaced.id, workloadId: r.workload }),
        );
        continue;
      }
      r.id = newId('rt', deps.now());
      statements.push(
        deps.db.insert(routes).values({
          id: r.id,
          tunnelId: tunnel.id,
          hostname: r.hostname,
          path: r.path ?? '',
          origin,
          originRequest: {},
          dns: true,
          access: null,
          version: 1,
          createdAt: at,
          updatedAt: at,
        }),
        // Owned by the workload it leads to: deleting the workload deletes the route (docs/workloads.md).
        deps.db.insert(workloadRoutes).values({ routeId: r.id, workloadId: r.workload }),
      );
    }
    guards.push(stillExists(tunnels, tunnels.id, tunnel.id, new AppError('conflict', `tunnel "${tunnel.id}" was deleted meanwhile`)));
    outbox.push(
      { account: tunnel.account, kind: 'tunnel_config', target: tunnel.id },
      ...dnsIntents(tunnel.account, tunnel.id, ...reportRoutes.map((r) => r.hostname)),
    );
  }
  await commit(deps, {
    guards,
    statements,
    audit: {
      action: 'import',
      entityType: 'workload',
      entityId: `compose:${request.cluster}/${request.namespace}`,
      after: {
        workloads: bodies.map((b) => b.id),
        routes: reportRoutes.filter((r) => r.status === 'created').map((r) => r.id),
        // A re-pointed route's previous origin, so the audit log shows where its traffic went before.
        replaced: reportRoutes.flatMap((r) => (r.status === 'replaced' && r.id ? [{ id: r.id, origin: r.replaces?.origin }] : [])),
      },
    },
    outbox,
    clusters: [request.cluster],
  });
  return report;
}

function invalidCompose(details: { path: string; message: string }[]): AppError {
  const first = details[0];
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
  return new AppError(
    'validation_failed',
    `the compose file cannot be imported: ${first ? `${first.path}: ${first.message}` : 'unreadable'}${more}`,
    { details },
  );
}
