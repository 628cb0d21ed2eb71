import { env, runInDurableObject, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { AgentDryRunRequest, AgentDryRunResult, ClusterDryRun } from '../../src/shared/api/cluster-dry-run';
import type { PlanReport } from '../../src/shared/api/plan';
import { encryptSecret, newSecret } from '../../worker/crypto';
import { UNREACHABLE_AFTER_MS } from '../../worker/db/mappers';
import type { ClusterNotifier } from '../../worker/durable/cluster-notifier';
import { BODY_LIMITS } from '../../worker/middleware/body-limit';
import { ACCOUNT, labelStudio } from './fixtures';
import { api, expectError, uid } from './helpers';
import { notifierOf } from './notifier-helpers';
import { verdictBase } from '../support/dry-run';

// The cluster-side pre-flight of POST /v1/plan through the Worker in workerd: the test plays the agent (its notify
// socket, GET /agent/v1/dry-runs, POST /agent/v1/dry-runs/{id}); the agent's own half runs against the fake apiserver
// in test/agent/agent-dry-run.test.ts and end to end in test/agent/dry-run-e2e.test.ts.

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
    headers: {
      authorization: `Bearer ${credential}`,
      ...(init.body ? { 'content-type': 'application/json' } : {}),
      ...(init.headers as Record<string, string> | undefined),
    },
  });

/** The agent's notify socket: collects `{dryRun}` messages. */
async function notifySocket(credential: string): Promise<{ next: () => Promise<string>; close: () => void }> {
  const response = await agent('/agent/v1/notify', credential, { headers: { upgrade: 'websocket' } });
  expect(response.status).toBe(101);
  const socket = response.webSocket;
  if (!socket) throw new Error('no WebSocket in the 101 response');
  const ids: string[] = [];
  const waiters: (() => void)[] = [];
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { dryRun?: string };
    if (message.dryRun) ids.push(message.dryRun);
    waiters.splice(0).forEach((w) => w());
  });
  socket.accept();
  let taken = 0;
  return {
    next: async () => {
      const deadline = Date.now() + 5000;
      while (ids.length <= taken && Date.now() < deadline) await new Promise<void>((r) => waiters.push(r));
      const id = ids[taken++];
      if (!id) throw new Error('no dryRun notification within 5 s');
      return id;
    },
    close: () => socket.close(1000, 'done'),
  };
}

/** A cluster and a tunnel in `ingress` mode, so a route compiles to an Ingress in the cluster. */
async function clusterWithTunnel(): Promise<{ cluster: string; tunnel: string }> {
  const cluster = uid('c');
  const tunnel = uid('t');
  expect((await api('POST', '/v1/clusters', { body: { id: cluster, name: cluster } })).status).toBe(201);
  expect((await api('POST', '/v1/tunnels', { body: { id: tunnel, cluster, account: ACCOUNT, mode: { type: 'ingress' } } })).status).toBe(
    201,
  );
  return { cluster, tunnel };
}

const plan = (body: unknown) => api('POST', '/v1/plan', { body, role: 'viewer' });

async function planned(body: unknown): Promise<PlanReport> {
  const response = await plan(body);
  expect(response.status).toBe(200);
  return (await response.json()) as PlanReport;
}

const routeChange = (tunnel: string, hostname = `${uid('h')}.example.com`) => ({
  action: 'route.create',
  route: { tunnel, hostname, origin: labelStudio, dns: false },
});

/** What an agent posts: one verdict per object, with a conflict and an invalid object among them. */
function verdicts(request: AgentDryRunRequest): AgentDryRunResult {
  return {
    kubernetesVersion: 'v1.31.4+k3s1',
    objects: request.objects.map((o, i) => {
      const base = verdictBase(o);
      if (o.kind === 'Ingress')
        return {
          ...base,
          outcome: 'conflict' as const,
          conflicts: [{ field: '.spec.ingressClassName', manager: 'helm' }],
          message: 'Apply failed with 1 conflict: conflict with "helm": .spec.ingressClassName',
        };
      if (o.kind === 'Deployment')
        return { ...base, outcome: 'invalid' as const, message: 'Deployment.apps "x" is invalid: spec.replicas: Invalid value' };
      return i === 0
        ? { ...base, outcome: 'changed' as const, fields: ['.metadata.labels.team'] }
        : { ...base, outcome: 'unchanged' as const };
    }),
  };
}

const pendingInNotifier = (cluster: string) =>
  runInDurableObject(notifierOf(cluster), (instance: ClusterNotifier) => instance.pendingDryRuns(Date.now()));

describe('POST /v1/plan with cluster.dryRun', () => {
  it('says no agent is registered instead of guessing, and asks nobody', async () => {
    const { cluster, tunnel } = await clusterWithTunnel();
    const report = await planned({ changes: [routeChange(tunnel)], cluster: { dryRun: true } });
    const dryRun = report.clusters.find((c) => c.id === cluster)?.dryRun;
    expect(dryRun).toMatchObject({ id: null, cluster, status: 'no_agent', url: null, summary: null, objects: [] });
    expect(dryRun?.message).toContain(`no agent has registered for cluster "${cluster}"`);
    expect(await pendingInNotifier(cluster)).toEqual([]);
    // Without the option the plan carries no dry run at all.
    const plain = await planned({ changes: [routeChange(tunnel)] });
    expect(plain.clusters.find((c) => c.id === cluster)?.dryRun).toBeUndefined();
  });

  it('says the agent is unreachable when it has not been seen recently', async () => {
    const { cluster, tunnel } = await clusterWithTunnel();
    await registered(cluster);
    const stale = new Date(Date.now() - UNREACHABLE_AFTER_MS - 60_000).toISOString();
    await env.DB.prepare('UPDATE clusters SET last_seen_at = ? WHERE id = ?').bind(stale, cluster).run();
    const report = await planned({ changes: [routeChange(tunnel)], cluster: { dryRun: true } });
    const dryRun = report.clusters.find((c) => c.id === cluster)?.dryRun;
    expect(dryRun?.status).toBe('no_agent');
    expect(dryRun?.message).toContain(`the agent of cluster "${cluster}" is unreachable (last seen ${stale})`);
  });

  it('says so when the agent is seen but has no notify socket open', async () => {
    const { cluster, tunnel } = await clusterWithTunnel();
    await registered(cluster);
    const report = await planned({ changes: [routeChange(tunnel)], cluster: { dryRun: true } });
    const dryRun = report.clusters.find((c) => c.id === cluster)?.dryRun;
    expect(dryRun?.status).toBe('no_agent');
    expect(dryRun?.message).toContain('has no notify channel open');
    expect(await pendingInNotifier(cluster)).toEqual([]);
  });

  it('says a cluster the plan creates can have no agent yet', async () => {
    const cluster = uid('c');
    const report = await planned({
      changes: [
        { action: 'cluster.create', cluster: { id: cluster, name: cluster } },
        { action: 'tunnel.create', tunnel: { id: uid('t'), cluster, account: '0123456789abcdef0123456789abcdef' } },
      ],
      cluster: { dryRun: true },
    });
    const dryRun = report.clusters.find((c) => c.id === cluster)?.dryRun;
    expect(dryRun?.status).toBe('no_agent');
    expect(dryRun?.message).toContain('the plan creates cluster');
  });

  it("hands the agent the plan's exact bundle and answers its verdicts per object", async () => {
    const { cluster, tunnel } = await clusterWithTunnel();
    const credential = await registered(cluster);
    // The tunnel's connector token, as the Cloudflare sync stores it: the real bundle carries it, so the dry run's must.
    const connectorToken = `eyJ${uid('token')}`;
    const key = (env as unknown as { EDGEPLANE_ENCRYPTION_KEY: string }).EDGEPLANE_ENCRYPTION_KEY;
    await env.DB.prepare('UPDATE tunnels SET token_ciphertext = ? WHERE id = ?')
      .bind(await encryptSecret(key, connectorToken), tunnel)
      .run();
    const socket = await notifySocket(credential);
    const hostname = `${uid('h')}.example.com`;
    const change = routeChange(tunnel, hostname);
    const answer = plan({ changes: [change], cluster: { dryRun: true, waitSeconds: 10 } });
    const id = await socket.next();
    const fetched = await agent('/agent/v1/dry-runs', credential);
    expect(fetched.status).toBe(200);
    const { items } = (await fetched.json()) as { items: AgentDryRunRequest[] };
    expect(items.map((i) => i.id)).toEqual([id]);
    const request = items[0];
    if (!request) throw new Error('no dry run');
    expect(request.objects.some((o) => o.kind === 'Ingress' && JSON.stringify(o).includes(hostname))).toBe(true);
    const tokenB64 = btoa(connectorToken);
    expect(request.objects.some((o) => o.kind === 'Secret' && JSON.stringify(o).includes(tokenB64))).toBe(true);
    // Only the agent's fetch sees it: the notifier keeps the bundle encrypted, and the plan's answer never carries it.
    const stored = await pendingInNotifier(cluster);
    expect(stored.map((r) => r.id)).toEqual([id]);
    expect(stored[0]?.payload).not.toContain(tokenB64);
    const result = verdicts(request);
    const posted = await agent(`/agent/v1/dry-runs/${id}`, credential, { method: 'POST', body: JSON.stringify(result) });
    expect(posted.status).toBe(204);

    const response = await answer;
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain(tokenB64);
    const report = JSON.parse(text) as PlanReport;
    const dryRun = report.clusters.find((c) => c.id === cluster)?.dryRun;
    expect(dryRun).toMatchObject({
      id,
      cluster,
      status: 'completed',
      url: `/v1/clusters/${cluster}/dry-runs/${id}`,
      kubernetesVersion: 'v1.31.4+k3s1',
    });
    expect(dryRun?.objects).toEqual(result.objects);
    expect(dryRun?.summary).toEqual({
      created: 0,
      changed: 1,
      unchanged: result.objects.filter((o) => o.outcome === 'unchanged').length,
      conflict: 1,
      invalid: 1,
      unchecked: 0,
      error: 0,
    });
    // Read later through its URL; answered once only.
    const later = await api('GET', dryRun?.url ?? '', { role: 'viewer' });
    expect(((await later.json()) as ClusterDryRun).objects).toEqual(result.objects);
    await expectError(
      await agent(`/agent/v1/dry-runs/${id}`, credential, { method: 'POST', body: JSON.stringify(result) }),
      404,
      'not_found',
    );
    expect(((await (await agent('/agent/v1/dry-runs', credential)).json()) as { items: unknown[] }).items).toEqual([]);

    // The dry run's bundle is the one the agent gets once the same change is committed.
    expect((await api('POST', '/v1/routes', { body: change.route })).status).toBe(201);
    const desired = (await (await agent('/agent/v1/desired', credential)).json()) as { objects: unknown[] };
    expect(request.objects).toEqual(desired.objects);
    socket.close();
  });

  it('answers pending with a URL when the agent is slower than the wait, and completes later', async () => {
    const { cluster, tunnel } = await clusterWithTunnel();
    const credential = await registered(cluster);
    const socket = await notifySocket(credential);
    const report = await planned({ changes: [routeChange(tunnel)], cluster: { dryRun: true, waitSeconds: 0 } });
    const dryRun = report.clusters.find((c) => c.id === cluster)?.dryRun;
    expect(dryRun?.status).toBe('pending');
    expect(dryRun?.message).toContain(`GET /v1/clusters/${cluster}/dry-runs/`);
    const id = await socket.next();
    expect(dryRun?.id).toBe(id);
    // The stored bundle holds the cluster's secrets: the notifier keeps it only encrypted.
    const stored = await runInDurableObject(notifierOf(cluster), (instance: ClusterNotifier) => instance.pendingDryRuns(Date.now()));
    expect(stored[0]?.payload).toMatch(/^[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+$/);
    expect(stored[0]?.payload).not.toContain('"kind"');
    const { items } = (await (await agent('/agent/v1/dry-runs', credential)).json()) as { items: AgentDryRunRequest[] };
    const request = items[0];
    if (!request) throw new Error('no dry run');
    expect((await agent(`/agent/v1/dry-runs/${id}`, credential, { method: 'POST', body: JSON.stringify(verdicts(request)) })).status).toBe(
      204,
    );
    const later = (await (await api('GET', `/v1/clusters/${cluster}/dry-runs/${id}`, { role: 'viewer' })).json()) as ClusterDryRun;
    expect(later.status).toBe('completed');
    expect(later.summary?.conflict).toBe(1);
    socket.close();
  });

  it("keeps one cluster's dry runs from another cluster's agent", async () => {
    const a = await clusterWithTunnel();
    const b = await clusterWithTunnel();
    const credentialA = await registered(a.cluster);
    const credentialB = await registered(b.cluster);
    const socket = await notifySocket(credentialA);
    const report = await planned({ changes: [routeChange(a.tunnel)], cluster: { dryRun: true, waitSeconds: 0 } });
    const id = report.clusters.find((c) => c.id === a.cluster)?.dryRun?.id ?? '';
    expect(id).toMatch(/^dry_/);
    expect(((await (await agent('/agent/v1/dry-runs', credentialB)).json()) as { items: unknown[] }).items).toEqual([]);
    const body = JSON.stringify({ objects: [] });
    await expectError(await agent(`/agent/v1/dry-runs/${id}`, credentialB, { method: 'POST', body }), 404, 'not_found');
    await expectError(await agent(`/agent/v1/dry-runs/${id}`, 'epa.nobody.x', { method: 'POST', body }), 401, 'unauthorized');
    await expectError(await agent('/agent/v1/dry-runs', ''), 401, 'unauthorized');
    const bad = await expectError(
      await agent(`/agent/v1/dry-runs/${id}`, credentialA, {
        method: 'POST',
        body: JSON.stringify({ objects: [{ key: 'x', outcome: 'fine' }] }),
      }),
      422,
      'validation_failed',
    );
    expect(bad.error.details?.map((d) => d.path)).toContain('body.objects.0.outcome');
    // Still pending for its own agent after the refusals.
    expect(((await (await agent('/agent/v1/dry-runs', credentialA)).json()) as { items: { id: string }[] }).items.map((i) => i.id)).toEqual(
      [id],
    );
    await expectError(await api('GET', `/v1/clusters/${a.cluster}/dry-runs/dry_unknown`, { role: 'viewer' }), 404, 'not_found');
    socket.close();
  });

  it('refuses a bad cluster option with a 422 naming the field', async () => {
    const { tunnel } = await clusterWithTunnel();
    const tooLong = await expectError(
      await plan({ changes: [routeChange(tunnel)], cluster: { dryRun: true, waitSeconds: 60 } }),
      422,
      'validation_failed',
    );
    expect(tooLong.error.details?.map((d) => d.path)).toEqual(['body.cluster.waitSeconds']);
    const unknown = await expectError(await plan({ changes: [], cluster: { dryRun: true, namespace: 'x' } }), 422, 'validation_failed');
    expect(unknown.error.details?.[0]?.path).toContain('body.cluster');
  });

  it('describes the pre-flight in the OpenAPI document', async () => {
    const doc = (await (await SELF.fetch('https://edgeplane.test/openapi.json')).json()) as {
      paths: Record<string, Record<string, { security?: unknown; requestBody?: unknown; responses: Record<string, unknown> }>>;
    };
    expect(JSON.stringify(doc.paths['/v1/plan']?.post?.requestBody)).toContain('waitSeconds');
    expect(JSON.stringify(doc.paths['/v1/plan']?.post?.responses['200'])).toContain('no_agent');
    expect(Object.keys(doc.paths['/v1/clusters/{id}/dry-runs/{dryRunId}']?.get?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '404']),
    );
    expect(doc.paths['/agent/v1/dry-runs']?.get?.security).toEqual([{ agentCredential: [] }]);
    expect(JSON.stringify(doc.paths['/agent/v1/dry-runs/{id}']?.post?.requestBody)).toContain('unchecked');
  });

  it('checks the credential before the result body, then bounds it at the status report limit', async () => {
    const { cluster } = await clusterWithTunnel();
    const credential = await registered(cluster);
    const junk = (bytes: number) => 'x'.repeat(bytes);
    await expectError(
      await agent('/agent/v1/dry-runs/dry_x', 'epa.nobody.x', { method: 'POST', body: junk(BODY_LIMITS.agentStatus + 1) }),
      401,
      'unauthorized',
    );
    const over = await expectError(
      await agent('/agent/v1/dry-runs/dry_x', credential, { method: 'POST', body: junk(BODY_LIMITS.agentStatus + 1) }),
      413,
      'payload_too_large',
    );
    expect(over.error.message).toContain(String(BODY_LIMITS.agentStatus));
    await expectError(
      await agent('/agent/v1/dry-runs/dry_x', credential, { method: 'POST', body: junk(BODY_LIMITS.agentStatus) }),
      400,
      'bad_request',
    );
  });
});
