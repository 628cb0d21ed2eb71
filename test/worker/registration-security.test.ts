import { env, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { newSecret } from '../../worker/crypto';
import { clusterWithTunnel } from './fixtures';
import { api, count, expectError } from './helpers';

// A spare bootstrap token must not take over a registered cluster (docs/security.md → Registration).

const REAL_UID = 'a3f1c2d4-real-kube-system-uid';

/** An install manifest's bootstrap token, fetched as admin. */
async function installToken(cluster: string): Promise<string> {
  const response = await api('GET', `/v1/clusters/${cluster}/install.yaml`);
  expect(response.status).toBe(200);
  const docs = parseAllDocuments(await response.text()).map((d) => d.toJSON() as { kind: string; stringData?: { token?: string } });
  return docs.find((d) => d.kind === 'Secret')?.stringData?.token ?? '';
}

const newCredential = (cluster: string) => `epa.${cluster}.${newSecret('k').slice(2)}`;

const register = (token: string, cluster: string, identity: string, credential = newCredential(cluster)) =>
  SELF.fetch('https://edgeplane.test/agent/v1/register', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      clusterId: cluster,
      credential,
      identity,
      kubernetesVersion: 'v1.31.4+k3s1',
      nodeCount: 1,
      agentVersion: '0.1.0',
    }),
  });

const desired = (credential: string) =>
  SELF.fetch('https://edgeplane.test/agent/v1/desired', { headers: { authorization: `Bearer ${credential}` } });

/** The body of a response as text, asserting it never names the registered agent's identity. */
async function discloses(response: Response): Promise<boolean> {
  return (await response.clone().text()).includes(REAL_UID);
}

const fingerprint = async (cluster: string) =>
  ((await (await api('GET', `/v1/clusters/${cluster}`)).json()) as { agentCredential: string | null }).agentCredential;

describe('takeover with a spare bootstrap token', () => {
  it('is refused at every step, and no answer or audit entry a viewer reads names the identity', async () => {
    const { cluster } = await clusterWithTunnel();
    const spare = await installToken(cluster);
    const used = await installToken(cluster);
    const agentCredential = newCredential(cluster);
    expect((await register(used, cluster, REAL_UID, agentCredential)).status).toBe(201);

    // The registration revoked the spare token: a made-up identity, then the real one, are both refused.
    const guess = await register(spare, cluster, 'made-up-uid');
    expect(await discloses(guess)).toBe(false);
    await expectError(guess, 401, 'unauthorized');
    const withRealUid = await register(spare, cluster, REAL_UID);
    expect(await discloses(withRealUid)).toBe(false);
    await expectError(withRealUid, 401, 'unauthorized');
    expect(await count('bootstrap_tokens', `cluster_id = '${cluster}' AND used_at IS NULL`)).toBe(0);

    // No new manifest for a registered cluster without a re-registration request; nothing is issued.
    const again = await expectError(await api('GET', `/v1/clusters/${cluster}/install.yaml`), 409, 'conflict');
    expect(again.error.message).toContain('/reregistration');
    expect(await count('bootstrap_tokens', `cluster_id = '${cluster}' AND used_at IS NULL`)).toBe(0);

    // A token that exists anyway (made before this protection) registers nothing on a registered cluster.
    const legacy = newSecret('epb');
    const hash = [...new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(legacy)))]
      .map((b) => b.toString(16).padStart(2, '0'))
      .join('');
    await env.DB.prepare('INSERT INTO bootstrap_tokens (hash, cluster_id, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
      .bind(hash, cluster, 'token:old', new Date().toISOString(), new Date(Date.now() + 3_600_000).toISOString())
      .run();
    for (const identity of ['made-up-uid', REAL_UID]) {
      const refused = await register(legacy, cluster, identity);
      expect(await discloses(refused)).toBe(false);
      const envelope = await expectError(refused, 409, 'conflict');
      expect(envelope.error.message).toContain('already has a registered agent');
    }
    expect(await count('bootstrap_tokens', `hash = '${hash}' AND used_at IS NULL`)).toBe(1);

    // The real agent keeps its cluster.
    expect((await desired(agentCredential)).status).toBe(200);

    // Viewers see neither the identity in the cluster nor in the audit log, including entries written before.
    await env.DB.prepare(
      "INSERT INTO audit (at, actor, action, entity_type, entity_id, before, after, request_id) VALUES (?, 'agent', 'agent.register', 'cluster', ?, 'null', ?, 'old')",
    )
      .bind(new Date().toISOString(), cluster, JSON.stringify({ identity: REAL_UID }))
      .run();
    for (const role of ['viewer', 'admin'] as const) {
      expect(await discloses(await api('GET', `/v1/clusters/${cluster}`, { role }))).toBe(false);
      const audit = await api('GET', `/v1/audit?entityId=${cluster}`, { role });
      expect(audit.status).toBe(200);
      expect(await discloses(audit)).toBe(false);
    }
  });
});

describe('re-registration', () => {
  it('needs an admin request naming the credential it replaces; the new agent registers and the old credential is refused', async () => {
    const { cluster } = await clusterWithTunnel();
    const old = newCredential(cluster);
    expect((await register(await installToken(cluster), cluster, REAL_UID, old)).status).toBe(201);
    const oldPrint = await fingerprint(cluster);
    expect(oldPrint).toMatch(/^[0-9a-f]{16}$/);

    const request = (replacesCredential: unknown, role: 'admin' | 'editor' = 'admin') =>
      api('POST', `/v1/clusters/${cluster}/reregistration`, { role, body: { replacesCredential } });
    await expectError(await request(oldPrint, 'editor'), 403, 'forbidden');
    await expectError(await request('0000000000000000'), 409, 'conflict');
    await expectError(await request('not-a-print'), 422, 'validation_failed');
    const noAgent = (await clusterWithTunnel()).cluster;
    await expectError(
      await api('POST', `/v1/clusters/${noAgent}/reregistration`, { body: { replacesCredential: oldPrint } }),
      409,
      'conflict',
    );

    const accepted = await request(oldPrint);
    expect(accepted.status).toBe(201);
    expect(await accepted.json()).toMatchObject({ clusterId: cluster, replacesCredential: oldPrint, revokedTokens: 0 });
    const audited = await env.DB.prepare("SELECT actor, after FROM audit WHERE action = 'agent.reregistration_request' AND entity_id = ?")
      .bind(cluster)
      .first<{ actor: string; after: string }>();
    expect(audited?.actor).toBe('token:tok_test_admin');
    expect(JSON.parse(audited?.after ?? '{}')).toMatchObject({ replacesFingerprint: oldPrint });
    // The old agent keeps working until the new one registers.
    expect((await desired(old)).status).toBe(200);

    // The install flow now issues a manifest; the new agent (another Kubernetes cluster, even) registers with it.
    const fresh = newCredential(cluster);
    expect((await register(await installToken(cluster), cluster, 'uid-rebuilt-cluster', fresh)).status).toBe(201);
    await expectError(await desired(old), 401, 'unauthorized');
    expect((await desired(fresh)).status).toBe(200);
    const view = (await (await api('GET', `/v1/clusters/${cluster}`)).json()) as Record<string, unknown>;
    expect(view.agentCredential).not.toBe(oldPrint);
    expect(view.reregistrationRequestedAt).toBeNull();
    const registered = await env.DB.prepare("SELECT after FROM audit WHERE action = 'agent.reregister' AND entity_id = ?")
      .bind(cluster)
      .first<{ after: string }>();
    expect(JSON.parse(registered?.after ?? '{}')).toMatchObject({ replacedFingerprint: oldPrint, agentFingerprint: view.agentCredential });
    // The request is spent: another install needs another request.
    await expectError(await api('GET', `/v1/clusters/${cluster}/install.yaml`), 409, 'conflict');
  });

  it('revokes the tokens issued before the request', async () => {
    const { cluster } = await clusterWithTunnel();
    expect((await register(await installToken(cluster), cluster, REAL_UID)).status).toBe(201);
    expect(
      (await api('POST', `/v1/clusters/${cluster}/reregistration`, { body: { replacesCredential: await fingerprint(cluster) } })).status,
    ).toBe(201);
    const first = await installToken(cluster);
    // A second request (e.g. the first manifest was lost) revokes the manifest issued after the first one.
    const second = await api('POST', `/v1/clusters/${cluster}/reregistration`, {
      body: { replacesCredential: await fingerprint(cluster) },
    });
    expect(await second.json()).toMatchObject({ revokedTokens: 1 });
    await expectError(await register(first, cluster, REAL_UID), 401, 'unauthorized');
    expect((await register(await installToken(cluster), cluster, REAL_UID)).status).toBe(201);
  });
});

describe('bootstrap tokens', () => {
  it('are listed (never the token) and revoked by an admin; a revoked token registers nothing', async () => {
    const { cluster } = await clusterWithTunnel();
    const a = await installToken(cluster);
    const b = await installToken(cluster);
    const list = async () => {
      const response = await api('GET', `/v1/clusters/${cluster}/bootstrap-tokens`);
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(text).not.toContain(a);
      expect(text).not.toContain(b);
      return (JSON.parse(text) as { items: { id: string; state: string; createdBy: string }[] }).items;
    };
    const items = await list();
    expect(items.map((t) => [t.state, t.createdBy])).toEqual([
      ['unused', 'token:tok_test_admin'],
      ['unused', 'token:tok_test_admin'],
    ]);
    await expectError(await api('GET', `/v1/clusters/${cluster}/bootstrap-tokens`, { role: 'viewer' }), 403, 'forbidden');
    const [first] = items;
    if (!first) throw new Error('no token listed');
    await expectError(await api('DELETE', `/v1/clusters/${cluster}/bootstrap-tokens/${first.id}`, { role: 'editor' }), 403, 'forbidden');
    expect((await api('DELETE', `/v1/clusters/${cluster}/bootstrap-tokens/${first.id}`)).status).toBe(204);
    await expectError(await api('DELETE', `/v1/clusters/${cluster}/bootstrap-tokens/${first.id}`), 404, 'not_found');
    expect(await count('audit', `action = 'bootstrap_token.revoke' AND entity_id = '${cluster}'`)).toBe(1);
    const remaining = await list();
    expect(remaining).toHaveLength(1);
    // Which of a and b was revoked: the one that no longer registers.
    const results = [await register(a, cluster, REAL_UID), await register(b, cluster, REAL_UID)].map((r) => r.status).sort();
    expect(results).toEqual([201, 401]);
    expect((await list()).map((t) => t.state)).toEqual(['used']);
  });
});
