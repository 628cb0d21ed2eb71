import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { compileClusterBundle, type KubeObject } from '../../src/shared/compiler';
import { loadDesiredCluster } from '../../worker/db/desired-state';
import { clusterWithTunnel } from './fixtures';
import { api, count, expectError, serviceDeps, storeSnapshot, uid } from './helpers';

interface WorkloadBody {
  id: string;
  etag: string;
  env: Record<string, unknown>;
  kind: string;
  routeId: string | null;
  [key: string]: unknown;
}

const create = async (body: Record<string, unknown>) => api('POST', '/v1/workloads', { body });
const manifests = async (cluster: string) =>
  ((await (await api('GET', `/v1/clusters/${cluster}/manifests`)).json()) as { objects: KubeObject[] }).objects;

describe('workloads: happy paths', () => {
  it('creates the minimal workload, compiles it into the cluster bundle, and deletes it', async () => {
    const { cluster } = await clusterWithTunnel();
    const id = uid('web');
    const response = await create({ id, cluster, namespace: 'trinity', image: 'nginx:1.27', ports: [80] });
    expect(response.status).toBe(201);
    const created = (await response.json()) as WorkloadBody;
    expect(created).toMatchObject({ id, cluster, namespace: 'trinity', replicas: 1, healthCheck: null, kind: 'Deployment', routeId: null });
    expect(response.headers.get('etag')).toBe(created.etag);
    expect(response.headers.get('location')).toBe(`/v1/workloads/${id}`);
    const objects = await manifests(cluster);
    expect(
      objects.filter((o) => o.metadata.namespace === 'trinity' || o.metadata.name === 'trinity').map((o) => `${o.kind}/${o.metadata.name}`),
    ).toEqual(['Namespace/trinity', 'Service/' + id, 'Deployment/' + id]);
    const audit = await env.DB.prepare(`SELECT action FROM audit WHERE entity_type = 'workload' AND entity_id = ?`).bind(id).all();
    expect(audit.results).toEqual([{ action: 'create' }]);
    expect((await api('DELETE', `/v1/workloads/${id}`, { headers: { 'if-match': created.etag } })).status).toBe(204);
    expect((await manifests(cluster)).some((o) => o.metadata.name === id)).toBe(false);
  });

  it('keeps secret env encrypted at rest, shows only {"secret": true}, and delivers values only in the agent bundle', async () => {
    const { cluster } = await clusterWithTunnel();
    const id = uid('api');
    const response = await create({
      id,
      cluster,
      namespace: 'trinity',
      image: 'ghcr.io/trinity/fastapi:1.4.2',
      ports: [8001],
      env: { LOG_LEVEL: 'info', POSTGRES_PASSWORD: 'plain-but-sensitive', SESSION: { secret: 'given-secret' } },
    });
    expect(response.status).toBe(201);
    const created = (await response.json()) as WorkloadBody;
    expect(created.env).toEqual({ LOG_LEVEL: 'info', POSTGRES_PASSWORD: { secret: true }, SESSION: { secret: true } });
    const raw = await env.DB.prepare('SELECT * FROM workloads WHERE id = ?').bind(id).first<Record<string, string>>();
    expect(JSON.stringify(raw)).not.toContain('plain-but-sensitive');
    expect(JSON.stringify(raw)).not.toContain('given-secret');
    const audit = await env.DB.prepare(`SELECT after FROM audit WHERE entity_id = ?`).bind(id).all();
    expect(JSON.stringify(audit.results)).not.toContain('given-secret');
    const shown = await manifests(cluster);
    expect(JSON.stringify(shown)).not.toContain(btoa('given-secret'));
    expect(shown.find((o) => o.kind === 'Secret' && o.metadata.name === `${id}-env`)?.metadata.annotations).toMatchObject({
      'edgeplane.dev/redacted': 'POSTGRES_PASSWORD,SESSION',
    });
    // The bundle the agent receives (same loader as /agent/v1/desired) carries the values.
    const bundle = compileClusterBundle(await loadDesiredCluster(serviceDeps(), cluster));
    expect(bundle.objects.find((o) => o.kind === 'Secret' && o.metadata.name === `${id}-env`)?.data).toEqual({
      POSTGRES_PASSWORD: btoa('plain-but-sensitive'),
      SESSION: btoa('given-secret'),
    });
    // PATCH with {"secret": true} keeps the stored value; a new value replaces it.
    const patched = await api('PATCH', `/v1/workloads/${id}`, {
      headers: { 'if-match': created.etag },
      body: { env: { ...created.env, LOG_LEVEL: 'debug', SESSION: { secret: 'rotated' } } },
    });
    expect(patched.status).toBe(200);
    const after = compileClusterBundle(await loadDesiredCluster(serviceDeps(), cluster));
    expect(after.objects.find((o) => o.kind === 'Secret' && o.metadata.name === `${id}-env`)?.data).toEqual({
      POSTGRES_PASSWORD: btoa('plain-but-sensitive'),
      SESSION: btoa('rotated'),
    });
    expect(after.objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === `${id}-env`)?.data).toEqual({ LOG_LEVEL: 'debug' });
  });

  it('creates its route on the tunnel in the same write, to its Service, and removes it with the workload', async () => {
    const { cluster, tunnel } = await clusterWithTunnel();
    const id = uid('pg');
    const hostname = `${uid('h')}.example.com`;
    const response = await create({
      id,
      cluster,
      namespace: 'trinity',
      image: 'postgres:16',
      ports: [5432, 8080],
      volumes: [{ name: 'data', mountPath: '/var/lib/postgresql/data', size: '5Gi' }],
      route: { tunnel, hostname, path: '/admin', port: 8080 },
    });
    expect(response.status).toBe(201);
    const created = (await response.json()) as WorkloadBody;
    expect(created.kind).toBe('StatefulSet');
    const route = (await (await api('GET', `/v1/routes/${String(created.routeId)}`)).json()) as Record<string, unknown>;
    expect(route).toMatchObject({ tunnel, hostname, path: '/admin', origin: { service: { namespace: 'trinity', name: id, port: 8080 } } });
    const config = (await (await api('GET', `/v1/tunnels/${tunnel}/config`)).json()) as {
      config: { ingress: { hostname?: string; service: string }[] };
    };
    expect(config.config.ingress.find((r) => r.hostname === hostname)?.service).toBe(`http://${id}.trinity.svc.cluster.local:8080`);
    expect((await manifests(cluster)).filter((o) => o.metadata.name.startsWith(id)).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      `PersistentVolumeClaim/${id}-data`,
      `Service/${id}`,
      `StatefulSet/${id}`,
    ]);
    // Moving the route replaces it; removing the workload removes it.
    const moved = await api('PATCH', `/v1/workloads/${id}`, { body: { route: { tunnel, hostname, path: '/pg' } } });
    const movedBody = (await moved.json()) as WorkloadBody;
    expect(movedBody.routeId).not.toBe(created.routeId);
    expect((await api('GET', `/v1/routes/${String(created.routeId)}`)).status).toBe(404);
    expect((await api('DELETE', `/v1/workloads/${id}`)).status).toBe(204);
    expect((await api('GET', `/v1/routes/${String(movedBody.routeId)}`)).status).toBe(404);
  });
});

describe('workloads: errors change nothing', () => {
  it('names each bad field with the exact envelope', async () => {
    const { cluster, tunnel } = await clusterWithTunnel();
    const other = await clusterWithTunnel();
    const before = await storeSnapshot();
    const bad = await expectError(
      await create({ id: 'Bad_Name', cluster, namespace: 'trinity', image: 'nginx', ports: [70000], env: { '1X': 'a' } }),
      422,
      'validation_failed',
    );
    expect(bad.error.details?.map((d) => d.path).sort()).toEqual(['body.env.1X', 'body.id', 'body.ports.0'].sort());
    const unknown = await expectError(
      await create({ id: uid('w'), cluster: 'nope', namespace: 'x', image: 'nginx' }),
      422,
      'validation_failed',
    );
    expect(unknown.error).toMatchObject({
      message: 'body.cluster: cluster "nope" does not exist; create it first with POST /v1/clusters',
      details: [{ path: 'body.cluster', message: 'cluster "nope" does not exist' }],
    });
    const probe = await expectError(
      await create({ id: uid('w'), cluster, namespace: 'x', image: 'nginx', healthCheck: { path: '/h' } }),
      422,
      'validation_failed',
    );
    expect(probe.error.details).toEqual([
      { path: 'body.healthCheck', message: 'a health check needs a port; add one to ports or set healthCheck to null' },
    ]);
    const dupPort = await expectError(
      await create({ id: uid('w'), cluster, namespace: 'x', image: 'nginx', ports: [80, { port: 80 }] }),
      422,
      'validation_failed',
    );
    expect(dupPort.error.details?.[0]?.path).toBe('body.ports.1');
    const keep = await expectError(
      await create({ id: uid('w'), cluster, namespace: 'x', image: 'nginx', env: { S: { secret: true } } }),
      422,
      'validation_failed',
    );
    expect(keep.error.details?.[0]?.path).toBe('body.env.S');
    const foreign = await expectError(
      await create({
        id: uid('w'),
        cluster,
        namespace: 'x',
        image: 'nginx',
        ports: [80],
        route: { tunnel: other.tunnel, hostname: 'a.example.com' },
      }),
      422,
      'validation_failed',
    );
    expect(foreign.error.details?.[0]).toEqual({
      path: 'body.route.tunnel',
      message: `tunnel "${other.tunnel}" runs in cluster "${other.cluster}", so it cannot reach a Service in cluster "${cluster}"`,
    });
    const noService = await expectError(
      await create({
        id: uid('w'),
        cluster,
        namespace: 'x',
        image: 'nginx',
        ports: [80],
        serviceType: 'None',
        route: { tunnel, hostname: 'a.example.com' },
      }),
      422,
      'validation_failed',
    );
    expect(noService.error.details?.[0]?.path).toBe('body.route');
    // The snapshot changed only by the second cluster made above; none of the refused writes left anything.
    const after = await storeSnapshot();
    expect(after.workloads).toEqual(before.workloads);
    expect(after.audit).toEqual(before.audit);
    expect(after.routes).toEqual(before.routes);
  });

  it('answers 409 for a duplicate id or a routed hostname, 412 for a stale If-Match, 404 for an unknown one — all atomically', async () => {
    const { cluster, tunnel } = await clusterWithTunnel();
    const id = uid('w');
    const hostname = `${uid('h')}.example.com`;
    const created = (await (
      await create({ id, cluster, namespace: 'x', image: 'nginx', ports: [80], route: { tunnel, hostname } })
    ).json()) as WorkloadBody;
    const before = await storeSnapshot();
    await expectError(await create({ id, cluster, namespace: 'x', image: 'nginx' }), 409, 'conflict');
    const routed = await expectError(
      await create({ id: uid('w'), cluster, namespace: 'x', image: 'nginx', ports: [80], route: { tunnel, hostname } }),
      409,
      'conflict',
    );
    expect(routed.error.message).toContain(`${hostname} (no path) is already routed`);
    await api('PATCH', `/v1/workloads/${id}`, { body: { replicas: 2 } });
    const mid = await storeSnapshot();
    const stale = await expectError(
      await api('PATCH', `/v1/workloads/${id}`, { headers: { 'if-match': created.etag }, body: { replicas: 3 } }),
      412,
      'precondition_failed',
    );
    expect(stale.error.message).toContain(`workload "${id}" has changed since you read it`);
    await expectError(await api('DELETE', `/v1/workloads/${id}`, { headers: { 'if-match': created.etag } }), 412, 'precondition_failed');
    await expectError(await api('GET', '/v1/workloads/nope'), 404, 'not_found');
    expect(await storeSnapshot()).toEqual(mid);
    expect(mid.workloads).not.toEqual(before.workloads);
  });
});

describe('workloads: security', () => {
  it('needs a token, lets viewers read but not write, and never returns a secret value', async () => {
    const { cluster } = await clusterWithTunnel();
    const id = uid('w');
    await expectError(
      await api('POST', '/v1/workloads', { role: null, body: { id, cluster, namespace: 'x', image: 'nginx' } }),
      401,
      'unauthorized',
    );
    await expectError(
      await api('POST', '/v1/workloads', { role: 'viewer', body: { id, cluster, namespace: 'x', image: 'nginx' } }),
      403,
      'forbidden',
    );
    expect(await count('workloads', `id = '${id}'`)).toBe(0);
    const ok = await api('POST', '/v1/workloads', {
      role: 'editor',
      body: { id, cluster, namespace: 'x', image: 'nginx', env: { API_TOKEN: 'tok-123' } },
    });
    expect(ok.status).toBe(201);
    const list = await api('GET', `/v1/workloads?cluster=${cluster}`, { role: 'viewer' });
    expect(list.status).toBe(200);
    const text = await list.text();
    expect(text).toContain(id);
    expect(text).not.toContain('tok-123');
    expect(text).not.toContain('secrets_ciphertext');
    expect(text).not.toContain('secretsCiphertext');
  });

  it('is described in the OpenAPI document', async () => {
    const doc = (await (await api('GET', '/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/workloads', '/v1/workloads/{id}', '/v1/import/compose']));
  });
});
