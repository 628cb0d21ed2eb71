import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Workload } from '../../../src/shared/api';
import type { Current } from '../../../cli/current';
import { diffState } from '../../../cli/diff';
import { checkSecrets, resolveSecrets } from '../../../cli/secrets';
import { parseState, StateFileError } from '../../../cli/state-file';

// Secret references in the state file: read only as a request leaves, never in a plan, and a workload's env compared
// as GET shows it (a secret is "set", an infra reference pinned by the Worker).

const dir = mkdtempSync(path.join(tmpdir(), 'edgeplane-secrets-'));
writeFileSync(path.join(dir, 'token.txt'), 'from-a-file\n');
const SET: string[] = [];
const setEnv = (name: string, value: string) => {
  process.env[name] = value;
  SET.push(name);
};
afterEach(() => {
  for (const name of SET.splice(0)) delete process.env[name];
});

const workload = (env: Workload['env']): Workload => ({
  id: 'web',
  cluster: 'c',
  namespace: 'apps',
  image: 'nginx:1.27',
  env,
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
  routeId: null,
  kind: 'Deployment',
  etag: '"w1"',
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
});

const current = (env: Workload['env']): Current => ({
  clusters: [],
  tunnels: [],
  routes: [],
  privateNetworks: [],
  splitTunnel: [],
  workloads: [workload(env)],
  inferenceBackends: [],
  mlBackends: [],
});

const state = (env: Record<string, unknown>) =>
  parseState(
    stringify({ workloads: [{ id: 'web', cluster: 'c', namespace: 'apps', image: 'nginx:1.27', ports: [80], env }] }),
    'state.yaml',
  );

describe('secret references', () => {
  it('reads env and file (without the trailing newline) only when resolved, and names the field of a missing one', () => {
    setEnv('DB_PW', 'from-env');
    const loaded = state({ DB_PASSWORD: { secret: { env: 'DB_PW' } }, API_TOKEN: { secret: { file: 'token.txt' } } });
    const diff = diffState(loaded.state, loaded.present, current({}), false, { baseDir: dir });
    const [step] = diff.steps;
    // The plan holds where each secret comes from, never its value.
    expect(JSON.stringify(diff)).not.toContain('from-env');
    expect(JSON.stringify(diff)).not.toContain('from-a-file');
    expect(step?.fields?.[0]?.after).toEqual({
      DB_PASSWORD: { secret: { $secret: { env: 'DB_PW' }, at: 'workloads[0].env.DB_PASSWORD.secret' } },
      API_TOKEN: { secret: { $secret: { file: path.join(dir, 'token.txt') }, at: 'workloads[0].env.API_TOKEN.secret' } },
    });
    expect(resolveSecrets(step?.request.body, 'state.yaml')).toEqual({
      env: { DB_PASSWORD: { secret: 'from-env' }, API_TOKEN: { secret: 'from-a-file' } },
    });
    delete process.env.DB_PW;
    expect(() => checkSecrets(loaded.state, 'state.yaml', dir)).toThrow(StateFileError);
    expect(() => checkSecrets(loaded.state, 'state.yaml', dir)).toThrow(
      'state.yaml: workloads[0].env.DB_PASSWORD.secret: environment variable DB_PW is not set',
    );
  });

  it('sees a secret added or removed, not a changed value (unless asked to send them again)', () => {
    const loaded = state({ MODE: 'x', DB_PASSWORD: { secret: { env: 'DB_PW' } } });
    const same = current({ MODE: 'x', DB_PASSWORD: { secret: true } });
    expect(diffState(loaded.state, loaded.present, same, false).steps).toEqual([]);
    const again = diffState(loaded.state, loaded.present, same, false, { updateSecrets: true }).steps;
    expect(again.map((s) => [s.change.action, s.fields?.map((f) => f.field)])).toEqual([['workload.update', ['env']]]);
    const added = diffState(loaded.state, loaded.present, current({ MODE: 'x' }), false).steps;
    expect(added.map((s) => s.change.action)).toEqual(['workload.update']);
  });

  it('compares an infra reference without an instance with the one the Worker pinned', () => {
    const loaded = state({ DATABASE_URL: { infra: 'postgres', value: 'url' } });
    const pinned = current({ DATABASE_URL: { infra: 'postgres', value: 'url', instance: 'data/postgres' } });
    expect(diffState(loaded.state, loaded.present, pinned, false).steps).toEqual([]);
    const other = current({ DATABASE_URL: { infra: 'postgres', value: 'address', instance: 'data/postgres' } });
    expect(diffState(loaded.state, loaded.present, other, false).steps).toHaveLength(1);
  });

  it('refuses a plain value under a name stored as a secret, with its path', () => {
    expect(() => state({ STRIPE_SECRET: 'sk_live_x' })).toThrow('workloads[0].env.STRIPE_SECRET: STRIPE_SECRET is stored as a secret');
  });
});

describe('inference backends in the diff', () => {
  const backend = (id: string, isDefault: boolean) => ({
    id,
    upstreams: [{ url: `https://${id}.example.com`, weight: 1 }],
    models: null,
    default: isDefault,
    balance: 'priority' as const,
    credentials: { type: 'bearer' as const },
    timeouts: { connectMs: 5000, totalMs: 300000 },
    retry: { attempts: 2, backoffMs: 100 },
    maxBodyBytes: 100 * 1024 * 1024,
    etag: `"${id}"`,
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
  });

  it('moves the default in an order the Worker accepts, and compares credentials by kind only', () => {
    const have: Current = { ...current({}), workloads: [], inferenceBackends: [backend('a', true), backend('b', false)] };
    const file = (aDefault: boolean) =>
      parseState(
        stringify({
          inferenceBackends: ['b', 'a'].map((id) => ({
            id,
            upstreams: [{ url: `https://${id}.example.com` }],
            default: id === 'a' ? aDefault : !aDefault,
            credentials: { type: 'bearer', token: { env: 'T' } },
          })),
        }),
        'state.yaml',
      );
    const unchanged = file(true);
    expect(diffState(unchanged.state, unchanged.present, have, false).steps).toEqual([]);
    const moved = file(false);
    const steps = diffState(moved.state, moved.present, have, false).steps;
    expect(steps.map((s) => [s.request.path, s.request.body])).toEqual([
      ['v1/inference/backends/a', { default: false }],
      ['v1/inference/backends/b', { default: true }],
    ]);
  });
});
