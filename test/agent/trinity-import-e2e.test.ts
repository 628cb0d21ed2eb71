import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { seedDemo } from '../../scripts/seed.mjs';
import type { ClusterHealth } from '../../src/shared/api/agent';
import { FakeKubeApiserver } from '../fakes/kube-apiserver/server';
import type { JsonObject } from '../fakes/kube-apiserver/fields';
import { DEV_ADMIN_TOKEN, freePort, migrate, ROOT, tempDir, waitFor, WorkerProcess } from '../support/worker';
import { AgentProcess, removeAgentBundle, writeFile } from './harness';

// Issue 11, end to end: the demo `npm start` seeds (its `trinity` cluster routes trinity.example.com's four path
// prefixes to Services that a Docker Compose app used to reach through Traefik), the 13-service compose fixture
// imported into it for real, and the trinity agent (a real process) applying the workloads in the fake apiserver and
// checking every route's origin Service and port there.

const fixture = (name: string) => readFileSync(path.join(ROOT, 'test/fixtures/compose', name), 'utf8');
const HOST = 'trinity.example.com';

let worker: WorkerProcess;
let fake: FakeKubeApiserver;
let dir: string;
let agent: AgentProcess | undefined;

interface ImportReport {
  routes: {
    hostname: string;
    path?: string;
    workload: string;
    port: number;
    status: string;
    id?: string;
    replaces?: { origin: unknown };
  }[];
  summary: Record<string, number>;
}
interface Route {
  id: string;
  hostname: string;
  path: string | null;
  origin: { service?: { namespace: string; name: string; port: number }; url?: string };
}
interface Report {
  revision: number;
  health: ClusterHealth;
}

const importBody = (extra: Record<string, unknown>) => ({
  cluster: 'trinity',
  namespace: 'trinity',
  tunnel: 'trinity',
  compose: fixture('trinity.compose.yml'),
  cloudflaredConfig: fixture('trinity.cloudflared.yml'),
  env: { POSTGRES_PASSWORD: 'pg-secret', MINIO_ROOT_PASSWORD: 'minio-secret' },
  envFiles: { './django.env': 'DJANGO_ALLOWED_HOSTS=trinity.example.com\n' },
  ...extra,
});

beforeAll(async () => {
  dir = tempDir('trinity');
  migrate(dir);
  worker = new WorkerProcess(await freePort(), dir);
  fake = await new FakeKubeApiserver({ controllerDelayMs: 10 }).start();
  await worker.start();
  expect(await seedDemo(worker.url, DEV_ADMIN_TOKEN)).toBe(true);
}, 120_000);

afterAll(async () => {
  await agent?.kill();
  await worker?.stop();
  await fake?.stop();
  rmSync(dir, { recursive: true, force: true });
  removeAgentBundle();
});

describe("the compose fixture imported into the demo's trinity cluster", () => {
  let routeIds: string[] = [];

  it('re-points the four seeded path routes to the new Services in one write, only when asked to', async () => {
    const seeded = (await worker.apiOk<{ items: Route[] }>('GET', '/v1/routes?tunnel=trinity')).items;
    expect(seeded.map((r) => [r.path, r.origin.service?.name]).sort()).toEqual([
      ['/', 'trinity-web'],
      ['/admin', 'trinity-admin'],
      ['/api', 'trinity-api'],
      ['/trinityai', 'trinity-ai'],
    ]);

    // Without replaceRoutes the routes the demo already has are conflicts: 409, and nothing is written.
    const refused = await worker.api('POST', '/v1/import/compose', importBody({ dryRun: false }));
    expect(refused.status).toBe(409);
    const error = (await refused.json()) as { error: { details: { message: string }[] } };
    expect(error.error.details).toHaveLength(4);
    expect(error.error.details[0]?.message).toMatch(/already routed on this tunnel by route rt_\S+; pass "replaceRoutes": true/);
    expect((await worker.apiOk<{ items: unknown[] }>('GET', '/v1/workloads?cluster=trinity')).items).toEqual([]);

    const dry = await worker.apiOk<ImportReport>('POST', '/v1/import/compose', importBody({ replaceRoutes: true }));
    expect(dry.routes.map((r) => r.status)).toEqual(['would-replace', 'would-replace', 'would-replace', 'would-replace', 'would-create']);

    const done = await worker.apiOk<ImportReport>('POST', '/v1/import/compose', importBody({ replaceRoutes: true, dryRun: false }));
    expect(done.summary).toMatchObject({ workloads: 12, routes: 5, conflicts: 0 });
    expect(done.routes.map((r) => [r.hostname, r.path ?? null, r.workload, r.port, r.status])).toEqual([
      [HOST, '/admin', 'django', 8000, 'replaced'],
      [HOST, '/api', 'fastapi', 8001, 'replaced'],
      [HOST, '/trinityai', 'trinityai', 8002, 'replaced'],
      [HOST, null, 'frontend', 8080, 'replaced'],
      [`pgadmin.${HOST}`, null, 'pgadmin', 80, 'created'],
    ]);
    // The same routes (ids kept), now to the compose services' Services in the trinity namespace.
    const byPath = new Map(seeded.map((r) => [r.path, r]));
    expect(done.routes.slice(0, 4).map((r) => r.id)).toEqual(['/admin', '/api', '/trinityai', '/'].map((p) => byPath.get(p)?.id));
    expect(done.routes[0]?.replaces).toEqual({ origin: { service: { namespace: 'trinity', name: 'trinity-admin', port: 3000 } } });
    routeIds = done.routes.slice(0, 4).map((r) => r.id ?? '');
    // One audit entry for the import, naming where each re-pointed route led before.
    const audit = await worker.apiOk<{
      items: { action: string; after: { routes: string[]; replaced: { id: string; origin: unknown }[] } }[];
    }>('GET', '/v1/audit?entityId=compose:trinity/trinity');
    expect(audit.items.map((a) => a.action)).toEqual(['import']);
    expect(audit.items[0]?.after.routes).toEqual([done.routes[4]?.id]);
    expect(audit.items[0]?.after.replaced.map((r) => r.id)).toEqual(routeIds);
    expect(audit.items[0]?.after.replaced[3]?.origin).toEqual({ service: { namespace: 'trinity', name: 'trinity-web', port: 80 } });

    const config = await worker.apiOk<{ config: { ingress: { hostname?: string; path?: string; service: string }[] } }>(
      'GET',
      '/v1/tunnels/trinity/config',
    );
    // The tunnel's computed order: longer prefixes first, the catch-all path last; no Traefik in between.
    expect(config.config.ingress.filter((r) => r.hostname === HOST).map((r) => r.service)).toEqual([
      'http://trinityai.trinity.svc.cluster.local:8002',
      'http://django.trinity.svc.cluster.local:8000',
      'http://fastapi.trinity.svc.cluster.local:8001',
      'http://frontend.trinity.svc.cluster.local:8080',
    ]);
    expect(JSON.stringify(config)).not.toMatch(/traefik|trinity-(web|admin|api|ai)/);
  }, 60_000);

  it('is applied by the trinity agent, and every origin check finds its Service and port', async () => {
    const install = await worker.api('GET', '/v1/clusters/trinity/install.yaml');
    expect(install.status).toBe(200);
    const docs = parseAllDocuments(await install.text()).map((d) => d.toJSON() as JsonObject);
    for (const doc of docs) expect(fake.applyAs('kubectl', doc).ok).toBe(true);
    const secret = docs.find((d) => d.kind === 'Secret');
    writeFile(dir, 'token', String((secret?.stringData as Record<string, string> | undefined)?.token ?? ''));
    agent = await AgentProcess.start({
      workerUrl: worker.url,
      clusterId: 'trinity',
      kubeconfigPath: writeFile(dir, 'kubeconfig', fake.kubeconfig()),
      bootstrapTokenPath: path.join(dir, 'token'),
      port: await freePort(),
    });

    const cluster = await waitFor(
      'the trinity agent to apply the desired revision',
      () => worker.apiOk<{ appliedRevision: number | null; desiredRevision: number }>('GET', '/v1/clusters/trinity'),
      (c) => c.appliedRevision !== null && c.appliedRevision === c.desiredRevision,
      30_000,
    );
    const names = (kind: string) =>
      fake
        .objects(kind, 'trinity')
        .map((o) => (o.metadata as { name: string }).name)
        .sort();
    expect(names('StatefulSet')).toEqual(['minio', 'mongo', 'postgres', 'redis']);
    expect(names('PersistentVolumeClaim')).toEqual(['minio-miniodata', 'mongo-mongodata', 'postgres-pgdata', 'redis-redisdata']);
    expect(names('Deployment')).toEqual(['celery', 'django', 'fastapi', 'flight', 'frontend', 'mongo-express', 'pgadmin', 'trinityai']);
    expect(names('Service')).toEqual(expect.arrayContaining(['django', 'fastapi', 'frontend', 'pgadmin', 'trinityai']));

    const report = await waitFor(
      'a health report of the applied revision with its origin checks',
      () => worker.apiOk<{ items: Report[] }>('GET', '/v1/clusters/trinity/reports?limit=1'),
      (r) => r.items[0]?.revision === cluster.appliedRevision && (r.items[0]?.health.origins.length ?? 0) >= 5,
      30_000,
    );
    const origins = report.items[0]?.health.origins ?? [];
    const checked = routeIds.map((id) => origins.find((o) => o.route === id));
    expect(checked.map((o) => [o?.service, o?.ok])).toEqual([
      ['trinity/django:8000', true],
      ['trinity/fastapi:8001', true],
      ['trinity/trinityai:8002', true],
      ['trinity/frontend:8080', true],
    ]);
    expect(origins.every((o) => o.ok)).toBe(true);
  }, 90_000);
});
