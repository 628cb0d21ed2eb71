import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { AgentStatus } from '../../src/shared/api/agent';
import { compileClusterBundle, type KubeObject } from '../../src/shared/compiler';
import { newSecret } from '../../worker/crypto';
import { loadDesiredCluster } from '../../worker/db/desired-state';
import { clusterWithTunnel } from './fixtures';
import { api, count, expectError, serviceDeps, storeSnapshot, uid } from './helpers';

// Infra discovery, infra env references, pod-level health and the delete rules around workloads, through the public
// API and the agent protocol in workerd with the real local D1.

interface Doc {
  kind: string;
  stringData?: { token?: string };
  rules?: { resources: string[]; verbs: string[] }[];
}

/** Installs and registers an agent for the cluster the way the agent does; returns its credential and the manifest. */
async function agentOf(cluster: string): Promise<{ credential: string; docs: Doc[] }> {
  const manifest = await api('GET', `/v1/clusters/${cluster}/install.yaml`);
  const docs = parseAllDocuments(await manifest.text()).map((d) => d.toJSON() as Doc);
  const token = docs.find((d) => d.kind === 'Secret')?.stringData?.token ?? '';
  const credential = `epa.${cluster}.${newSecret('k').slice(2)}`;
  const response = await SELF.fetch('https://edgeplane.test/agent/v1/register', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      clusterId: cluster,
      credential,
      identity: `uid-${cluster}`,
      kubernetesVersion: 'v1.31.4+k3s1',
      nodeCount: 3,
      agentVersion: '0.1.0',
    }),
  });
  expect(response.status).toBe(201);
  return { credential, docs };
}

const pg = (namespace: string, name: string, port = 5432) => ({
  kind: 'postgres' as const,
  namespace,
  name,
  host: `${name}.${namespace}.svc.cluster.local`,
  port,
  image: 'docker.io/bitnami/postgresql:16.4.0',
  matchedBy: 'image' as const,
});
const redis = {
  kind: 'redis' as const,
  namespace: 'data',
  name: 'cache',
  host: 'cache.data.svc.cluster.local',
  port: 6379,
  matchedBy: 'port' as const,
};

async function report(cluster: string, credential: string, extra: Partial<AgentStatus>): Promise<Response> {
  const desired = (await (await api('GET', `/v1/clusters/${cluster}`)).json()) as { desiredRevision: number };
  const body: AgentStatus = {
    revision: desired.desiredRevision,
    hash: 'h',
    applied: true,
    durationMs: 5,
    results: [],
    conflicts: [],
    pruned: [],
    health: { status: 'Current', objects: [], connectors: { desired: 0, ready: 0 }, origins: [] },
    agentVersion: '0.1.0',
    ...extra,
  };
  return SELF.fetch('https://edgeplane.test/agent/v1/status', {
    method: 'POST',
    headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

const configMap = async (cluster: string, name: string) =>
  compileClusterBundle(await loadDesiredCluster(serviceDeps(), cluster)).objects.find(
    (o: KubeObject) => o.kind === 'ConfigMap' && o.metadata.name === name,
  )?.data;

const revision = async (cluster: string) =>
  ((await (await api('GET', `/v1/clusters/${cluster}`)).json()) as { desiredRevision: number }).desiredRevision;

describe('infra discovery and {"infra": ...} references', () => {
  it('grants the agent list on pods only', async () => {
    const { cluster } = await clusterWithTunnel();
    const { docs } = await agentOf(cluster);
    const rules = docs.find((d) => d.kind === 'ClusterRole')?.rules ?? [];
    expect(rules.filter((r) => r.resources.includes('pods'))).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }]);
  });

  it('lists what the agent found with the cluster’s database workloads, to any reader; 404 and 401 as everywhere', async () => {
    const { cluster } = await clusterWithTunnel();
    const empty = await api('GET', `/v1/clusters/${cluster}/infra`, { role: 'viewer' });
    expect(empty.status).toBe(200);
    expect(await empty.json()).toEqual({ items: [], reportedAt: null });
    const { credential } = await agentOf(cluster);
    expect((await report(cluster, credential, { infra: [pg('data', 'pg-main'), redis] })).status).toBe(204);
    const db = uid('db');
    expect(
      (await api('POST', '/v1/workloads', { body: { id: db, cluster, namespace: 'apps', image: 'postgres:16', ports: [5432] } })).status,
    ).toBe(201);
    const listed = (await (await api('GET', `/v1/clusters/${cluster}/infra`, { role: 'viewer' })).json()) as {
      items: unknown[];
      reportedAt: string;
    };
    expect(listed.items).toEqual(
      [pg('data', 'pg-main'), { ...pg('apps', db), image: 'postgres:16', workload: db }, redis].sort((a, b) =>
        `${a.kind}/${a.namespace}/${a.name}` < `${b.kind}/${b.namespace}/${b.name}` ? -1 : 1,
      ),
    );
    expect(listed.reportedAt).toMatch(/^\d{4}-/);
    await expectError(await api('GET', '/v1/clusters/no-such-cluster/infra'), 404, 'not_found');
    await expectError(await api('GET', `/v1/clusters/${cluster}/infra`, { role: null }), 401, 'unauthorized');
  });

  it('resolves the one instance and pins it; none or several is a 422 naming the candidates, and nothing is written', async () => {
    const { cluster } = await clusterWithTunnel();
    const { credential } = await agentOf(cluster);
    const app = uid('app');
    const body = (envs: Record<string, unknown>) => ({
      id: app,
      cluster,
      namespace: 'apps',
      image: 'ghcr.io/acme/app:1',
      ports: [8000],
      env: envs,
    });

    let before = await storeSnapshot();
    const none = await expectError(
      await api('POST', '/v1/workloads', { body: body({ DATABASE_HOST: { infra: 'postgres' } }) }),
      422,
      'validation_failed',
    );
    expect(none.error.details).toEqual([
      {
        path: 'body.env.DATABASE_HOST',
        message:
          "no postgres was found in the cluster (neither by its agent's last scan nor among its workloads); deploy one, or use a plain value",
      },
    ]);
    expect(await storeSnapshot()).toEqual(before);

    expect((await report(cluster, credential, { infra: [pg('data', 'pg-main'), pg('data', 'pg-old', 5433), redis] })).status).toBe(204);
    before = await storeSnapshot();
    const several = await expectError(
      await api('POST', '/v1/workloads', {
        body: body({ DATABASE_URL: { infra: 'postgres', value: 'url' }, REDIS_URL: { infra: 'redis', value: 'url' } }),
      }),
      422,
      'validation_failed',
    );
    expect(several.error.details).toEqual([
      {
        path: 'body.env.DATABASE_URL',
        message:
          '2 postgres instances found: "data/pg-main" (pg-main.data.svc.cluster.local:5432), "data/pg-old" (pg-old.data.svc.cluster.local:5433); name one with {"infra": "postgres", "instance": "<namespace>/<service>"}',
      },
    ]);
    expect(several.error.message).toContain('body.env.DATABASE_URL: 2 postgres instances found');
    const unknown = await expectError(
      await api('POST', '/v1/workloads', { body: body({ DATABASE_URL: { infra: 'postgres', instance: 'data/pg-new' } }) }),
      422,
      'validation_failed',
    );
    expect(unknown.error.details?.[0]?.message).toMatch(/^no postgres instance "data\/pg-new" in the cluster; found: "data\/pg-main"/);
    await expectError(await api('POST', '/v1/workloads', { body: body({ X: { infra: 'oracle' } }) }), 422, 'validation_failed');
    await expectError(
      await api('POST', '/v1/workloads', { body: body({ X: { infra: 'redis', instance: 'cache' } }) }),
      422,
      'validation_failed',
    );
    expect(await storeSnapshot()).toEqual(before);

    const created = await api('POST', '/v1/workloads', {
      body: body({
        DATABASE_URL: { infra: 'postgres', instance: 'data/pg-main', value: 'url' },
        PGHOST: { infra: 'postgres', instance: 'data/pg-main', value: 'host' },
        PGPORT: { infra: 'postgres', instance: 'data/pg-main', value: 'port' },
        REDIS_ADDR: { infra: 'redis' },
      }),
    });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { env: unknown }).env).toEqual({
      DATABASE_URL: { infra: 'postgres', instance: 'data/pg-main', value: 'url' },
      PGHOST: { infra: 'postgres', instance: 'data/pg-main', value: 'host' },
      PGPORT: { infra: 'postgres', instance: 'data/pg-main', value: 'port' },
      REDIS_ADDR: { infra: 'redis', instance: 'data/cache', value: 'address' },
    });
    expect(await configMap(cluster, `${app}-env`)).toEqual({
      DATABASE_URL: 'postgresql://pg-main.data.svc.cluster.local:5432',
      PGHOST: 'pg-main.data.svc.cluster.local',
      PGPORT: '5432',
      REDIS_ADDR: 'cache.data.svc.cluster.local:6379',
    });

    // A scan that moves the pinned instance's port gives the agent a new revision and the new value; a second redis
    // appearing changes nothing for the pinned reference; the same scan again bumps nothing.
    const r1 = await revision(cluster);
    expect(
      (
        await report(cluster, credential, {
          infra: [pg('data', 'pg-main', 6432), redis, { ...redis, name: 'cache-2', host: 'cache-2.data.svc.cluster.local' }],
        })
      ).status,
    ).toBe(204);
    const r2 = await revision(cluster);
    expect(r2).toBe(r1 + 1);
    expect(await configMap(cluster, `${app}-env`)).toMatchObject({ PGPORT: '6432', REDIS_ADDR: 'cache.data.svc.cluster.local:6379' });
    expect(
      (
        await report(cluster, credential, {
          infra: [pg('data', 'pg-main', 6432), redis, { ...redis, name: 'cache-2', host: 'cache-2.data.svc.cluster.local' }],
        })
      ).status,
    ).toBe(204);
    expect(await revision(cluster)).toBe(r2);
    // A report without a scan keeps the stored one.
    expect((await report(cluster, credential, {})).status).toBe(204);
    expect(((await (await api('GET', `/v1/clusters/${cluster}/infra`)).json()) as { items: unknown[] }).items).toHaveLength(3);
  });

  it('resolves to a database workload of the same cluster before any agent has seen it', async () => {
    const { cluster } = await clusterWithTunnel();
    const db = uid('pg');
    const app = uid('app');
    expect(
      (await api('POST', '/v1/workloads', { body: { id: db, cluster, namespace: 'apps', image: 'postgres:16', ports: [5432] } })).status,
    ).toBe(201);
    const created = await api('POST', '/v1/workloads', {
      body: { id: app, cluster, namespace: 'apps', image: 'ghcr.io/acme/app:1', env: { DB: { infra: 'postgres' } } },
    });
    expect(created.status).toBe(201);
    expect(await configMap(cluster, `${app}-env`)).toEqual({ DB: `${db}.apps.svc.cluster.local:5432` });
  });

  it('refuses a malformed scan from the agent (422) and an unknown credential (401)', async () => {
    const { cluster } = await clusterWithTunnel();
    const { credential } = await agentOf(cluster);
    const bad = await report(cluster, credential, { infra: [{ ...redis, port: 0 }] });
    await expectError(bad, 422, 'validation_failed');
    await expectError(await report(cluster, `epa.${cluster}.${newSecret('k').slice(2)}`, { infra: [redis] }), 401, 'unauthorized');
    expect(await count('cluster_infra', `cluster_id = '${cluster}'`)).toBe(0);
  });
});

describe('pod-level health of a workload', () => {
  it('shows its pods as the agent reported them in GET /v1/workloads/{id} and in the cluster report', async () => {
    const { cluster } = await clusterWithTunnel();
    const { credential } = await agentOf(cluster);
    const id = uid('api');
    expect(
      (await api('POST', '/v1/workloads', { body: { id, cluster, namespace: 'apps', image: 'ghcr.io/acme/api:2', ports: [8001] } })).status,
    ).toBe(201);
    const before = (await (await api('GET', `/v1/workloads/${id}`)).json()) as { health: unknown };
    expect(before.health).toBeNull();
    const problem = {
      pod: `${id}-5c6b-fghij`,
      container: id,
      reason: 'CrashLoopBackOff',
      message: `back-off 5m0s restarting failed container=${id}`,
      restarts: 7,
      lastTermination: { reason: 'Error', exitCode: 1 },
    };
    const sent = await report(cluster, credential, {
      health: {
        status: 'Failed',
        objects: [],
        connectors: { desired: 0, ready: 0 },
        origins: [],
        workloads: [{ workload: id, namespace: 'apps', status: 'Failed', pods: 1, ready: 0, problems: [problem] }],
      },
    });
    expect(sent.status).toBe(204);
    const rev = await revision(cluster);
    const got = (await (await api('GET', `/v1/workloads/${id}`, { role: 'viewer' })).json()) as { health: Record<string, unknown> };
    expect(got.health).toEqual({
      status: 'Failed',
      pods: 1,
      ready: 0,
      problems: [problem],
      revision: rev,
      reportedAt: expect.any(String) as unknown,
    });
    const reports = (await (await api('GET', `/v1/clusters/${cluster}/reports`)).json()) as {
      items: { health: { workloads: unknown[] } }[];
    };
    expect(reports.items[0]?.health.workloads).toEqual([
      { workload: id, namespace: 'apps', status: 'Failed', pods: 1, ready: 0, problems: [problem] },
    ]);
    // The list carries the same health, the cluster's other workloads null until a report names them; write answers carry none.
    const other = uid('web');
    const created = await api('POST', '/v1/workloads', {
      body: { id: other, cluster, namespace: 'apps', image: 'nginx:1.27', ports: [80] },
    });
    expect(((await created.json()) as Record<string, unknown>).health).toBeUndefined();
    const list = (await (await api('GET', `/v1/workloads?cluster=${cluster}`, { role: 'viewer' })).json()) as {
      items: { id: string; health: unknown }[];
    };
    expect(list.items.map((w) => [w.id, w.health]).sort()).toEqual([
      [id, got.health],
      [other, null],
    ]);
  });
});

describe('pod-level health in the workloads list', () => {
  it("gives every item of a page spanning several clusters its own cluster's entry, across pages", async () => {
    const namespace = uid('ns');
    const clusters = [uid('c'), uid('c'), uid('c')];
    const ids: string[] = [];
    for (const [i, cluster] of clusters.entries()) {
      expect((await api('POST', '/v1/clusters', { body: { id: cluster, name: cluster } })).status).toBe(201);
      const id = `${namespace}-${i}`;
      ids.push(id);
      expect((await api('POST', '/v1/workloads', { body: { id, cluster, namespace, image: 'nginx:1.27', ports: [80] } })).status).toBe(201);
      // Each cluster's agent reports its own workload with a different ready count; the third reports nothing.
      if (i < 2) {
        const { credential } = await agentOf(cluster);
        const entry = { workload: id, namespace, status: 'InProgress' as const, pods: 3, ready: i + 1, problems: [] };
        const health = {
          status: 'InProgress' as const,
          objects: [],
          connectors: { desired: 0, ready: 0 },
          origins: [],
          workloads: [entry],
        };
        expect((await report(cluster, credential, { health })).status).toBe(204);
      }
    }
    const first = (await (await api('GET', `/v1/workloads?namespace=${namespace}&limit=2`)).json()) as {
      items: { id: string; cluster: string; health: { ready: number } | null }[];
      nextCursor: string | null;
    };
    expect(first.items.map((w) => [w.id, w.cluster, w.health?.ready ?? null])).toEqual([
      [ids[0], clusters[0], 1],
      [ids[1], clusters[1], 2],
    ]);
    const rest = (await (await api('GET', `/v1/workloads?namespace=${namespace}&limit=2&cursor=${first.nextCursor ?? ''}`)).json()) as {
      items: { id: string; health: unknown }[];
    };
    expect(rest.items.map((w) => [w.id, w.health])).toEqual([[ids[2], null]]);
  });
});

describe('deleting around workloads', () => {
  it('refuses to delete a cluster that still has workloads, naming them, and changes nothing', async () => {
    const cluster = uid('c');
    expect((await api('POST', '/v1/clusters', { body: { id: cluster, name: cluster } })).status).toBe(201);
    for (const id of ['b', 'a'].map((x) => `${cluster}-${x}`))
      expect((await api('POST', '/v1/workloads', { body: { id, cluster, namespace: 'apps', image: 'nginx:1.27' } })).status).toBe(201);
    const before = await storeSnapshot();
    const refused = await expectError(await api('DELETE', `/v1/clusters/${cluster}`), 409, 'conflict');
    expect(refused.error.message).toBe(
      `cluster "${cluster}" still has 2 workload(s) (${cluster}-a, ${cluster}-b); delete them first with DELETE /v1/workloads/{id} (the agent prunes their objects)`,
    );
    expect(refused.error.details).toEqual([
      { path: `workloads.${cluster}-a`, message: `workload "${cluster}-a" in namespace "apps"` },
      { path: `workloads.${cluster}-b`, message: `workload "${cluster}-b" in namespace "apps"` },
    ]);
    expect(await storeSnapshot()).toEqual(before);
    for (const id of ['a', 'b']) expect((await api('DELETE', `/v1/workloads/${cluster}-${id}`)).status).toBe(204);
    expect((await api('DELETE', `/v1/clusters/${cluster}`)).status).toBe(204);
  });

  it('deletes the routes the compose import made for a workload with it, and leaves the others', async () => {
    const { cluster, tunnel } = await clusterWithTunnel();
    const web = uid('web');
    const api2 = uid('api');
    const hostname = `${uid('h')}.example.com`;
    const compose = [
      'services:',
      `  ${web}:`,
      '    image: nginx:1.27',
      '    labels:',
      `      - traefik.http.routers.front.rule=Host(\`${hostname}\`)`,
      '      - traefik.http.services.front.loadbalancer.server.port=80',
      `  ${api2}:`,
      '    image: ghcr.io/acme/api:1',
      '    labels:',
      `      - traefik.http.routers.api.rule=Host(\`${hostname}\`) && PathPrefix(\`/api\`)`,
      `      - traefik.http.routers.docs.rule=Host(\`${hostname}\`) && PathPrefix(\`/docs\`)`,
      '      - traefik.http.services.api.loadbalancer.server.port=8001',
      '',
    ].join('\n');
    const imported = await api('POST', '/v1/import/compose', { body: { cluster, namespace: 'apps', tunnel, compose, dryRun: false } });
    expect(imported.status, await imported.clone().text()).toBe(200);
    const routesOf = async () =>
      (
        (await (await api('GET', `/v1/routes?tunnel=${tunnel}`)).json()) as {
          items: { hostname: string; path: string | null; origin: { service: { name: string } } }[];
        }
      ).items
        .map((r) => `${r.origin.service.name}${r.path ?? ''}`)
        .sort();
    expect(await routesOf()).toEqual([`${api2}/api`, `${api2}/docs`, web].sort());
    const outboxBefore = await count('outbox', `kind = 'tunnel_config' AND target = '${tunnel}'`);
    expect((await api('DELETE', `/v1/workloads/${api2}`)).status).toBe(204);
    expect(await routesOf()).toEqual([web]);
    expect(await count('workload_routes', `workload_id = '${api2}'`)).toBe(0);
    // The tunnel's remote config is queued for a push (the Cloudflare side loses the two rules too).
    expect(await count('outbox', `kind = 'tunnel_config' AND target = '${tunnel}'`)).toBeGreaterThanOrEqual(outboxBefore);
  });
});
