import fc from 'fast-check';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { type WorkloadSpec } from '../../../src/shared/api';
import {
  compileClusterBundle,
  type DesiredWorkload,
  isSensitiveEnvName,
  type KubeObject,
  namePorts,
  objectKey,
  workloadObjects,
} from '../../../src/shared/compiler';
import { makeCluster } from './arbitraries';

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
};

function validate(object: KubeObject): void {
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!Model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  try {
    new Model(structuredClone(object) as never).validate();
  } catch (error) {
    throw new Error(`${objectKey(object)} does not validate: ${String(error)}`);
  }
}

const spec = (over: Partial<WorkloadSpec> = {}): WorkloadSpec => ({
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
const workload = (over: Partial<WorkloadSpec> = {}, secrets: Record<string, string> = {}, id = 'web'): DesiredWorkload => ({
  id,
  namespace: 'trinity',
  spec: spec(over),
  secrets,
});
const byKind = (objects: KubeObject[], kind: string) => objects.filter((o) => o.kind === kind);
const podSpec = (o: KubeObject | undefined) =>
  ((o?.spec as { template: { spec: Record<string, unknown> } } | undefined)?.template.spec ?? {}) as {
    containers: Record<string, unknown>[];
    volumes?: unknown[];
  };

const portArb = fc.oneof(
  fc.integer({ min: 1, max: 65535 }),
  fc.constantFrom(80, 443, 5432, 8000, 8080),
  fc.record({
    port: fc.integer({ min: 1, max: 65535 }),
    name: fc.option(fc.constantFrom('http', 'http-2', 'metrics', 'postgres', 'a-very-long-nam'), { nil: undefined }),
    protocol: fc.constantFrom('TCP' as const, 'UDP' as const),
  }),
);
const workloadArb = fc
  .record({
    id: fc.constantFrom('web', 'api', 'postgres', 'a-very-long-workload-name-that-still-fits-in-63-characters-xyz'),
    image: fc.constantFrom('nginx:1.27', 'postgres:16', 'ghcr.io/x/redis:7', 'minio/minio:latest', 'app'),
    env: fc.dictionary(
      fc.constantFrom('A', 'DB_HOST', 'DB_PASSWORD', 'API_KEY', 'SECRET_TOKEN', 'MONKEY', 'LOG_LEVEL'),
      fc.oneof(fc.string({ maxLength: 10 }), fc.constant({ secret: true as const })),
    ),
    ports: fc.uniqueArray(portArb, { maxLength: 6, selector: (p) => (typeof p === 'number' ? p : (p.name ?? p.port)) }),
    replicas: fc.integer({ min: 0, max: 5 }),
    volumes: fc.uniqueArray(
      fc.record({
        name: fc.constantFrom('data', 'cache', 'db'),
        mountPath: fc.constant('/data'),
        size: fc.constant('1Gi'),
        readOnly: fc.boolean(),
      }),
      { maxLength: 2, selector: (v) => v.name },
    ),
    stateful: fc.constantFrom(null, true, false),
    health: fc.boolean(),
  })
  .map((r): DesiredWorkload => ({
    id: r.id,
    namespace: 'trinity',
    spec: spec({
      image: r.image,
      env: r.env,
      ports: r.ports,
      replicas: r.replicas,
      volumes: r.volumes,
      stateful: r.stateful,
      healthCheck: r.health ? { path: '/healthz' } : null,
    }),
    secrets: Object.fromEntries(Object.keys(r.env).map((k) => [k, `s3cret-${k}`])),
  }));

describe('workloadObjects', () => {
  it('emits objects that validate against the Kubernetes schemas, labelled, with unique identities', () => {
    fc.assert(
      fc.property(workloadArb, (w) => {
        const objects = workloadObjects('trinity', w);
        for (const o of objects) {
          validate(o);
          expect(o.metadata.labels).toMatchObject({
            'app.kubernetes.io/managed-by': 'edgeplane',
            'edgeplane.dev/cluster': 'trinity',
            'edgeplane.dev/workload': w.id,
          });
        }
        expect(new Set(objects.map(objectKey)).size).toBe(objects.length);
      }),
      { numRuns: 200 },
    );
  });

  it('names ports uniquely as DNS-1123 labels of at most 15 characters, on the container and the Service alike', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(portArb, { maxLength: 12, selector: (p) => (typeof p === 'number' ? p : (p.name ?? p.port)) }),
        (ports) => {
          const named = namePorts(ports);
          const names = named.map((p) => p.name);
          expect(new Set(names).size).toBe(names.length);
          for (const name of names) {
            expect(name.length).toBeLessThanOrEqual(15);
            expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
            expect(name).toMatch(/[a-z]/);
          }
        },
      ),
    );
    expect(namePorts([8000, 8001, 8002, 5432, { port: 9, name: 'http', protocol: 'TCP' }]).map((p) => p.name)).toEqual([
      'http-2',
      'http-3',
      'http-4',
      'postgres',
      'http',
    ]);
  });

  it('splits env: plain values to the ConfigMap, given secrets and sensitive names to the Secret, both through envFrom', () => {
    const w = workload(
      { env: { LOG_LEVEL: 'info', POSTGRES_PASSWORD: 'hunter2', OPENAI_API_KEY: 'sk-1', SESSION: { secret: true }, MONKEY: 'banana' } },
      { SESSION: 'abc' },
    );
    const objects = workloadObjects('trinity', w);
    expect(byKind(objects, 'ConfigMap')[0]?.data).toEqual({ LOG_LEVEL: 'info', MONKEY: 'banana' });
    expect(byKind(objects, 'Secret')[0]?.data).toEqual({
      OPENAI_API_KEY: Buffer.from('sk-1').toString('base64'),
      POSTGRES_PASSWORD: Buffer.from('hunter2').toString('base64'),
      SESSION: Buffer.from('abc').toString('base64'),
    });
    expect(podSpec(byKind(objects, 'Deployment')[0]).containers[0]?.envFrom).toEqual([
      { configMapRef: { name: 'web-env' } },
      { secretRef: { name: 'web-env' } },
    ]);
    for (const name of ['X_KEY', 'X_API_KEY', 'DB_PASSWORD', 'SMTP_PASS', 'GH_TOKEN', 'APP_SECRET', 'GCP_CREDENTIALS', 'TOKEN'])
      expect(isSensitiveEnvName(name)).toBe(true);
    for (const name of ['MONKEY', 'PASSTHROUGH', 'KEYS', 'TOKENIZER']) expect(isSensitiveEnvName(name)).toBe(false);
  });

  it('makes a StatefulSet with a PVC per named volume for volumes or a database image, a Deployment otherwise', () => {
    const pg = workloadObjects(
      'trinity',
      workload(
        {
          image: 'postgres:16',
          ports: [5432],
          volumes: [{ name: 'data', mountPath: '/var/lib/postgresql/data', size: '5Gi', readOnly: false }],
        },
        {},
        'postgres',
      ),
    );
    expect(pg.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'PersistentVolumeClaim/postgres-data',
      'StatefulSet/postgres',
      'Service/postgres',
    ]);
    expect(byKind(pg, 'PersistentVolumeClaim')[0]?.spec).toEqual({
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '5Gi' } },
    });
    expect(podSpec(byKind(pg, 'StatefulSet')[0]).volumes).toEqual([
      { name: 'data', persistentVolumeClaim: { claimName: 'postgres-data' } },
    ]);
    expect(byKind(workloadObjects('trinity', workload({ image: 'docker.io/library/redis:7' })), 'StatefulSet')).toHaveLength(1);
    expect(byKind(workloadObjects('trinity', workload({ image: 'redis:7', stateful: false })), 'Deployment')).toHaveLength(1);
    expect(byKind(workloadObjects('trinity', workload({ image: 'ghcr.io/me/redis-exporter:1' })), 'Deployment')).toHaveLength(1);
  });

  it('puts readiness and liveness probes on the health path and port, and none when it is null', () => {
    const objects = workloadObjects('trinity', workload({ ports: [9090, 8000], healthCheck: { path: '/healthz', port: 8000 } }));
    const container = podSpec(byKind(objects, 'Deployment')[0]).containers[0];
    expect(container?.readinessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'http-2' } });
    expect(container?.livenessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'http-2' } });
    expect(byKind(objects, 'Service')[0]?.spec).toMatchObject({
      ports: [
        { name: 'http', port: 9090, targetPort: 'http' },
        { name: 'http-2', port: 8000, targetPort: 'http-2' },
      ],
    });
    const none = podSpec(byKind(workloadObjects('trinity', workload()), 'Deployment')[0]).containers[0];
    expect(none?.readinessProbe).toBeUndefined();
    expect(none?.livenessProbe).toBeUndefined();
  });

  it('is deterministic in the bundle: same workloads in any order → byte-identical objects and hash; an env change rolls the pods', () => {
    fc.assert(
      fc.property(fc.uniqueArray(workloadArb, { maxLength: 4, selector: (w) => w.id }), (workloads) => {
        const a = compileClusterBundle({ cluster: makeCluster(), tunnels: [], workloads });
        const b = compileClusterBundle({ cluster: makeCluster(), tunnels: [], workloads: [...workloads].reverse() });
        expect(JSON.stringify(b.objects)).toBe(JSON.stringify(a.objects));
        expect(b.hash).toBe(a.hash);
      }),
      { numRuns: 100 },
    );
    const hash = (env: Record<string, string>) =>
      (
        byKind(workloadObjects('c', workload({ env })), 'Deployment')[0]?.spec as {
          template: { metadata: { annotations: Record<string, string> } };
        }
      ).template.metadata.annotations['edgeplane.dev/env-hash'];
    expect(hash({ A: '1' })).not.toBe(hash({ A: '2' }));
  });

  it('adds each workload namespace once, kept on prune, and no Service for serviceType None', () => {
    const bundle = compileClusterBundle({
      cluster: makeCluster(),
      tunnels: [],
      workloads: [workload({}, {}, 'a'), workload({ serviceType: 'None' }, {}, 'b')],
    });
    const namespaces = byKind(bundle.objects, 'Namespace');
    expect(namespaces).toHaveLength(1);
    expect(namespaces[0]?.metadata.annotations).toEqual({ 'edgeplane.dev/prune': 'keep' });
    expect(byKind(bundle.objects, 'Service').map((s) => s.metadata.name)).toEqual(['a']);
    expect(bundle.objects[0]?.kind).toBe('Namespace');
  });
});
