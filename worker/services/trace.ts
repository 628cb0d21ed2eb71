import { eq } from 'drizzle-orm';
import { clusterHealth, type ClusterHealth, type Route, type TraceLink, type TraceResponse, type UrlMatch } from '../../src/shared/api';
import { matchHost, parseRequestUrl } from '../../src/shared/cloudflared';
import { inList } from '../db/json-list';
import { connectionOf } from '../db/mappers';
import { routes, tunnels, workloadRoutes, workloads } from '../db/schema';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { latestReports } from './agent-reports';
import { loadCluster } from './clusters';
import { matchTunnelUrls } from './route-match';
import { getRoute } from './routes';

/** The host a route's hostname is compared with: lower case, port dropped (cloudflared ignores the port too). */
function hostOf(host: string): string {
  const bare = host.startsWith('[') ? host : host.replace(/:\d*$/, '');
  return bare.toLowerCase().replace(/\.$/, '');
}

/** Every route hostname that could cover `host`: itself and each `*.` wildcard of a suffix (cloudflared's wildcards match any depth). */
function candidateHostnames(host: string): string[] {
  const labels = host.split('.');
  return [host, ...labels.slice(1).map((_, i) => `*.${labels.slice(i + 1).join('.')}`)];
}

/**
 * The tunnel whose routes serve the host: a DNS name points at one tunnel (route writes refuse a second one), so the
 * exact hostname wins, then the most specific wildcard.
 */
async function tunnelForHost(deps: Deps, host: string): Promise<string | null> {
  const rows = await deps.db
    .select({ hostname: routes.hostname, tunnelId: routes.tunnelId })
    .from(routes)
    .where(inList(routes.hostname, candidateHostnames(host)));
  const covering = rows.filter((r) => matchHost(r.hostname, host)).sort((a, b) => b.hostname.length - a.hostname.length);
  return covering[0]?.tunnelId ?? null;
}

const link = (name: TraceLink['link'], status: TraceLink['status'], summary: string, suggestion: string | null = null): TraceLink => ({
  link: name,
  status,
  summary,
  suggestion,
});

function dnsLink(route: Route): TraceLink {
  const dns = route.dnsStatus ?? { state: 'pending', detail: null };
  switch (dns.state) {
    case 'synced':
      return link('dns', 'ok', `${route.hostname}: edgeplane's CNAME to the tunnel, synced with Cloudflare`);
    case 'off':
      return link(
        'dns',
        'unknown',
        `${route.hostname}: edgeplane manages no DNS record for it (the route has dns: false); whatever points it at the tunnel lives outside edgeplane`,
      );
    case 'pending':
      return link('dns', 'unknown', `${route.hostname}: edgeplane's record is pending, the Cloudflare sync has not written it yet`);
    case 'conflict':
      return link(
        'dns',
        'broken',
        `${route.hostname}: a record edgeplane does not own is in the way (${dns.detail ?? 'foreign record'})`,
        "delete or rename the foreign record in Cloudflare DNS; the sync then writes edgeplane's CNAME",
      );
    case 'failing':
      return link(
        'dns',
        'broken',
        `${route.hostname}: the Cloudflare sync fails to write the record: ${dns.detail ?? 'unknown error'}`,
        'see GET /v1/sync for the failing outbox row',
      );
  }
}

function ruleLink(tunnel: string, match: UrlMatch, route: Route | null): TraceLink {
  if (match.catchAll || !route) {
    const miss = match.nearestMiss;
    return link(
      'rule',
      'broken',
      `tunnel ${tunnel}: no rule matches, the catch-all answers (${match.service})` +
        (miss ? `; nearest rule ${miss.index + 1} (${miss.hostname ?? 'any host'}): ${miss.reason}` : ''),
      miss ? `add a route for ${match.host}${match.path} or widen rule ${miss.index + 1}` : `add a route for ${match.host}`,
    );
  }
  return link(
    'rule',
    'ok',
    `tunnel ${tunnel}, rule ${match.index + 1} of the compiled config (route ${route.id}): ${match.hostname ?? 'any host'} ${match.pathRegex ?? '(any path)'} → ${match.service}`,
  );
}

function originLink(route: Route, health: ClusterHealth | null): TraceLink {
  if (!('service' in route.origin))
    return link('origin', 'unknown', `${route.origin.url}: a URL origin outside the cluster, which the agent does not check`);
  const { name, namespace, port } = route.origin.service;
  const target = `Service ${namespace ?? 'default'}/${name}:${port}`;
  const check = health?.origins.find((o) => o.route === route.id);
  if (!check) return link('origin', 'unknown', `${target}: not reported yet by the agent`);
  return check.ok
    ? link('origin', 'ok', `${target}: ${check.message}`)
    : link('origin', 'broken', `${target}: ${check.message}`, check.message);
}

function connectorsLink(cluster: string, connection: string, health: ClusterHealth | null): TraceLink {
  if (!health) return link('connectors', 'unknown', `cluster ${cluster}: the agent has not reported yet (connection: ${connection})`);
  const { ready, desired } = health.connectors;
  const stale = connection === 'connected' ? '' : ` (last report; the agent is ${connection} now)`;
  const text = `cluster ${cluster}: ${ready} of ${desired} cloudflared replicas ready${stale}`;
  if (ready === 0)
    return link('connectors', 'broken', text, `kubectl -n edgeplane-system get pods: no cloudflared replica of the tunnel is ready`);
  return link('connectors', ready < desired ? 'degraded' : 'ok', text);
}

async function workloadOf(deps: Deps, routeId: string): Promise<typeof workloads.$inferSelect | null> {
  const own = await deps.db.query.workloads.findFirst({ where: eq(workloads.routeId, routeId) });
  if (own) return own;
  const owned = await deps.db.query.workloadRoutes.findFirst({ where: eq(workloadRoutes.routeId, routeId) });
  if (!owned) return null;
  return (await deps.db.query.workloads.findFirst({ where: eq(workloads.id, owned.workloadId) })) ?? null;
}

function workloadLink(id: string, health: ClusterHealth | null): TraceLink {
  const pods = health?.workloads?.find((w) => w.workload === id);
  if (!pods) return link('workload', 'unknown', `workload ${id}: pod health not reported yet`);
  const problem = pods.problems[0];
  const text =
    `workload ${id}: ${pods.status}, ${pods.ready} of ${pods.pods} pods ready` +
    (pods.error ? `; ${pods.error}` : '') +
    (problem ? `; ${problem.pod}: ${problem.reason} ${problem.message}` : '');
  const status = pods.status === 'Failed' ? 'broken' : pods.status === 'InProgress' ? 'degraded' : 'ok';
  return link('workload', status, text, problem ? `${problem.reason}: ${problem.message}` : null);
}

/**
 * The chain from a URL to its origin as edgeplane knows it: the route that owns the host, its DNS record, the rule
 * cloudflared picks on the tunnel's compiled config (the route tester), the origin the agent checked, the
 * connectors, and the workload's pods where edgeplane runs it. Links after a broken rule are not followed: no
 * route of edgeplane's serves the URL, so there is no origin to speak of.
 */
export async function traceUrl(deps: Deps, url: string): Promise<TraceResponse> {
  const parsed = parseRequestUrl(url);
  if (!parsed.ok) throw new AppError('validation_failed', parsed.message, { details: [{ path: 'query.url', message: parsed.message }] });
  const host = hostOf(parsed.request.host);
  const answer: TraceResponse = {
    url,
    host,
    path: parsed.request.path,
    tunnel: null,
    cluster: null,
    route: null,
    workload: null,
    dns: null,
    match: null,
    links: [],
    firstBroken: null,
  };
  const finish = (): TraceResponse => ({ ...answer, firstBroken: answer.links.find((l) => l.status === 'broken')?.link ?? null });

  const tunnelId = await tunnelForHost(deps, host);
  const tunnel = tunnelId ? await deps.db.query.tunnels.findFirst({ where: eq(tunnels.id, tunnelId) }) : undefined;
  if (!tunnel) {
    answer.links.push(
      link(
        'route',
        'broken',
        `no edgeplane route serves ${host}`,
        `add a route for ${host} (POST /v1/routes, or Tunnels & routes in the console)`,
      ),
    );
    return finish();
  }
  answer.tunnel = tunnel.id;
  answer.cluster = tunnel.clusterId;

  const [match] = (await matchTunnelUrls(deps, tunnel.id, [url])).matches;
  if (!match) throw new AppError('internal_error', 'the route tester gave no answer');
  answer.match = match;
  const route = match.routeId && !match.catchAll ? await getRoute(deps, match.routeId) : null;
  if (route) {
    answer.route = route.id;
    answer.links.push(
      link('route', 'ok', `route ${route.id}: ${route.hostname}${route.path ?? route.pathRegex ?? ''} on tunnel ${tunnel.id}`),
    );
    answer.dns = { hostname: route.hostname, ours: route.dns, status: route.dnsStatus ?? { state: 'pending', detail: null } };
    answer.links.push(dnsLink(route));
  } else {
    answer.links.push(link('route', 'ok', `tunnel ${tunnel.id} has routes for ${host}, but none of them takes this path`));
  }
  answer.links.push(ruleLink(tunnel.id, match, route));
  if (!route) return finish();

  const cluster = await loadCluster(deps, tunnel.clusterId);
  const [report] = await latestReports(deps, cluster.id, 1);
  const read = report ? clusterHealth.safeParse(report.health) : null;
  const health = read?.success ? read.data : null;
  answer.links.push(originLink(route, health));
  answer.links.push(connectorsLink(cluster.id, connectionOf(cluster, deps.now().getTime()), health));
  const workload = await workloadOf(deps, route.id);
  if (workload) {
    answer.workload = workload.id;
    answer.links.push(workloadLink(workload.id, health));
  }
  return finish();
}
