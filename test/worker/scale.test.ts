import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { commitWrite } from '../../worker/db/write';
import { api, serviceDeps } from './helpers';
import { type Scale, seedScale } from './scale-seed';

// Every endpoint at the size a real estate reaches: D1 binds at most 100 parameters per statement, so any query whose
// parameter count grows with the data (a page's hostnames, a plan's routes, a bundle's tunnels) would answer 500 here.

const COUNTS = { clusters: 200, routes: 2000, hostnames: 500, splitEntries: 2000 };
let scale: Scale;
// workerd with a local D1 on a shared 2-core machine: the whole estate takes seconds per test, not milliseconds.
vi.setConfig({ testTimeout: 120_000 });

beforeAll(async () => {
  scale = await seedScale('sc', COUNTS);
}, 120_000);

/** Follows nextCursor through every page of a list; returns all items. */
async function listAll(path: string, limit: number): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const sep = path.includes('?') ? '&' : '?';
    const response = await api('GET', `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
      role: 'viewer',
    });
    expect(response.status, `${path}: ${await response.clone().text()}`).toBe(200);
    const page = (await response.json()) as { items: Record<string, unknown>[]; nextCursor: string | null };
    items.push(...page.items);
    cursor = page.nextCursor;
    if (!cursor) return items;
  }
  throw new Error(`${path} did not end within 100 pages`);
}

const ok = async (
  method: string,
  path: string,
  body?: unknown,
  role: 'viewer' | 'editor' | 'admin' = method === 'GET' ? 'viewer' : 'editor',
) => {
  const response = await api(method, path, { role, body });
  expect(response.status, `${method} ${path}: ${(await response.clone().text()).slice(0, 300)}`).toBe(200);
  return response;
};

describe('every endpoint at scale: 2,000 routes over 500 hostnames, 200 clusters, 2,000 split-tunnel entries', () => {
  it('lists every collection through all its pages, routes with their DNS state (500 hostnames a page)', async () => {
    const routes = await listAll('/v1/routes', 500);
    expect(routes).toHaveLength(COUNTS.routes);
    const states = new Map(routes.map((r) => [r.hostname, (r.dnsStatus as { state: string }).state]));
    // Even-numbered hostnames were synced, odd ones still queued (and the first, made through the API, too): the status
    // is read for every hostname on the page.
    expect(states.get(scale.hostnames[0])).toBe('pending');
    expect(states.get(scale.hostnames[2])).toBe('synced');
    expect(states.get(scale.hostnames[1])).toBe('pending');
    expect(new Set(states.values())).toEqual(new Set(['synced', 'pending']));
    expect(await listAll(`/v1/routes?tunnel=${scale.bigTunnel}`, 200)).toHaveLength(COUNTS.routes);
    expect(await listAll('/v1/clusters', 500)).toHaveLength(COUNTS.clusters);
    expect(await listAll('/v1/tunnels', 500)).toHaveLength(COUNTS.clusters);
    expect(await listAll('/v1/private-networks', 500)).toHaveLength(COUNTS.clusters);
    expect(await listAll('/v1/split-tunnel', 500)).toHaveLength(COUNTS.splitEntries);
    expect((await listAll('/v1/audit', 500)).length).toBeGreaterThanOrEqual(5);
    await ok('GET', '/v1/tokens', undefined, 'admin');
    await ok('GET', '/v1/sync');
  });

  it('gets one of each resource, with the DNS state of a route', async () => {
    const route = (await (await ok('GET', `/v1/routes/${scale.routes[1999] ?? ''}`)).json()) as { dnsStatus: { state: string } };
    expect(route.dnsStatus.state).toBe('pending');
    await ok('GET', `/v1/clusters/${scale.clusters[199] ?? ''}`);
    await ok('GET', `/v1/tunnels/${scale.bigTunnel}`);
    await ok('GET', `/v1/private-networks/sc-pn0199`);
    await ok('GET', `/v1/split-tunnel/sc-st01999`);
    await ok('GET', `/v1/clusters/${scale.clusters[0] ?? ''}/reports`);
  });

  it('compiles the 2,000-rule tunnel config and the big cluster manifests', async () => {
    const config = (await (await ok('GET', `/v1/tunnels/${scale.bigTunnel}/config`)).json()) as { config: { ingress: unknown[] } };
    expect(config.config.ingress).toHaveLength(COUNTS.routes + 1);
    const manifests = (await (await ok('GET', `/v1/clusters/${scale.clusters[0] ?? ''}/manifests`)).json()) as { objects: unknown[] };
    expect(manifests.objects.length).toBeGreaterThan(0);
    await ok('GET', `/v1/clusters/${scale.clusters[199] ?? ''}/manifests`);
  });

  it("answers every one of the 200 agents' bundle requests", async () => {
    for (const [cluster, credential] of scale.credentials) {
      const response = await api('GET', '/agent/v1/desired', { token: credential });
      expect(response.status, `${cluster}: ${(await response.clone().text()).slice(0, 200)}`).toBe(200);
      const bundle = (await response.json()) as { objects: unknown[] };
      expect(bundle.objects.length).toBeGreaterThan(0);
    }
  });

  it('plans the whole estate, and 200 route changes at once', async () => {
    const whole = (await (await ok('POST', '/v1/plan', { changes: [] })).json()) as { tunnels: unknown[] };
    expect(whole.tunnels).toHaveLength(COUNTS.clusters);
    const changes = scale.routes
      .slice(0, 200)
      .map((id, i) =>
        i % 2 === 0 ? { action: 'route.delete', id } : { action: 'route.update', id, route: { originRequest: { connectTimeout: 5 } } },
      );
    const planned = (await (await ok('POST', '/v1/plan', { changes })).json()) as {
      tunnels: { id: string; status: string; diff: { rules: unknown[] } }[];
    };
    const big = planned.tunnels.find((t) => t.id === scale.bigTunnel);
    expect(big?.status).toBe('changed');
    expect(big?.diff.rules).toHaveLength(200);
  });

  it('commits a write that queues 3,000 outbox rows (a full sync of a large account) in one statement', async () => {
    const intents = Array.from({ length: 3000 }, (_, i) => ({
      account: scale.account,
      kind: 'dns' as const,
      target: `bulk-${i}.sc.example.com`,
      payload: { tunnel: scale.bigTunnel, n: i },
    }));
    await commitWrite(serviceDeps(), {
      statements: [],
      audit: { action: 'sync', entityType: 'cloudflare_sync', entityId: 'scale-test' },
      outbox: intents,
      clusters: scale.clusters,
    });
    const rows = await env.DB.prepare(
      `SELECT target, payload, status, attempts FROM outbox WHERE account = ? AND target LIKE 'bulk-%' ORDER BY id`,
    )
      .bind(scale.account)
      .all<{ target: string; payload: string; status: string; attempts: number }>();
    expect(rows.results).toHaveLength(3000);
    expect(rows.results[2999]).toEqual({
      target: 'bulk-2999.sc.example.com',
      payload: JSON.stringify({ tunnel: scale.bigTunnel, n: 2999 }),
      status: 'pending',
      attempts: 0,
    });
    // All 200 clusters' revisions moved in the same batch.
    const bumped = await env.DB.prepare(`SELECT count(*) AS n FROM clusters WHERE desired_revision > 1 AND id LIKE 'sc-%'`).first<{
      n: number;
    }>();
    expect(bumped?.n).toBe(COUNTS.clusters);
  });
});
