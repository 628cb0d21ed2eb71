import { describe, expect, it } from 'vitest';
import { ACCOUNT } from './fixtures';
import { api, storeSnapshot, uid } from './helpers';

// POST /v1/plan with workloads, inference and ML backends: what the plan reports for them (the verdicts themselves
// are held to the endpoints by plan-parity.test.ts), that it writes nothing, and that no secret value is in its answer.

interface Report {
  accepted: number;
  refused: number;
  results: { action: string; status: number; error?: { code: string; message: string } }[];
  tunnels: { id: string; status: string; diff: { rules: { change: string; hostname: string | null }[] } }[];
  clusters: { id: string; diff: { created: { kind: string; name: string }[]; deleted: { kind: string; name: string }[] } }[];
}

async function plan(changes: unknown[]): Promise<{ report: Report; text: string }> {
  const response = await api('POST', '/v1/plan', { role: 'viewer', body: { changes } });
  expect(response.status).toBe(200);
  const text = await response.text();
  return { report: JSON.parse(text) as Report, text };
}

describe('POST /v1/plan with workloads and backends', () => {
  it("reports a new workload's objects and route, and the backends, without writing or revealing a secret", async () => {
    const run = uid('pw');
    expect((await api('POST', '/v1/clusters', { body: { id: `${run}-c`, name: run } })).status).toBe(201);
    expect((await api('POST', '/v1/tunnels', { body: { id: `${run}-t`, cluster: `${run}-c`, account: ACCOUNT } })).status).toBe(201);
    const before = await storeSnapshot();
    const { report, text } = await plan([
      {
        action: 'workload.create',
        workload: {
          id: `${run}-web`,
          cluster: `${run}-c`,
          namespace: 'apps',
          image: 'nginx:1.27',
          ports: [80],
          env: { DB_PASSWORD: { secret: 'plan-secret-value-1' } },
          route: { tunnel: `${run}-t`, hostname: `web.${run}.example.com` },
        },
      },
      {
        action: 'inferenceBackend.create',
        inferenceBackend: {
          id: `${run}-gpu`,
          upstreams: [{ url: 'https://gpu.example.com' }],
          credentials: { type: 'bearer', token: 'plan-secret-value-2' },
        },
      },
      {
        action: 'mlBackend.create',
        mlBackend: {
          id: `${run}-ml`,
          backend: `${run}-gpu`,
          model: 'm',
          task: 'text-classification',
          input: { field: 'text', tensor: 'T' },
          output: { tensor: 'O' },
        },
      },
      // Refused in the plan as by the endpoint: the ML backend planned above uses it.
      { action: 'inferenceBackend.delete', id: `${run}-gpu` },
    ]);
    expect(report.results.map((r) => [r.action, r.status])).toEqual([
      ['workload.create', 201],
      ['inferenceBackend.create', 201],
      ['mlBackend.create', 201],
      ['inferenceBackend.delete', 409],
    ]);
    expect(report.tunnels.map((t) => [t.id, t.status])).toEqual([[`${run}-t`, 'changed']]);
    expect(report.tunnels[0]?.diff.rules.map((r) => [r.change, r.hostname])).toEqual([['added', `web.${run}.example.com`]]);
    const created = report.clusters.find((c) => c.id === `${run}-c`)?.diff.created ?? [];
    expect(created.filter((o) => o.name === `${run}-web`).map((o) => o.kind)).toEqual(expect.arrayContaining(['Deployment', 'Service']));
    expect(text).not.toContain('plan-secret-value');
    expect(await storeSnapshot()).toEqual(before);
  });

  it('sees workloads deleted earlier in the same plan: the cluster can then go', async () => {
    const run = uid('pw');
    expect((await api('POST', '/v1/clusters', { body: { id: `${run}-c`, name: run } })).status).toBe(201);
    const body = { id: `${run}-w`, cluster: `${run}-c`, namespace: 'apps', image: 'redis:7' };
    expect((await api('POST', '/v1/workloads', { body })).status).toBe(201);
    const refused = await plan([{ action: 'cluster.delete', id: `${run}-c` }]);
    expect(refused.report.results[0]?.status).toBe(409);
    const { report } = await plan([
      { action: 'workload.delete', id: `${run}-w` },
      { action: 'cluster.delete', id: `${run}-c` },
    ]);
    expect(report.results.map((r) => r.status)).toEqual([204, 204]);
    // A planned workload counts too: a cluster that gains one in the plan cannot be deleted later in it.
    const gained = await plan([
      { action: 'workload.delete', id: `${run}-w` },
      { action: 'workload.create', workload: { ...body, id: `${run}-w2` } },
      { action: 'cluster.delete', id: `${run}-c` },
    ]);
    expect(gained.report.results.map((r) => r.status)).toEqual([204, 201, 409]);
    const objects = gained.report.clusters[0]?.diff;
    expect(new Set(objects?.deleted.map((o) => o.name))).toEqual(new Set([`${run}-w`]));
    expect(objects?.created.map((o) => o.name)).toContain(`${run}-w2`);
  });
});
