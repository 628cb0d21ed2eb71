import { env, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { AgentRegister } from '../../src/shared/api/agent';
import { newSecret } from '../../worker/crypto';
import { LAST_SEEN_GRANULARITY_MS } from '../../worker/services/agent-auth';
import { findBootstrapToken, registerAgent } from '../../worker/services/agent-registration';
import { UNREACHABLE_AFTER_MS } from '../../worker/db/mappers';
import { clusterWithTunnel, labelStudio } from './fixtures';
import { api, count, expectError, serviceDeps, uid } from './helpers';
import { forgetNotifierCopy } from './notifier-helpers';

interface Doc {
  kind: string;
  metadata: { name: string };
  stringData?: { token?: string };
  rules?: unknown[];
}

/** Fetches an install manifest as admin and returns its objects and bootstrap token. */
async function install(cluster: string): Promise<{ docs: Doc[]; token: string }> {
  const response = await api('GET', `/v1/clusters/${cluster}/install.yaml`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('application/yaml');
  const docs = parseAllDocuments(await response.text()).map((d) => d.toJSON() as Doc);
  const token = docs.find((d) => d.kind === 'Secret')?.stringData?.token ?? '';
  expect(token).toMatch(/^epb_/);
  return { docs, token };
}

/** A credential as the agent makes it: `epa.<cluster>.<32 random bytes, base64url>` (newSecret's random part). */
const newCredential = (clusterId: string) => `epa.${clusterId}.${newSecret('k').slice(2)}`;

const facts = (clusterId: string, identity = 'uid-kube-system-1', credential = newCredential(clusterId)) => ({
  clusterId,
  credential,
  identity,
  kubernetesVersion: 'v1.31.4+k3s1',
  nodeCount: 4,
  agentVersion: '0.1.0',
});

async function register(token: string, body: unknown): Promise<Response> {
  return SELF.fetch('https://edgeplane.test/agent/v1/register', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function registered(cluster: string, identity?: string): Promise<string> {
  const { token } = await install(cluster);
  const body = facts(cluster, identity);
  const response = await register(token, body);
  expect(response.status).toBe(201);
  expect(await response.json()).toEqual({ clusterId: cluster });
  return body.credential;
}

const agent = (path: string, credential: string, init: RequestInit = {}) =>
  SELF.fetch(`https://edgeplane.test${path}`, {
    ...init,
    headers: { authorization: `Bearer ${credential}`, ...(init.headers as Record<string, string> | undefined) },
  });

/** An admin's re-registration request naming the cluster's current credential, then a new agent registering. */
async function reregistered(cluster: string, identity?: string): Promise<string> {
  const view = (await (await api('GET', `/v1/clusters/${cluster}`)).json()) as { agentCredential: string };
  const requested = await api('POST', `/v1/clusters/${cluster}/reregistration`, { body: { replacesCredential: view.agentCredential } });
  expect(requested.status).toBe(201);
  return registered(cluster, identity);
}

let witness: Promise<{ cluster: string; credential: string }> | undefined;

/**
 * Returns once the deferred (waitUntil) D1 work of every request answered before it has landed: a poll by another
 * cluster whose last seen is stale defers a write too, issued after theirs, and the local D1 runs writes in order.
 * Lets a test show that a request wrote nothing.
 */
async function deferredWritesLanded(): Promise<void> {
  witness ??= clusterWithTunnel().then(async ({ cluster }) => ({ cluster, credential: await registered(cluster) }));
  const { cluster, credential } = await witness;
  const stale = new Date(Date.now() - UNREACHABLE_AFTER_MS / 2).toISOString();
  await env.DB.prepare('UPDATE clusters SET last_seen_at = ? WHERE id = ?').bind(stale, cluster).run();
  expect((await agent('/agent/v1/desired', credential)).status).toBe(200);
  const seen = () => env.DB.prepare('SELECT last_seen_at AS at FROM clusters WHERE id = ?').bind(cluster).first<{ at: string }>();
  const deadline = Date.now() + 5000;
  while ((await seen())?.at === stale) if (Date.now() > deadline) throw new Error('the witness poll wrote nothing within 5 s');
}

describe('install manifest', () => {
  it('is admin only and holds namespace, service account, RBAC, a bootstrap Secret and the Deployment', async () => {
    const { cluster } = await clusterWithTunnel();
    await expectError(await api('GET', `/v1/clusters/${cluster}/install.yaml`, { role: 'editor' }), 403, 'forbidden');
    await expectError(await api('GET', `/v1/clusters/${cluster}/install.yaml`, { role: null }), 401, 'unauthorized');
    await expectError(await api('GET', `/v1/clusters/no-such-cluster/install.yaml`), 404, 'not_found');
    const { docs } = await install(cluster);
    expect(docs.map((d) => d.kind)).toEqual([
      'Namespace',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'Role',
      'RoleBinding',
      'Secret',
      'ConfigMap',
      'Deployment',
    ]);
    expect(JSON.stringify(docs.find((d) => d.kind === 'ClusterRole')?.rules)).not.toContain('"*"');
    const row = await env.DB.prepare('SELECT expires_at, created_at, used_at FROM bootstrap_tokens WHERE cluster_id = ?')
      .bind(cluster)
      .first<{ expires_at: string; created_at: string; used_at: string | null }>();
    expect(row?.used_at).toBeNull();
    expect(Date.parse(row?.expires_at ?? '') - Date.parse(row?.created_at ?? '')).toBe(24 * 3_600_000);
  });
});

describe('agent registration', () => {
  it('exchanges a bootstrap token once for a credential and records the cluster facts', async () => {
    const { cluster } = await clusterWithTunnel();
    const { token } = await install(cluster);
    const sent = facts(cluster);
    const first = await register(token, sent);
    expect(first.status).toBe(201);
    const { credential } = sent;
    expect(JSON.stringify(await first.json())).not.toContain(credential);
    const stored = await env.DB.prepare('SELECT agent_credential_hash, identity FROM clusters WHERE id = ?')
      .bind(cluster)
      .first<{ agent_credential_hash: string; identity: string }>();
    expect(stored?.identity).toBe('uid-kube-system-1');
    expect(stored?.agent_credential_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored?.agent_credential_hash).not.toContain(credential);

    const view = (await (await api('GET', `/v1/clusters/${cluster}`)).json()) as Record<string, unknown>;
    expect(view).toMatchObject({ connection: 'connected', kubernetesVersion: 'v1.31.4+k3s1', nodeCount: 4, agentVersion: '0.1.0' });
    expect(JSON.stringify(view)).not.toContain(stored?.agent_credential_hash ?? 'x');

    const reused = await expectError(await register(token, facts(cluster)), 401, 'unauthorized');
    expect(reused.error.message).toContain('already used');
    expect((await agent('/agent/v1/desired', credential)).status).toBe(200);
  });

  it('answers the same registration sent again (its answer was lost) with 200, and no one else', async () => {
    const { cluster } = await clusterWithTunnel();
    const { token } = await install(cluster);
    const sent = facts(cluster);
    expect((await register(token, sent)).status).toBe(201);
    const audits = () => count('audit', `action = 'agent.register' AND entity_id = '${cluster}'`);
    const before = await audits();
    const again = await register(token, sent);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ clusterId: cluster });
    expect(await audits()).toEqual(before);
    // The token is still spent for any other credential, and for the same credential from another cluster.
    expect((await expectError(await register(token, facts(cluster)), 401, 'unauthorized')).error.message).toContain('already used');
    await expectError(await register(token, { ...sent, identity: 'uid-elsewhere' }), 401, 'unauthorized');
    expect((await agent('/agent/v1/desired', sent.credential)).status).toBe(200);
  });

  it('answers a copy of a registration that commits first, between its read and its commit, as the same registration', async () => {
    // One isolate runs these requests one after the other, so the race is staged: the registration under test reads the
    // token unused, then (inside its D1 batch call) a competing registration commits before its own batch runs.
    const race = async (competing: AgentRegister, own: AgentRegister) => {
      const { token } = await install(own.clusterId);
      const plain = serviceDeps({ id: 'agent', role: 'viewer' });
      const staged = serviceDeps({ id: 'agent', role: 'viewer' });
      const row = await findBootstrapToken(plain, token);
      let first: Promise<unknown> | undefined;
      staged.db = new Proxy(staged.db, {
        get(target, key, receiver) {
          if (key !== 'batch') return Reflect.get(target, key, receiver) as unknown;
          return async (...args: Parameters<typeof target.batch>) => {
            first ??= registerAgent(plain, row, competing);
            await first;
            return target.batch(...args);
          };
        },
      });
      const outcome = registerAgent(staged, row, own);
      return { outcome: await outcome.catch((error: unknown) => error), first: await first };
    };
    const { cluster } = await clusterWithTunnel();
    const sent = { ...facts(cluster), credential: newCredential(cluster) };
    // The same registration twice (an agent restarted while its first request was in flight): both done, one of them new.
    const same = await race(sent, sent);
    expect(same.first).toMatchObject({ replayed: false });
    expect(same.outcome).toMatchObject({ clusterId: cluster, replayed: true });
    expect((await agent('/agent/v1/desired', sent.credential)).status).toBe(200);
    // Another credential committing first wins; the one under test is refused.
    const fresh = (await clusterWithTunnel()).cluster;
    const other = { ...facts(fresh), credential: newCredential(fresh) };
    const rival = await race(other, { ...facts(fresh), credential: newCredential(fresh) });
    expect(rival.first).toMatchObject({ replayed: false });
    expect(rival.outcome).toMatchObject({ code: 'unauthorized', message: expect.stringContaining('a moment ago') as string });
    expect((await agent('/agent/v1/desired', other.credential)).status).toBe(200);
  });

  it('refuses a credential that is malformed or names another cluster, and spends nothing', async () => {
    const { cluster } = await clusterWithTunnel();
    const { token } = await install(cluster);
    const weak = await expectError(await register(token, facts(cluster, undefined, `epa.${cluster}.short`)), 422, 'validation_failed');
    expect(weak.error.details?.[0]?.path).toBe('body.credential');
    const other = await expectError(await register(token, facts(cluster, undefined, newCredential('other'))), 422, 'validation_failed');
    expect(other.error.message).toContain('names another cluster');
    expect(other.error.details?.[0]).toEqual({ path: 'body.credential', message: `must start with "epa.${cluster}."` });
    expect((await register(token, facts(cluster))).status).toBe(201);
  });

  it('refuses a token of another cluster and an unknown token, without burning the token', async () => {
    const { cluster } = await clusterWithTunnel();
    const { token } = await install(cluster);
    const other = (await clusterWithTunnel()).cluster;
    await expectError(await register(token, facts(other, 'uid-a')), 403, 'forbidden');
    await expectError(await register('epb_not-a-token', facts(cluster, 'uid-a')), 401, 'unauthorized');
    expect((await register(token, facts(cluster, 'uid-a'))).status).toBe(201);
  });

  it('refuses an expired bootstrap token', async () => {
    const { cluster } = await clusterWithTunnel();
    const { token } = await install(cluster);
    await env.DB.prepare("UPDATE bootstrap_tokens SET expires_at = '2000-01-01T00:00:00.000Z' WHERE cluster_id = ?").bind(cluster).run();
    const expired = await expectError(await register(token, facts(cluster)), 401, 'unauthorized');
    expect(expired.error.message).toContain('expired');
  });
});

describe('desired bundle and status', () => {
  it('answers the bundle with an ETag, 304 while unchanged, and the new revision after a write', async () => {
    const { cluster, tunnel } = await clusterWithTunnel();
    const credential = await registered(cluster);
    const first = await agent('/agent/v1/desired', credential);
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag') ?? '';
    const bundle = (await first.json()) as {
      revision: number;
      hash: string;
      objects: { kind: string }[];
      prune: unknown;
    };
    expect(bundle.objects.map((o) => o.kind)).toContain('Deployment');
    expect(bundle.prune).toEqual({ maxDeletes: 25, windowSeconds: 600, allowEmpty: false, approval: null });

    const same = await agent('/agent/v1/desired', credential, { headers: { 'if-none-match': etag } });
    expect(same.status).toBe(304);

    const route = await api('POST', '/v1/routes', { body: { tunnel, hostname: `${uid('ls')}.example.com`, origin: labelStudio } });
    expect(route.status).toBe(201);
    const changed = await agent('/agent/v1/desired', credential, { headers: { 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    const next = (await changed.json()) as { revision: number; origins: { name: string; port: number }[] };
    expect(next.revision).toBeGreaterThan(bundle.revision);
    expect(next.origins).toEqual([expect.objectContaining({ namespace: 'apps', name: 'label-studio-ls-app', port: 8085 })]);
  });

  it('records a status report: apply_reports, applied revision, health', async () => {
    const { cluster } = await clusterWithTunnel();
    const credential = await registered(cluster);
    const bundle = (await (await agent('/agent/v1/desired', credential)).json()) as { revision: number; hash: string };
    const report = {
      revision: bundle.revision,
      hash: bundle.hash,
      applied: true,
      durationMs: 12,
      results: [{ apiVersion: 'v1', kind: 'Namespace', name: 'edgeplane-tunnels', action: 'created' }],
      conflicts: [],
      pruned: [],
      health: { status: 'Current', objects: [], connectors: { desired: 2, ready: 2 }, origins: [] },
      agentVersion: '0.1.0',
    };
    const posted = await agent('/agent/v1/status', credential, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(report),
    });
    expect(posted.status).toBe(204);
    const view = (await (await api('GET', `/v1/clusters/${cluster}`)).json()) as { appliedRevision: number; connection: string };
    expect(view).toMatchObject({ appliedRevision: bundle.revision, connection: 'connected' });
    const stored = await env.DB.prepare('SELECT revision, applied, results FROM apply_reports WHERE cluster_id = ?')
      .bind(cluster)
      .all<{ revision: number; applied: number; results: string }>();
    expect(stored.results).toHaveLength(1);
    expect(JSON.parse(stored.results[0]?.results ?? '[]')).toEqual(report.results);
    const listed = (await (await api('GET', `/v1/clusters/${cluster}/reports`, { role: 'viewer' })).json()) as {
      items: { revision: number; results: unknown[] }[];
    };
    expect(listed.items).toEqual([expect.objectContaining({ revision: bundle.revision, results: report.results })]);

    const ahead = await agent('/agent/v1/status', credential, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...report, revision: bundle.revision + 5 }),
    });
    await expectError(ahead, 422, 'validation_failed');
    const malformed = await agent('/agent/v1/status', credential, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ revision: 'x' }),
    });
    await expectError(malformed, 422, 'validation_failed');
  });

  it('confines a credential to its own cluster', async () => {
    const a = (await clusterWithTunnel()).cluster;
    const b = (await clusterWithTunnel()).cluster;
    const credentialA = await registered(a, 'uid-a');
    await registered(b, 'uid-b');
    const body = (await (await agent('/agent/v1/desired', credentialA)).json()) as { clusterId: string };
    expect(body.clusterId).toBe(a);
    // A's secret presented under B's name is not B's credential.
    const secretA = credentialA.split('.')[2] ?? '';
    await expectError(await agent('/agent/v1/desired', `epa.${b}.${secretA}`), 401, 'unauthorized');
    await expectError(await agent('/agent/v1/desired', 'not-a-credential'), 401, 'unauthorized');
    await expectError(await SELF.fetch('https://edgeplane.test/agent/v1/desired'), 401, 'unauthorized');
    // An API token is not an agent credential, and an agent credential does not open /v1.
    await expectError(await agent('/agent/v1/desired', 'test-admin-token-0123456789'), 401, 'unauthorized');
    await expectError(await api('GET', `/v1/clusters/${a}`, { token: credentialA }), 401, 'unauthorized');
  });

  it('shows the connection as unreachable after three missed resyncs, and unauthorized after a stale credential once silent', async () => {
    const { cluster } = await clusterWithTunnel();
    const credential = await registered(cluster);
    const connection = async () => ((await (await api('GET', `/v1/clusters/${cluster}`)).json()) as { connection: string }).connection;
    expect(await connection()).toBe('connected');
    await env.DB.prepare('UPDATE clusters SET last_seen_at = ? WHERE id = ?')
      .bind(new Date(Date.now() - 7 * 60_000).toISOString(), cluster)
      .run();
    expect(await connection()).toBe('unreachable');
    // last_seen_at and the unauthorized mark are written after the response (waitUntil): wait for them, with a deadline.
    const becomes = async (want: string) => {
      const deadline = Date.now() + 5000;
      let seen = await connection();
      while (seen !== want && Date.now() < deadline) seen = await connection();
      return seen;
    };
    expect((await agent('/agent/v1/desired', credential)).status).toBe(200);
    expect(await becomes('connected')).toBe('connected');
    // While the real agent is heard from, a wrong secret (anyone who knows the cluster id can send one) changes nothing.
    await expectError(await agent('/agent/v1/desired', `${credential}x`), 401, 'unauthorized');
    await deferredWritesLanded();
    expect(await connection()).toBe('connected');
    // Nor once the agent has been silent: a credential never valid for this cluster says nothing about it.
    const silent = () =>
      env.DB.prepare('UPDATE clusters SET last_seen_at = ? WHERE id = ?')
        .bind(new Date(Date.now() - 7 * 60_000).toISOString(), cluster)
        .run();
    await silent();
    await expectError(await agent('/agent/v1/desired', `epa.${cluster}.${newSecret('k').slice(2)}`), 401, 'unauthorized');
    await deferredWritesLanded();
    expect(await connection()).toBe('unreachable');
    // The credential a re-registration replaced, once its successor is silent, is an agent left behind: unauthorized.
    await reregistered(cluster);
    await silent();
    await expectError(await agent('/agent/v1/desired', credential), 401, 'unauthorized');
    expect(await becomes('unauthorized')).toBe('unauthorized');
  });

  it('records last seen from 304 polls at most every LAST_SEEN_GRANULARITY_MS, after the response', async () => {
    // A healthy agent on its 120 s resync must never read as unreachable, however its polls fall.
    expect(LAST_SEEN_GRANULARITY_MS + 120_000).toBeLessThan(UNREACHABLE_AFTER_MS);
    const { cluster } = await clusterWithTunnel();
    const credential = await registered(cluster);
    const etag = (await agent('/agent/v1/desired', credential)).headers.get('etag') ?? '';
    const poll = async () => {
      const response = await agent('/agent/v1/desired', credential, { headers: { 'if-none-match': etag } });
      expect(response.status).toBe(304);
    };
    const stored = () =>
      env.DB.prepare('SELECT connection, last_seen_at FROM clusters WHERE id = ?')
        .bind(cluster)
        .first<{ connection: string; last_seen_at: string }>();
    // Written behind the back of the notifier, which answers 304s from a copy (ADR 0011): it is dropped with each edit.
    const setStored = async (connection: string, ageMs: number) => {
      const at = new Date(Date.now() - ageMs).toISOString();
      await env.DB.prepare('UPDATE clusters SET connection = ?, last_seen_at = ? WHERE id = ?').bind(connection, at, cluster).run();
      await forgetNotifierCopy(cluster);
      return at;
    };
    // Deferred writes (waitUntil) land after the response: wait for them, with a deadline.
    const until = async (check: (row: { connection: string; last_seen_at: string } | null) => boolean) => {
      const deadline = Date.now() + 5000;
      let row = await stored();
      while (!check(row) && Date.now() < deadline) row = await stored();
      return row;
    };

    // Seen recently: the poll writes nothing.
    const recent = await setStored('connected', LAST_SEEN_GRANULARITY_MS - 30_000);
    await poll();
    await deferredWritesLanded();
    expect(await stored()).toEqual({ connection: 'connected', last_seen_at: recent });

    // Back from `unauthorized`: connected and seen now, however recent the stored last seen.
    await setStored('unauthorized', LAST_SEEN_GRANULARITY_MS - 30_000);
    const before = Date.now();
    await poll();
    const back = await until((row) => row?.connection === 'connected');
    expect(back?.connection).toBe('connected');
    expect(Date.parse(back?.last_seen_at ?? '')).toBeGreaterThanOrEqual(before);

    // Seen longer ago than the granularity: the 304 poll refreshes it.
    const old = await setStored('connected', LAST_SEEN_GRANULARITY_MS + 10_000);
    await poll();
    const refreshed = await until((row) => row?.last_seen_at !== old);
    expect(Date.parse(refreshed?.last_seen_at ?? '')).toBeGreaterThanOrEqual(before);
    const view = (await (await api('GET', `/v1/clusters/${cluster}`)).json()) as { connection: string; lastSeenAt: string };
    expect(view).toMatchObject({ connection: 'connected', lastSeenAt: refreshed?.last_seen_at });
  });

  it('refuses a replaced or deleted credential on the 304 path at once, right after it answered 304', async () => {
    const cluster = uid('c');
    expect((await api('POST', '/v1/clusters', { body: { id: cluster, name: cluster, nodes: [] } })).status).toBe(201);
    const old = await registered(cluster);
    const etag = (await agent('/agent/v1/desired', old)).headers.get('etag') ?? '';
    const conditional = (credential: string) => agent('/agent/v1/desired', credential, { headers: { 'if-none-match': etag } });
    expect((await conditional(old)).status).toBe(304);

    // Re-registration registers a new credential: the old one is refused on its next request, the new one gets the 304.
    const replacement = await reregistered(cluster);
    await expectError(await conditional(old), 401, 'unauthorized');
    expect((await conditional(replacement)).status).toBe(304);

    // A deleted cluster's credential reads nothing.
    expect((await api('DELETE', `/v1/clusters/${cluster}`)).status).toBe(204);
    await expectError(await conditional(replacement), 401, 'unauthorized');
  });

  it('pushes the new revision on the notify WebSocket after a write', async () => {
    const { cluster, tunnel } = await clusterWithTunnel();
    const credential = await registered(cluster);
    await expectError(await agent('/agent/v1/notify', credential), 400, 'bad_request');
    const response = await agent('/agent/v1/notify', credential, { headers: { upgrade: 'websocket' } });
    expect(response.status).toBe(101);
    const socket = response.webSocket;
    if (!socket) throw new Error('no WebSocket in the 101 response');
    const messages: number[] = [];
    const waiters: (() => void)[] = [];
    socket.addEventListener('message', (event) => {
      messages.push((JSON.parse(String(event.data)) as { revision: number }).revision);
      waiters.splice(0).forEach((w) => w());
    });
    socket.accept();
    const next = async (count: number) => {
      const deadline = Date.now() + 5000;
      while (messages.length < count && Date.now() < deadline) await new Promise<void>((r) => waiters.push(r));
      return messages[count - 1];
    };
    const initial = await next(1);
    expect(typeof initial).toBe('number');
    expect((await api('POST', '/v1/routes', { body: { tunnel, hostname: `${uid('n')}.example.com`, origin: labelStudio } })).status).toBe(
      201,
    );
    expect(await next(2)).toBe((initial ?? 0) + 1);
    socket.close(1000, 'done');
  });
});
