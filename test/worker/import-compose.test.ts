import { describe, expect, it } from 'vitest';
// Vite's ?raw import bundles the fixture into the workerd test (the Worker tests cannot read files at run time).
import COMPOSE from '../fixtures/compose/trinity.compose.yml?raw';
import CLOUDFLARED from '../fixtures/compose/trinity.cloudflared.yml?raw';
import { clusterWithTunnel } from './fixtures';
import { api, count, expectError, storeSnapshot, uid } from './helpers';

interface Report {
  dryRun: boolean;
  services: { service: string; status: string; result?: string; variables: { name: string; source: string }[] }[];
  routes: { hostname: string; path?: string; workload: string; port: number; status: string; id?: string; reason?: string }[];
  unrouted: { from: string; reason: string }[];
  summary: Record<string, number>;
}

const request = (cluster: string, tunnel: string, namespace: string, hostname: string, extra: Record<string, unknown> = {}) => ({
  cluster,
  namespace,
  tunnel,
  compose: COMPOSE.replaceAll('trinity.example.com', hostname),
  cloudflaredConfig: CLOUDFLARED.replaceAll('trinity.example.com', hostname),
  env: { POSTGRES_PASSWORD: 'pg-secret', MINIO_ROOT_PASSWORD: 'minio-secret' },
  envFiles: { './django.env': 'DJANGO_ALLOWED_HOSTS=trinity\n' },
  ...extra,
});

describe('POST /v1/import/compose', () => {
  it('reports without writing by default, then creates every workload and route in one write', async () => {
    const { cluster, tunnel } = await clusterWithTunnel();
    const namespace = uid('ns');
    const hostname = `${uid('t')}.example.com`;
    const before = await storeSnapshot();
    const dry = await api('POST', '/v1/import/compose', { body: request(cluster, tunnel, namespace, hostname) });
    expect(dry.status).toBe(200);
    const report = (await dry.json()) as Report;
    expect(report.dryRun).toBe(true);
    expect(report.summary).toEqual({ workloads: 12, routes: 5, skipped: 2, unrouted: 2, conflicts: 0 });
    expect(report.services.find((s) => s.service === 'postgres')?.variables).toEqual([{ name: 'POSTGRES_PASSWORD', source: 'request' }]);
    expect(await storeSnapshot()).toEqual(before);

    // Workload ids are global (the compose service names), so this file imports the fixture for real only once.
    const write = await api('POST', '/v1/import/compose', { body: request(cluster, tunnel, namespace, hostname, { dryRun: false }) });
    expect(write.status).toBe(200);
    const done = (await write.json()) as Report;
    expect(done.routes.map((r) => [r.path ?? null, r.workload, r.port, r.status])).toEqual([
      ['/admin', 'django', 8000, 'created'],
      ['/api', 'fastapi', 8001, 'created'],
      ['/trinityai', 'trinityai', 8002, 'created'],
      [null, 'frontend', 8080, 'created'],
      [null, 'pgadmin', 80, 'created'],
    ]);
    expect(await count('workloads', `cluster_id = '${cluster}'`)).toBe(12);
    expect(await count('audit', `action = 'import' AND entity_id = 'compose:${cluster}/${namespace}'`)).toBe(1);
    const config = (await (await api('GET', `/v1/tunnels/${tunnel}/config`)).json()) as {
      config: { ingress: { hostname?: string; path?: string; service: string }[] };
    };
    expect(config.config.ingress.filter((r) => r.hostname === hostname).map((r) => [r.path ?? null, r.service])).toEqual([
      ['^/trinityai(/|$)', `http://trinityai.${namespace}.svc.cluster.local:8002`],
      ['^/admin(/|$)', `http://django.${namespace}.svc.cluster.local:8000`],
      ['^/api(/|$)', `http://fastapi.${namespace}.svc.cluster.local:8001`],
      [null, `http://frontend.${namespace}.svc.cluster.local:8080`],
    ]);
    expect(JSON.stringify(config)).not.toContain('traefik');

    // A second import conflicts with what now exists: 409, nothing written.
    const snapshot = await storeSnapshot();
    const again = await expectError(
      await api('POST', '/v1/import/compose', { body: request(cluster, tunnel, namespace, hostname, { dryRun: false }) }),
      409,
      'conflict',
    );
    expect(again.error.message).toMatch(
      /^nothing was imported: 17 conflict\(s\) with what exists, first: workload "postgres" already exists$/,
    );
    expect(await storeSnapshot()).toEqual(snapshot);

    // replaceRoutes re-points only routes no workload owns: the ones this import created stay conflicts.
    const replace = await api('POST', '/v1/import/compose', {
      body: request(cluster, tunnel, uid('ns'), hostname, { replaceRoutes: true }),
    });
    const replaceReport = (await replace.json()) as Report;
    expect(replaceReport.routes.map((r) => [r.status, r.reason])).toContainEqual([
      'conflict',
      `already routed on this tunnel by route ${done.routes[0]?.id ?? ''}, which belongs to workload "django"`,
    ]);
    expect(replaceReport.routes.every((r) => r.status === 'conflict')).toBe(true);
  });

  it('refuses a missing required variable, naming the service and variable, and writes nothing', async () => {
    const { cluster, tunnel } = await clusterWithTunnel();
    const before = await storeSnapshot();
    const body = request(cluster, tunnel, 'trinity', 'x.example.com', { env: { MINIO_ROOT_PASSWORD: 'm' }, dryRun: false });
    const error = await expectError(await api('POST', '/v1/import/compose', { body }), 422, 'validation_failed');
    expect(error.error.details).toContainEqual({
      path: 'body.compose.services.postgres',
      message: 'service "postgres": required variable POSTGRES_PASSWORD: set POSTGRES_PASSWORD; pass it in env',
    });
    const badYaml = await expectError(
      await api('POST', '/v1/import/compose', {
        body: { cluster, namespace: 'x', compose: 'services:\n  web:\n    image: nginx\n    ports: ["80:http"]\n' },
      }),
      422,
      'validation_failed',
    );
    expect(badYaml.error.details).toEqual([
      {
        path: 'body.compose.services.web.ports[0]',
        message: 'service "web": "80:http" is not a compose port ("8000", "8080:8000", "127.0.0.1:8080:8000/tcp")',
      },
    ]);
    await expectError(await api('POST', '/v1/import/compose', { role: 'viewer', body }), 403, 'forbidden');
    expect(await storeSnapshot()).toEqual(before);
  });
});
