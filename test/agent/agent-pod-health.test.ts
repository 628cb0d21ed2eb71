import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Kube } from '../../agent/kube';
import { Metrics } from '../../agent/metrics';
import { StateStore } from '../../agent/state';
import { Syncer } from '../../agent/sync';
import { Transport } from '../../agent/transport';
import { agentStatus, type AgentStatus, type DesiredBundle } from '../../src/shared/api/agent';
import type { WorkloadSpec } from '../../src/shared/api';
import { compileClusterBundle, type DesiredWorkload } from '../../src/shared/compiler';
import { FakeKubeApiserver } from '../fakes/kube-apiserver/server';
import { makeCluster } from '../unit/compiler/arbitraries';

// Pod-level health and infra discovery: the agent's real sync loop against the fake apiserver holding pods in the states
// an operator debugs (image pull, crash loop, OOM kill, unschedulable, not ready), and the report it sends.

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
const workload = (id: string, over: Partial<WorkloadSpec>): DesiredWorkload => ({
  id,
  namespace: 'trinity',
  spec: spec(over),
  secrets: {},
});
const workloads = [
  workload('web', { image: 'ghcr.io/acme/web:1.0' }),
  workload('api', { image: 'ghcr.io/acme/api:2.1', ports: [8001] }),
  workload('ai', { image: 'ghcr.io/acme/ai:0.9', ports: [8002] }),
  workload('postgres', { image: 'postgres:16', ports: [5432] }),
  workload('frontend', { image: 'ghcr.io/acme/frontend:3', ports: [8080], replicas: 2 }),
];

function serve(revision: number): void {
  const compiled = compileClusterBundle({ cluster: makeCluster('trinity'), tunnels: [], workloads });
  bundle = {
    clusterId: 'trinity',
    revision,
    hash: compiled.hash,
    objects: compiled.objects,
    origins: [],
    prune: { maxDeletes: 50, windowSeconds: 600, allowEmpty: false, approval: null },
    probes: [],
  };
}

const podLabels = (id: string) => ({
  'app.kubernetes.io/managed-by': 'edgeplane',
  'edgeplane.dev/cluster': 'trinity',
  'edgeplane.dev/workload': id,
  'app.kubernetes.io/name': id,
});
const at = '2025-01-01T00:00:00Z';
const cond = (type: string, status: string, extra: Record<string, string> = {}) => ({ type, status, lastTransitionTime: at, ...extra });
const container = (name: string, image: string, over: Record<string, unknown>) => ({
  name,
  image,
  imageID: '',
  ready: false,
  restartCount: 0,
  ...over,
});

function putPods(): void {
  fake.putPod({
    namespace: 'trinity',
    name: 'web-7d9f-abcde',
    labels: podLabels('web'),
    containers: [{ name: 'web', image: 'ghcr.io/acme/web:1.0' }],
    status: {
      phase: 'Pending',
      conditions: [cond('PodScheduled', 'True'), cond('Ready', 'False', { reason: 'ContainersNotReady' })],
      containerStatuses: [
        container('web', 'ghcr.io/acme/web:1.0', {
          state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "ghcr.io/acme/web:1.0": 401 Unauthorized' } },
        }),
      ],
    },
  });
  fake.putPod({
    namespace: 'trinity',
    name: 'api-5c6b-fghij',
    labels: podLabels('api'),
    containers: [{ name: 'api', image: 'ghcr.io/acme/api:2.1' }],
    status: {
      phase: 'Running',
      conditions: [cond('PodScheduled', 'True'), cond('Ready', 'False')],
      containerStatuses: [
        container('api', 'ghcr.io/acme/api:2.1', {
          restartCount: 7,
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container=api pod=api-5c6b-fghij' } },
          lastState: { terminated: { reason: 'Error', exitCode: 1, startedAt: at, finishedAt: at } },
        }),
      ],
    },
  });
  fake.putPod({
    namespace: 'trinity',
    name: 'ai-6f7c-klmno',
    labels: podLabels('ai'),
    containers: [{ name: 'ai', image: 'ghcr.io/acme/ai:0.9' }],
    status: {
      phase: 'Running',
      conditions: [cond('PodScheduled', 'True'), cond('Ready', 'False')],
      containerStatuses: [
        container('ai', 'ghcr.io/acme/ai:0.9', {
          restartCount: 3,
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=ai pod=ai-6f7c-klmno' } },
          lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, startedAt: at, finishedAt: at } },
        }),
      ],
    },
  });
  fake.putPod({
    namespace: 'trinity',
    name: 'postgres-0',
    labels: podLabels('postgres'),
    containers: [{ name: 'postgres', image: 'postgres:16' }],
    status: {
      phase: 'Pending',
      conditions: [
        cond('PodScheduled', 'False', {
          reason: 'Unschedulable',
          message:
            '0/4 nodes are available: 4 Insufficient memory. preemption: 0/4 nodes are available: 4 No preemption victims found for incoming pod.',
        }),
      ],
    },
  });
  for (const [name, ready] of [
    ['frontend-8a9b-aaaaa', true],
    ['frontend-8a9b-bbbbb', false],
  ] as const)
    fake.putPod({
      namespace: 'trinity',
      name,
      labels: podLabels('frontend'),
      containers: [{ name: 'frontend', image: 'ghcr.io/acme/frontend:3' }],
      status: {
        phase: 'Running',
        conditions: [
          cond('PodScheduled', 'True'),
          ready
            ? cond('Ready', 'True')
            : cond('Ready', 'False', { reason: 'ContainersNotReady', message: 'containers with unready status: [frontend]' }),
        ],
        containerStatuses: [container('frontend', 'ghcr.io/acme/frontend:3', { ready, state: { running: { startedAt: at } } })],
      },
    });
}

/** Infra edgeplane did not deploy: a Helm postgres (with its headless twin), a redis without readable pods, a web app. */
function putForeignInfra(): void {
  fake.applyAs('kubectl', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'data' } });
  const svc = (
    name: string,
    selector: Record<string, string>,
    ports: { name?: string; port: number }[],
    extra: Record<string, unknown> = {},
  ) =>
    fake.applyAs('helm', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: 'data', labels: { 'app.kubernetes.io/managed-by': 'Helm' } },
      spec: { selector, ports, ...extra },
    });
  svc('pg-main', { 'app.kubernetes.io/instance': 'pg-main' }, [{ name: 'tcp-postgresql', port: 5432 }]);
  svc('pg-main-hl', { 'app.kubernetes.io/instance': 'pg-main' }, [{ name: 'tcp-postgresql', port: 5432 }], { clusterIP: 'None' });
  svc('cache', { app: 'cache' }, [{ port: 6379 }]);
  svc('php', { app: 'php' }, [{ port: 9000 }]);
  fake.putPod({
    namespace: 'data',
    name: 'pg-main-0',
    labels: { 'app.kubernetes.io/instance': 'pg-main', 'app.kubernetes.io/name': 'postgresql' },
    containers: [{ name: 'postgresql', image: 'docker.io/bitnami/postgresql:16.4.0' }],
    status: { phase: 'Running' },
  });
  fake.putPod({
    namespace: 'data',
    name: 'php-1',
    labels: { app: 'php' },
    containers: [{ name: 'php', image: 'php:8.3-fpm' }],
    status: { phase: 'Running' },
  });
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
  serve(2);
});
afterAll(async () => {
  await new Promise((resolve) => worker.close(resolve));
  await fake.stop();
});
beforeEach(() => {
  fake.forbidden.clear();
});

async function syncer(): Promise<Syncer> {
  const { port } = worker.address() as AddressInfo;
  const store = new StateStore(kube, 'edgeplane-system');
  return new Syncer(
    'trinity',
    kube,
    new Transport(`http://127.0.0.1:${port}`, 50, 500, 'epa.trinity.x'),
    store,
    await store.load(),
    new Metrics(),
    4,
  );
}

describe('pod-level health', () => {
  it('reports each workload pod failure as kubectl describe would, and fails the cluster health', async () => {
    const agent = await syncer();
    await agent.sync(); // creates the namespace and the workloads; pods come from the "controllers" below
    putPods();
    putForeignInfra();
    fake.log.length = 0;
    serve(3);
    await agent.sync();
    const health = reports.at(-1)?.health;
    expect(agentStatus.safeParse(reports.at(-1)).success).toBe(true); // what the Worker will accept
    expect(health?.status).toBe('Failed');
    expect(health?.workloads).toEqual([
      {
        workload: 'ai',
        namespace: 'trinity',
        status: 'Failed',
        pods: 1,
        ready: 0,
        problems: [
          {
            pod: 'ai-6f7c-klmno',
            container: 'ai',
            restarts: 3,
            reason: 'OOMKilled',
            message:
              'killed for exceeding its memory limit (exit code 137); CrashLoopBackOff: back-off 40s restarting failed container=ai pod=ai-6f7c-klmno',
            lastTermination: { reason: 'OOMKilled', exitCode: 137 },
          },
        ],
      },
      {
        workload: 'api',
        namespace: 'trinity',
        status: 'Failed',
        pods: 1,
        ready: 0,
        problems: [
          {
            pod: 'api-5c6b-fghij',
            container: 'api',
            restarts: 7,
            reason: 'CrashLoopBackOff',
            message: 'back-off 5m0s restarting failed container=api pod=api-5c6b-fghij',
            lastTermination: { reason: 'Error', exitCode: 1 },
          },
        ],
      },
      {
        workload: 'frontend',
        namespace: 'trinity',
        status: 'InProgress',
        pods: 2,
        ready: 1,
        problems: [
          {
            pod: 'frontend-8a9b-bbbbb',
            container: 'frontend',
            restarts: 0,
            reason: 'NotReady',
            message: 'containers with unready status: [frontend]',
          },
        ],
      },
      {
        workload: 'postgres',
        namespace: 'trinity',
        status: 'Failed',
        pods: 1,
        ready: 0,
        problems: [
          {
            pod: 'postgres-0',
            reason: 'Unschedulable',
            message:
              '0/4 nodes are available: 4 Insufficient memory. preemption: 0/4 nodes are available: 4 No preemption victims found for incoming pod.',
          },
        ],
      },
      {
        workload: 'web',
        namespace: 'trinity',
        status: 'Failed',
        pods: 1,
        ready: 0,
        problems: [
          {
            pod: 'web-7d9f-abcde',
            container: 'web',
            restarts: 0,
            reason: 'ImagePullBackOff',
            message: 'Back-off pulling image "ghcr.io/acme/web:1.0": 401 Unauthorized',
          },
        ],
      },
    ]);
    // Pods are only read: one labelled list in the workloads' namespace (discovery's cluster-wide list ran in the first
    // pass and runs at most once a minute); no pod is ever written, no log or exec subresource is asked for.
    const podCalls = fake.log.filter((r) => r.path.includes('/pods'));
    expect(podCalls.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/v1/namespaces/trinity/pods']);
  });

  it('reports the infra it found: by image, by port when no pod tells, never a headless twin or an app on a database port', async () => {
    const agent = await syncer();
    serve(4);
    await agent.sync();
    expect(reports.at(-1)?.infra).toEqual([
      {
        kind: 'postgres',
        namespace: 'data',
        name: 'pg-main',
        host: 'pg-main.data.svc.cluster.local',
        port: 5432,
        image: 'docker.io/bitnami/postgresql:16.4.0',
        matchedBy: 'image',
      },
      {
        kind: 'postgres',
        namespace: 'trinity',
        name: 'postgres',
        host: 'postgres.trinity.svc.cluster.local',
        port: 5432,
        image: 'postgres:16',
        matchedBy: 'image',
        workload: 'postgres',
      },
      { kind: 'redis', namespace: 'data', name: 'cache', host: 'cache.data.svc.cluster.local', port: 6379, matchedBy: 'port' },
    ]);
  });

  it('says so per workload when its pods may not be listed, and discovery falls back to labels and ports', async () => {
    fake.forbidden.add('pods@trinity');
    const agent = await syncer();
    serve(5);
    await agent.sync();
    const report = reports.at(-1);
    expect(report?.health.workloads?.find((w) => w.workload === 'web')).toEqual({
      workload: 'web',
      namespace: 'trinity',
      status: 'InProgress',
      pods: 0,
      ready: 0,
      problems: [],
      error:
        'pods in trinity could not be listed (403): pods is forbidden: User "system:serviceaccount:edgeplane-system:edgeplane-agent" cannot list resource "pods" in API group "" in the namespace "trinity"',
    });
    // Without pods, the edgeplane postgres is still found by its Service's port name; the Helm one by its port.
    expect(report?.infra?.map((i) => `${i.kind} ${i.namespace}/${i.name} ${i.matchedBy}`)).toEqual([
      'postgres data/pg-main port',
      'postgres trinity/postgres port',
      'redis data/cache port',
    ]);
  });
});
