import { describe, expect, it } from 'vitest';
import type { WorkloadSpec } from '../../../src/shared/api';
import {
  compileClusterBundle,
  compileInfraRef,
  describeResolution,
  infraCandidates,
  infraKindOfImage,
  infraKindOfPort,
  infraVariables,
  interpolate,
  readCompose,
  resolveInfraRef,
  type DesiredWorkload,
  type InfraInstance,
} from '../../../src/shared/compiler';
import { makeCluster } from './arbitraries';

const pg = (namespace: string, name: string, port = 5432): InfraInstance => ({
  kind: 'postgres',
  namespace,
  name,
  host: `${name}.${namespace}.svc.cluster.local`,
  port,
  matchedBy: 'image',
});
const kafka: InfraInstance = {
  kind: 'kafka',
  namespace: 'q',
  name: 'kafka',
  host: 'kafka.q.svc.cluster.local',
  port: 9092,
  matchedBy: 'label',
};

const spec = (over: Partial<WorkloadSpec>): WorkloadSpec => ({
  image: 'ghcr.io/acme/app:1',
  env: {},
  ports: [],
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

describe('recognising infra', () => {
  it('by image, whatever the registry, tag or digest', () => {
    expect(infraKindOfImage('postgres:16')).toBe('postgres');
    expect(infraKindOfImage('docker.io/bitnami/postgresql:16.4.0@sha256:abc')).toBe('postgres');
    expect(infraKindOfImage('pgvector/pgvector:pg16')).toBe('postgres');
    expect(infraKindOfImage('mariadb:11')).toBe('mysql');
    expect(infraKindOfImage('valkey/valkey:8')).toBe('redis');
    expect(infraKindOfImage('quay.io/minio/minio:RELEASE.2024')).toBe('minio');
    expect(infraKindOfImage('ghcr.io/acme/postgres-backup:1')).toBeUndefined();
    expect(infraKindOfImage('nginx:1.27')).toBeUndefined();
  });

  it('by port name, else number — but never by a number that says little (9000 is also php-fpm)', () => {
    expect(infraKindOfPort({ port: 15432, name: 'tcp-postgresql' })).toBe('postgres');
    expect(infraKindOfPort({ port: 6379 })).toBe('redis');
    expect(infraKindOfPort({ port: 9000 })).toBeUndefined();
    expect(infraKindOfPort({ port: 9000, name: 'minio-api' })).toBe('minio');
    expect(infraKindOfPort({ port: 8080 })).toBeUndefined();
  });
});

describe('resolving {"infra": ...}', () => {
  const candidates = [pg('data', 'pg-main'), pg('data', 'pg-old', 5433), kafka];

  it('finds the one instance of a kind, the named one, and says what is wrong otherwise', () => {
    expect(resolveInfraRef({ infra: 'kafka' }, candidates)).toEqual({ ok: true, instance: kafka });
    expect(resolveInfraRef({ infra: 'postgres', instance: 'data/pg-old' }, candidates)).toEqual({
      ok: true,
      instance: pg('data', 'pg-old', 5433),
    });
    const several = resolveInfraRef({ infra: 'postgres' }, candidates);
    expect(several).toMatchObject({ ok: false, problem: 'ambiguous' });
    if (!several.ok)
      expect(describeResolution({ infra: 'postgres' }, several)).toBe(
        '2 postgres instances found: "data/pg-main" (pg-main.data.svc.cluster.local:5432), "data/pg-old" (pg-old.data.svc.cluster.local:5433); name one with {"infra": "postgres", "instance": "<namespace>/<service>"}',
      );
    const none = resolveInfraRef({ infra: 'redis' }, candidates);
    expect(none).toMatchObject({ ok: false, problem: 'none', candidates: [] });
    const unknown = resolveInfraRef({ infra: 'postgres', instance: 'data/pg-new' }, candidates);
    expect(unknown).toMatchObject({ ok: false, problem: 'unknown-instance' });
    if (!unknown.ok)
      expect(describeResolution({ infra: 'postgres', instance: 'data/pg-new' }, unknown)).toMatch(
        /^no postgres instance "data\/pg-new" in the cluster; found: "data\/pg-main"/,
      );
  });

  it("counts a workload running a database image, whose definition wins over the agent's older view of it", () => {
    const seenByPort: InfraInstance = { ...pg('apps', 'db', 5432), kind: 'postgres', matchedBy: 'port' };
    const got = infraCandidates(
      [seenByPort, kafka],
      [
        {
          id: 'db',
          namespace: 'apps',
          spec: { image: 'postgres:16', ports: [{ port: 5432, name: 'sql', protocol: 'TCP' }], serviceType: 'ClusterIP' },
        },
        { id: 'web', namespace: 'apps', spec: { image: 'nginx:1.27', ports: [80], serviceType: 'ClusterIP' } },
        { id: 'cache', namespace: 'apps', spec: { image: 'redis:7', ports: [6379], serviceType: 'None' } },
      ],
    );
    expect(got).toEqual([kafka, { ...pg('apps', 'db'), image: 'postgres:16', matchedBy: 'image', workload: 'db' }]);
  });

  it('compiles each value form; a pinned instance gone keeps its address with the usual port', () => {
    const ref = { infra: 'postgres' as const, instance: 'data/pg-old' };
    expect(compileInfraRef({ ...ref, value: 'address' }, candidates)).toBe('pg-old.data.svc.cluster.local:5433');
    expect(compileInfraRef({ ...ref, value: 'host' }, candidates)).toBe('pg-old.data.svc.cluster.local');
    expect(compileInfraRef({ ...ref, value: 'port' }, candidates)).toBe('5433');
    expect(compileInfraRef({ ...ref, value: 'url' }, candidates)).toBe('postgresql://pg-old.data.svc.cluster.local:5433');
    expect(compileInfraRef({ infra: 'kafka', instance: 'q/kafka', value: 'url' }, candidates)).toBe('kafka.q.svc.cluster.local:9092');
    expect(compileInfraRef({ ...ref, value: 'address' }, [])).toBe('pg-old.data.svc.cluster.local:5432');
  });

  it('puts resolved values in the ConfigMap (the Secret under a sensitive name), deterministically', () => {
    const app: DesiredWorkload = {
      id: 'app',
      namespace: 'apps',
      spec: spec({
        env: {
          DATABASE_URL: { infra: 'postgres', instance: 'data/pg-main', value: 'url' },
          BROKER_API_KEY: { infra: 'kafka', instance: 'q/kafka', value: 'address' },
        },
      }),
      secrets: {},
    };
    const desired = { cluster: makeCluster('c1'), tunnels: [], workloads: [app], infra: candidates };
    const bundle = compileClusterBundle(desired);
    expect(bundle.objects.find((o) => o.kind === 'ConfigMap')?.data).toEqual({
      DATABASE_URL: 'postgresql://pg-main.data.svc.cluster.local:5432',
    });
    expect(bundle.objects.find((o) => o.kind === 'Secret')?.data).toEqual({ BROKER_API_KEY: btoa('kafka.q.svc.cluster.local:9092') });
    expect(compileClusterBundle(desired).hash).toBe(bundle.hash);
    expect(compileClusterBundle({ ...desired, infra: [pg('data', 'pg-main', 6432), kafka] }).hash).not.toBe(bundle.hash);
  });
});

describe('discovered infra as a compose variable source', () => {
  it('answers host/port/address/url names for a kind with one instance the compose file does not run itself', () => {
    const vars = infraVariables([pg('data', 'pg-main'), kafka, { ...kafka, name: 'kafka-2' }], ['nginx:1.27']);
    expect(vars).toMatchObject({
      POSTGRES_HOST: 'pg-main.data.svc.cluster.local',
      PGPORT: '5432',
      PG_URL: 'postgresql://pg-main.data.svc.cluster.local:5432',
    });
    expect(vars).not.toHaveProperty('DATABASE_URL'); // names no kind: not guessed
    expect(Object.keys(vars).some((k) => k.startsWith('KAFKA'))).toBe(false); // two kafkas: no guess
    expect(infraVariables([pg('data', 'pg-main')], ['postgres:16'])).toEqual({}); // its own postgres wins
  });

  it('comes after the request and before the default, and says so per variable', () => {
    const infra = { POSTGRES_HOST: 'pg-main.data.svc.cluster.local' };
    expect(interpolate('${POSTGRES_HOST:-postgres}', {}, infra)).toEqual({
      value: 'pg-main.data.svc.cluster.local',
      uses: [{ name: 'POSTGRES_HOST', source: 'infra' }],
      missing: [],
    });
    expect(interpolate('${POSTGRES_HOST:-postgres}', { POSTGRES_HOST: 'db' }, infra).uses).toEqual([
      { name: 'POSTGRES_HOST', source: 'request' },
    ]);
    expect(interpolate('${REDIS_HOST:-redis}', {}, infra)).toMatchObject({
      value: 'redis',
      uses: [{ name: 'REDIS_HOST', source: 'default' }],
    });
    const read = readCompose(
      [
        'services:',
        '  api:',
        '    image: ghcr.io/acme/api:1',
        '    environment:',
        '      DB_HOST: ${POSTGRES_HOST:?set POSTGRES_HOST}',
        '',
      ].join('\n'),
      { namespace: 'apps', env: {}, envFiles: {}, infra: [pg('data', 'pg-main')] },
    );
    expect(read.ok).toBe(true);
    if (read.ok) {
      expect(read.proposal.services[0]?.variables).toEqual([{ name: 'POSTGRES_HOST', source: 'infra' }]);
      expect(read.proposal.services[0]?.workload?.env).toEqual({ DB_HOST: 'pg-main.data.svc.cluster.local' });
    }
  });
});

describe('compose routes', () => {
  it('gives a service that two routers share its port once', () => {
    const read = readCompose(
      [
        'services:',
        '  api:',
        '    image: ghcr.io/acme/api:1',
        '    labels:',
        '      - traefik.http.routers.api.rule=Host(`a.example.com`) && PathPrefix(`/api`)',
        '      - traefik.http.routers.docs.rule=Host(`a.example.com`) && PathPrefix(`/docs`)',
        '      - traefik.http.services.api.loadbalancer.server.port=8001',
        '',
      ].join('\n'),
      { namespace: 'apps', env: {}, envFiles: {} },
    );
    expect(read.ok && read.proposal.services[0]?.workload?.ports).toEqual([8001]);
    expect(read.ok && read.proposal.routes.map((r) => r.path)).toEqual(['/api', '/docs']);
  });
});
