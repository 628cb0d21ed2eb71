import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kube } from '../../agent/kube';
import { Metrics } from '../../agent/metrics';
import { StateStore } from '../../agent/state';
import { Syncer } from '../../agent/sync';
import { Transport } from '../../agent/transport';
import type { AgentStatus, DesiredBundle } from '../../src/shared/api/agent';
import type { WorkloadSpec } from '../../src/shared/api';
import { compileClusterBundle, type DesiredWorkload } from '../../src/shared/compiler';
import { FakeKubeApiserver } from '../fakes/kube-apiserver/server';
import { makeCluster } from '../unit/compiler/arbitraries';

// The agent's sync loop (real Transport over HTTP, real apply/prune/health) against the fake apiserver, with a minimal
// Worker stand-in that serves compiled bundles and records the status reports: workloads go the way connectors go.

let fake: FakeKubeApiserver;
let kube: Kube;
let worker: Server;
let bundle: DesiredBundle;
const reports: AgentStatus[] = [];

const spec = (over: Partial<WorkloadSpec>): WorkloadSpec => ({
  image: 'nginx:1.27',
  env: {},
  ports: [80],
  replicas: 1,
  resources: {},
  healthCheck: null,
  volumes: [],
  stateful: null,
  serviceType: 'ClusterIP',
  labels: {},
  annotations: {},
  route: null,
  ...over,
});
const postgres: DesiredWorkload = {
  id: 'postgres',
  namespace: 'trinity',
  spec: spec({
    image: 'postgres:16',
    ports: [5432],
    env: { POSTGRES_DB: 'trinity', POSTGRES_PASSWORD: 'pg-secret' },
    volumes: [{ name: 'pgdata', mountPath: '/var/lib/postgresql/data', size: '5Gi', readOnly: false }],
  }),
  secrets: {},
};
const web: DesiredWorkload = {
  id: 'web',
  namespace: 'trinity',
  spec: spec({ ports: [8080], healthCheck: { path: '/healthz' }, env: { SESSION: { secret: true } } }),
  secrets: { SESSION: 's3ssion' },
};

function serve(revision: number, workloads: DesiredWorkload[]): void {
  const compiled = compileClusterBundle({ cluster: makeCluster('trinity'), tunnels: [], workloads });
  bundle = {
    clusterId: 'trinity',
    revision,
    hash: compiled.hash,
    objects: compiled.objects,
    origins: [],
    prune: { maxDeletes: 50, windowSeconds: 600, allowEmpty: workloads.length === 0, approval: null },
    probes: [],
  };
}

beforeAll(async () => {
  fake = await new FakeKubeApiserver({ controllerDelayMs: 5 }).start();
  kube = await Kube.connect(undefined, fake.kubeconfig());
  fake.applyAs('kubectl', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'edgeplane-system' } });
  worker = createServer((req, res) => {
    if (req.url === '/agent/v1/desired') {
      const etag = `"${bundle.revision}"`;
      if (req.headers['if-none-match'] === etag) return void res.writeHead(304).end();
      res.writeHead(200, { 'content-type': 'application/json', etag }).end(JSON.stringify(bundle));
      return;
    }
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      reports.push(JSON.parse(body) as AgentStatus);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => worker.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise((resolve) => worker.close(resolve));
  await fake.stop();
});

const names = (kind: string) =>
  fake
    .objects(kind, 'trinity')
    .map((o) => (o.metadata as { name: string }).name)
    .sort();

describe('the agent applies workloads like connectors', () => {
  it('applies a StatefulSet with its PVC, Service, env ConfigMap and Secret, writes nothing when unchanged, and prunes when a workload goes', async () => {
    const { port } = worker.address() as AddressInfo;
    const store = new StateStore(kube, 'edgeplane-system');
    const syncer = new Syncer(
      'trinity',
      kube,
      new Transport(`http://127.0.0.1:${port}`, 50, 500, 'epa.trinity.x'),
      store,
      await store.load(),
      new Metrics(),
      4,
    );

    serve(2, [postgres, web]);
    expect(await syncer.sync()).toBe('applied');
    expect(names('StatefulSet')).toEqual(['postgres']);
    expect(names('PersistentVolumeClaim')).toEqual(['postgres-pgdata']);
    expect(names('Deployment')).toEqual(['web']);
    expect(names('Service')).toEqual(['postgres', 'web']);
    // kube-root-ca.crt: published into every namespace by the cluster (the fake's root-CA publisher), not by edgeplane.
    expect(names('ConfigMap')).toEqual(['kube-root-ca.crt', 'postgres-env']);
    expect(names('Secret')).toEqual(['postgres-env', 'web-env']);
    const secret = fake.objects('Secret', 'trinity').find((o) => (o.metadata as { name: string }).name === 'web-env');
    expect(secret?.data).toEqual({ SESSION: Buffer.from('s3ssion').toString('base64') });
    const claim = fake.objects('PersistentVolumeClaim', 'trinity')[0];
    expect(claim?.spec).toMatchObject({ resources: { requests: { storage: '5Gi' } } });
    expect(reports.at(-1)).toMatchObject({ revision: 2, applied: true });
    expect(reports.at(-1)?.results.filter((r) => r.action !== 'created')).toEqual([]);

    const writes = fake.writes;
    serve(2, [postgres, web]);
    expect(await syncer.sync()).toBe('unchanged');
    expect(fake.writes).toBe(writes);

    serve(3, [web]);
    expect(await syncer.sync()).toBe('applied');
    expect(names('StatefulSet')).toEqual([]);
    expect(names('PersistentVolumeClaim')).toEqual([]);
    expect(names('Service')).toEqual(['web']);
    expect(reports.at(-1)?.pruned.sort()).toEqual([
      'apps/v1/StatefulSet/trinity/postgres',
      'v1/ConfigMap/trinity/postgres-env',
      'v1/PersistentVolumeClaim/trinity/postgres-pgdata',
      'v1/Secret/trinity/postgres-env',
      'v1/Service/trinity/postgres',
    ]);

    // The last workload gone: its objects are pruned, its Namespace is kept (it may hold what edgeplane did not make).
    serve(4, []);
    expect(await syncer.sync()).toBe('applied');
    expect(names('Deployment')).toEqual([]);
    expect(fake.objects('Namespace').some((o) => (o.metadata as { name: string }).name === 'trinity')).toBe(true);
    expect(reports.at(-1)?.results).toContainEqual(
      expect.objectContaining({
        kind: 'Namespace',
        name: 'trinity',
        action: 'prune_refused',
        message: expect.stringContaining('kept') as unknown,
      }),
    );
  });
});
