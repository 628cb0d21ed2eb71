import { env, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { newSecret } from '../../worker/crypto';
import { runDueProbeSchedules } from '../../worker/services/probes';
import { clusterWithTunnel } from './fixtures';
import { api, count, expectError, serviceDeps } from './helpers';

// The node egress matrix through the API and the agent protocol: a probe is created, travels in the agent's bundle,
// comes back in a status report and reads as a node × target matrix (docs/diagnostics.md).

async function registered(cluster: string): Promise<string> {
  const manifest = await api('GET', `/v1/clusters/${cluster}/install.yaml`);
  const docs = parseAllDocuments(await manifest.text()).map((d) => d.toJSON() as { kind: string; stringData?: { token?: string } });
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
      nodeCount: 2,
      agentVersion: '0.1.0',
    }),
  });
  expect(response.status).toBe(201);
  return credential;
}

const agent = (path: string, credential: string, init: RequestInit = {}) =>
  SELF.fetch(`https://edgeplane.test${path}`, {
    ...init,
    headers: { authorization: `Bearer ${credential}`, ...(init.headers as Record<string, string> | undefined) },
  });

interface Bundle {
  revision: number;
  hash: string;
  probes: { id: string; targets: unknown[]; nodes: string[] | null; timeoutMs: number; hostNetwork: boolean }[];
}

async function desired(credential: string): Promise<Bundle> {
  const response = await agent('/agent/v1/desired', credential);
  expect(response.status).toBe(200);
  return (await response.json()) as Bundle;
}

async function report(credential: string, bundle: Bundle, probes: unknown[]): Promise<Response> {
  return agent('/agent/v1/status', credential, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      revision: bundle.revision,
      hash: bundle.hash,
      applied: true,
      durationMs: 3,
      results: [],
      conflicts: [],
      pruned: [],
      health: { status: 'Current', objects: [], connectors: { desired: 0, ready: 0 }, origins: [] },
      agentVersion: '0.1.0',
      probes,
    }),
  });
}

const twoTargets = {
  targets: [
    { host: 'db.example.com', port: 5432 },
    { host: 'API.Example.com', port: 443, tls: true },
  ],
};

/** What an agent reports for `twoTargets` from two nodes: worker-2 is refused by the database. */
const nodeReports = (id: string, worker2: 'refused' | 'ok' = 'refused') => [
  {
    id,
    nodes: [
      {
        node: 'worker-1',
        ran: true,
        outcomes: [
          { ok: true, ms: 4, address: '10.0.0.5' },
          { ok: true, ms: 31, address: '104.16.1.1' },
        ],
      },
      {
        node: 'worker-2',
        ran: true,
        outcomes: [
          worker2 === 'ok'
            ? { ok: true, ms: 5, address: '10.0.0.5' }
            : { ok: false, ms: 1, address: '10.0.0.5', error: { kind: 'refused', message: 'TCP connect to 10.0.0.5:5432: ECONNREFUSED' } },
          { ok: true, ms: 29, address: '104.16.1.1' },
        ],
      },
      { node: 'gpu-1', ran: false, message: 'the probe pod on gpu-1 did not start: Unschedulable', outcomes: [] },
    ],
  },
];

describe('POST /v1/clusters/{id}/probes (happy)', () => {
  it('creates a pending probe that reaches the agent in its bundle and completes with the reported matrix', async () => {
    const { cluster } = await clusterWithTunnel();
    const credential = await registered(cluster);
    const before = await desired(credential);
    expect(before.probes).toEqual([]);

    const created = await api('POST', `/v1/clusters/${cluster}/probes`, { role: 'editor', body: twoTargets });
    expect(created.status).toBe(201);
    const probe = (await created.json()) as { id: string; createdAt: string };
    expect(probe).toEqual({
      id: expect.stringMatching(/^prb_[0-9a-z]{22}$/),
      clusterId: cluster,
      scheduleId: null,
      status: 'pending',
      request: {
        targets: [
          { host: 'db.example.com', port: 5432, tls: false, tlsVerify: true },
          { host: 'api.example.com', port: 443, tls: true, tlsVerify: true },
        ],
        timeoutMs: 3000,
        hostNetwork: false,
      },
      matrix: null,
      changes: null,
      createdAt: probe.createdAt,
      completedAt: null,
    });

    // The probe bumped the revision, so the agent's cached ETag no longer matches and the bundle carries it.
    const etag = `"${before.revision}.1"`;
    expect((await agent('/agent/v1/desired', credential, { headers: { 'if-none-match': etag } })).status).toBe(200);
    const bundle = await desired(credential);
    expect(bundle.revision).toBe(before.revision + 1);
    expect(bundle.probes).toEqual([
      {
        id: probe.id,
        targets: [
          { host: 'db.example.com', port: 5432, tls: false, tlsVerify: true },
          { host: 'api.example.com', port: 443, tls: true, tlsVerify: true },
        ],
        nodes: null,
        timeoutMs: 3000,
        hostNetwork: false,
      },
    ]);

    expect((await report(credential, bundle, nodeReports(probe.id))).status).toBe(204);
    const done = (await (await api('GET', `/v1/clusters/${cluster}/probes/${probe.id}`, { role: 'viewer' })).json()) as Record<
      string,
      unknown
    >;
    expect(done.status).toBe('completed');
    expect(done.completedAt).toEqual(expect.any(String));
    expect(done.matrix).toEqual([
      {
        node: 'worker-1',
        ran: true,
        message: null,
        cells: [
          { host: 'db.example.com', port: 5432, ok: true, latencyMs: 4, address: '10.0.0.5', error: null },
          { host: 'api.example.com', port: 443, ok: true, latencyMs: 31, address: '104.16.1.1', error: null },
        ],
      },
      {
        node: 'worker-2',
        ran: true,
        message: null,
        cells: [
          {
            host: 'db.example.com',
            port: 5432,
            ok: false,
            latencyMs: 1,
            address: '10.0.0.5',
            error: { kind: 'refused', message: 'TCP connect to 10.0.0.5:5432: ECONNREFUSED' },
          },
          { host: 'api.example.com', port: 443, ok: true, latencyMs: 29, address: '104.16.1.1', error: null },
        ],
      },
      { node: 'gpu-1', ran: false, message: 'the probe pod on gpu-1 did not start: Unschedulable', cells: [] },
    ]);
    expect(await (await api('GET', `/v1/clusters/${cluster}/probes/last`, { role: 'viewer' })).json()).toEqual(done);
    const listed = (await (await api('GET', `/v1/clusters/${cluster}/probes`, { role: 'viewer' })).json()) as { items: { id: string }[] };
    expect(listed.items.map((p) => p.id)).toEqual([probe.id]);

    // A completed probe leaves the bundle; the same report again changes nothing.
    expect((await desired(credential)).probes).toEqual([]);
    expect((await report(credential, bundle, nodeReports(probe.id, 'ok'))).status).toBe(204);
    expect(await (await api('GET', `/v1/clusters/${cluster}/probes/${probe.id}`)).json()).toEqual(done);
  });

  it('names nodes and host network when asked, and reads an unanswered probe as expired after 15 minutes', async () => {
    const { cluster } = await clusterWithTunnel();
    const credential = await registered(cluster);
    const created = await api('POST', `/v1/clusters/${cluster}/probes`, {
      body: { targets: [{ host: '10.43.0.1', port: 443 }], nodes: ['worker-1'], hostNetwork: true, timeoutMs: 500 },
    });
    const { id } = (await created.json()) as { id: string };
    expect((await desired(credential)).probes).toEqual([
      {
        id,
        targets: [{ host: '10.43.0.1', port: 443, tls: false, tlsVerify: true }],
        nodes: ['worker-1'],
        timeoutMs: 500,
        hostNetwork: true,
      },
    ]);
    await env.DB.prepare('UPDATE probes SET created_at = ? WHERE id = ?')
      .bind(new Date(Date.now() - 16 * 60_000).toISOString(), id)
      .run();
    expect(((await (await api('GET', `/v1/clusters/${cluster}/probes/${id}`)).json()) as { status: string }).status).toBe('expired');
    expect((await desired(credential)).probes).toEqual([]);
    await expectError(await api('GET', `/v1/clusters/${cluster}/probes/last`), 404, 'not_found');
  });
});

describe('POST /v1/clusters/{id}/probes (errors)', () => {
  it.each([
    [
      'an invalid host',
      { targets: [{ host: 'db..example.com', port: 5432 }] },
      'body.targets.0.host',
      'host "db..example.com" has an empty label',
    ],
    ['a URL as host', { targets: [{ host: 'https://db.example.com', port: 5432 }] }, 'body.targets.0.host', 'has a scheme'],
    ['a port out of range', { targets: [{ host: 'db.example.com', port: 70000 }] }, 'body.targets.0.port', 'port must be 1 to 65535'],
    [
      'too many targets',
      { targets: Array.from({ length: 21 }, (_, i) => ({ host: `db${i}.example.com`, port: 5432 })) },
      'body.targets',
      'at most 20 targets per probe',
    ],
    ['no targets', { targets: [] }, 'body.targets', 'give at least one target'],
    ['a bad node name', { targets: [{ host: 'db', port: 1 }], nodes: ['Worker_1'] }, 'body.nodes.0', 'DNS-1123 subdomain'],
    ['a timeout too long', { targets: [{ host: 'db', port: 1 }], timeoutMs: 60_000 }, 'body.timeoutMs', 'timeoutMs must be 200 to 10000'],
    ['an unknown field', { targets: [{ host: 'db', port: 1 }], interval: 5 }, 'body.interval', 'unknown field'],
  ])('refuses %s with a 422 naming the field, and writes nothing', async (_name, body, path, message) => {
    const { cluster } = await clusterWithTunnel();
    const revision = () => env.DB.prepare('SELECT desired_revision AS r FROM clusters WHERE id = ?').bind(cluster).first<{ r: number }>();
    const before = await revision();
    const probes = await count('probes');
    const audit = await count('audit');
    const error = await expectError(await api('POST', `/v1/clusters/${cluster}/probes`, { body }), 422, 'validation_failed');
    expect(error.error.details).toEqual([{ path, message: expect.stringContaining(message) }]);
    expect(await revision()).toEqual(before);
    expect(await count('probes')).toBe(probes);
    expect(await count('audit')).toBe(audit);
  });

  it('answers 404 for an unknown cluster or probe, and 409 past five pending probes', async () => {
    await expectError(await api('POST', '/v1/clusters/no-such-cluster/probes', { body: twoTargets }), 404, 'not_found');
    const { cluster } = await clusterWithTunnel();
    await expectError(await api('GET', `/v1/clusters/${cluster}/probes/prb_nope`), 404, 'not_found');
    for (let i = 0; i < 5; i++) expect((await api('POST', `/v1/clusters/${cluster}/probes`, { body: twoTargets })).status).toBe(201);
    const refused = await expectError(await api('POST', `/v1/clusters/${cluster}/probes`, { body: twoTargets }), 409, 'conflict');
    expect(refused.error.message).toContain('already has 5 probes waiting for its agent');
    expect(await count('probes', `cluster_id = '${cluster}'`)).toBe(5);
  });
});

describe('probes (security)', () => {
  it('needs a token, lets a viewer read but not probe, and keeps each cluster to its own probes', async () => {
    const { cluster } = await clusterWithTunnel();
    await expectError(await api('POST', `/v1/clusters/${cluster}/probes`, { role: null, body: twoTargets }), 401, 'unauthorized');
    await expectError(await api('POST', `/v1/clusters/${cluster}/probes`, { role: 'viewer', body: twoTargets }), 403, 'forbidden');
    await expectError(await api('GET', `/v1/clusters/${cluster}/probes`, { role: null }), 401, 'unauthorized');
    const { id } = (await (await api('POST', `/v1/clusters/${cluster}/probes`, { body: twoTargets })).json()) as { id: string };

    // Another cluster cannot read it through its own path, and its agent cannot complete it.
    const other = (await clusterWithTunnel()).cluster;
    await expectError(await api('GET', `/v1/clusters/${other}/probes/${id}`), 404, 'not_found');
    const otherAgent = await registered(other);
    expect((await desired(otherAgent)).probes).toEqual([]);
    expect((await report(otherAgent, await desired(otherAgent), nodeReports(id))).status).toBe(204);
    expect(((await (await api('GET', `/v1/clusters/${cluster}/probes/${id}`)).json()) as { status: string }).status).toBe('pending');
  });
});

describe('probe schedules', () => {
  it('runs due schedules from the cron and records what changed in the matrix since the previous run', async () => {
    const { cluster } = await clusterWithTunnel();
    const credential = await registered(cluster);
    await expectError(
      await api('POST', `/v1/clusters/${cluster}/probe-schedules`, { body: { ...twoTargets, everyMinutes: 1 } }),
      422,
      'validation_failed',
    );
    const created = await api('POST', `/v1/clusters/${cluster}/probe-schedules`, { body: { ...twoTargets, everyMinutes: 10 } });
    expect(created.status).toBe(201);
    const schedule = (await created.json()) as { id: string };

    const deps = serviceDeps();
    const ran = await runDueProbeSchedules(deps);
    const bundle = await desired(credential);
    expect(bundle.probes).toHaveLength(1);
    const firstId = bundle.probes[0]?.id ?? '';
    expect(ran).toContain(firstId);
    expect((await report(credential, bundle, nodeReports(firstId))).status).toBe(204);
    const firstRun = (await (await api('GET', `/v1/clusters/${cluster}/probes/${firstId}`)).json()) as {
      scheduleId: string;
      changes: unknown[];
    };
    expect(firstRun.scheduleId).toBe(schedule.id);
    expect(firstRun.changes).toHaveLength(6);

    // Not due again until 10 minutes later.
    await runDueProbeSchedules(deps);
    expect(await count('probes', `schedule_id = '${schedule.id}'`)).toBe(1);
    const later = { ...deps, now: () => new Date(Date.now() + 11 * 60_000) };
    const [secondId = ''] = await runDueProbeSchedules(later);
    const next = await desired(credential);
    expect(next.probes.map((p) => p.id)).toEqual([secondId]);
    expect((await report(credential, next, nodeReports(secondId, 'ok'))).status).toBe(204);
    const secondRun = (await (await api('GET', `/v1/clusters/${cluster}/probes/${secondId}`)).json()) as { changes: unknown[] };
    expect(secondRun.changes).toEqual([{ node: 'worker-2', host: 'db.example.com', port: 5432, before: 'refused', after: 'ok' }]);

    const listed = (await (await api('GET', `/v1/clusters/${cluster}/probe-schedules`, { role: 'viewer' })).json()) as {
      items: { id: string; lastProbeId: string }[];
    };
    expect(listed.items).toEqual([expect.objectContaining({ id: schedule.id, lastProbeId: secondId, everyMinutes: 10 })]);
    expect((await api('DELETE', `/v1/clusters/${cluster}/probe-schedules/${schedule.id}`)).status).toBe(204);
    await expectError(await api('DELETE', `/v1/clusters/${cluster}/probe-schedules/${schedule.id}`), 404, 'not_found');
    expect(await count('probes', `schedule_id = '${schedule.id}'`)).toBe(2);
  });
});
