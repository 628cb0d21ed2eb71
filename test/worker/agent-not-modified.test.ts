import { env, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { newSecret } from '../../worker/crypto';
import { AGENT_STATE_TTL_MS } from '../../worker/durable/cluster-notifier';
import { clusterWithTunnel, labelStudio } from './fixtures';
import { api, expectError, uid } from './helpers';
import { ageNotifierCopy, notifierCopy, notifierOf } from './notifier-helpers';

// The 304 of GET /agent/v1/desired answered by the cluster's notifier (Durable Object) from its copy of the credential
// hash and revision, without D1; and every way that copy could be wrong (ADR 0013).

async function registered(cluster: string): Promise<string> {
  const manifest = await (await api('GET', `/v1/clusters/${cluster}/install.yaml`)).text();
  const token = /token: (epb_\S+)/.exec(manifest)?.[1] ?? '';
  const credential = `epa.${cluster}.${newSecret('k').slice(2)}`;
  const response = await SELF.fetch('https://edgeplane.test/agent/v1/register', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      clusterId: cluster,
      credential,
      identity: 'uid-1',
      kubernetesVersion: 'v1.31.4+k3s1',
      nodeCount: 1,
      agentVersion: '0.1.0',
    }),
  });
  expect(response.status).toBe(201);
  return credential;
}

const desired = (credential: string, etag?: string) =>
  SELF.fetch('https://edgeplane.test/agent/v1/desired', {
    headers: { authorization: `Bearer ${credential}`, ...(etag ? { 'if-none-match': etag } : {}) },
  });

/** The notifier's copy once the deferred prime of a D1-answered request has landed (with a deadline). */
async function primed(cluster: string, revision?: number) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const copy = await notifierCopy(cluster);
    if (copy && (revision === undefined || copy.revision === revision)) return copy;
    if (Date.now() > deadline) throw new Error(`the notifier of ${cluster} was not primed (holds ${JSON.stringify(copy)})`);
  }
}

/** A cluster with a tunnel, a registered agent, its first bundle's ETag, and a primed notifier. */
async function agentWithCopy() {
  const { cluster, tunnel } = await clusterWithTunnel();
  const credential = await registered(cluster);
  const first = await desired(credential);
  expect(first.status).toBe(200);
  const etag = first.headers.get('etag') ?? '';
  const { revision } = (await first.json()) as { revision: number };
  // The first conditional poll finds no copy, is answered from D1, and primes the notifier.
  expect((await desired(credential, etag)).status).toBe(304);
  await primed(cluster, revision);
  return { cluster, tunnel, credential, etag, revision };
}

/** Bumps the revision in D1 only, as a write whose notification was lost would leave it. */
const bumpWithoutNotifying = (cluster: string) =>
  env.DB.prepare('UPDATE clusters SET desired_revision = desired_revision + 1 WHERE id = ?').bind(cluster).run();

describe('the 304 answered by the cluster notifier', () => {
  it('answers 304 from the notifier alone: D1 says otherwise and it still answers, until its copy is read again', async () => {
    const { cluster, credential, etag, revision } = await agentWithCopy();
    await bumpWithoutNotifying(cluster);
    // D1 now holds revision + 1: a 304 can only have come from the notifier's copy.
    const stale = await desired(credential, etag);
    expect(stale.status).toBe(304);
    expect(stale.headers.get('etag')).toBe(etag);
    expect((await notifierCopy(cluster))?.revision).toBe(revision);
  });

  it('converges after a lost notification once the copy is older than AGENT_STATE_TTL_MS (bounded staleness)', async () => {
    const { cluster, credential, etag, revision } = await agentWithCopy();
    await bumpWithoutNotifying(cluster);
    expect((await desired(credential, etag)).status).toBe(304);
    await ageNotifierCopy(cluster, AGENT_STATE_TTL_MS - 1000);
    expect((await desired(credential, etag)).status).toBe(304);
    await ageNotifierCopy(cluster, 1000);
    const fresh = await desired(credential, etag);
    expect(fresh.status).toBe(200);
    expect(((await fresh.json()) as { revision: number }).revision).toBe(revision + 1);
    // Read again from D1: the new ETag is the one the notifier now answers.
    const copy = await primed(cluster, revision + 1);
    expect(copy.revision).toBe(revision + 1);
    expect((await desired(credential, fresh.headers.get('etag') ?? '')).status).toBe(304);
  });

  it('moves to a notified revision at once: the old ETag gets the bundle, the new one a 304', async () => {
    const { cluster, tunnel, credential, etag, revision } = await agentWithCopy();
    const route = await api('POST', '/v1/routes', { body: { tunnel, hostname: `${uid('nm')}.example.com`, origin: labelStudio } });
    expect(route.status).toBe(201);
    const changed = await desired(credential, etag);
    expect(changed.status).toBe(200);
    const next = changed.headers.get('etag') ?? '';
    expect(next).not.toBe(etag);
    await primed(cluster, revision + 1);
    expect((await desired(credential, next)).status).toBe(304);
  });

  it('refuses a replaced credential on its very next request, though the notifier held its hash', async () => {
    const { cluster, credential: old, etag } = await agentWithCopy();
    expect((await notifierCopy(cluster))?.credentialHash).toBeTruthy();
    // A second agent registers only after an admin asks for it, naming the credential it replaces (issue 15).
    const cluster0 = (await (await api('GET', `/v1/clusters/${cluster}`)).json()) as { agentCredential: string };
    const asked = await api('POST', `/v1/clusters/${cluster}/reregistration`, { body: { replacesCredential: cluster0.agentCredential } });
    expect(asked.status).toBe(201);
    const replacement = await registered(cluster);
    await expectError(await desired(old, etag), 401, 'unauthorized');
    expect((await desired(replacement, etag)).status).toBe(304);
    await primed(cluster);
    await expectError(await desired(old, etag), 401, 'unauthorized');
    expect((await desired(replacement, etag)).status).toBe(304);
  });

  it('refuses a deleted cluster on its very next request, though the notifier held its copy', async () => {
    const cluster = uid('c');
    expect((await api('POST', '/v1/clusters', { body: { id: cluster, name: cluster, nodes: [] } })).status).toBe(201);
    const credential = await registered(cluster);
    const etag = (await desired(credential)).headers.get('etag') ?? '';
    expect((await desired(credential, etag)).status).toBe(304);
    await primed(cluster);
    expect((await api('DELETE', `/v1/clusters/${cluster}`)).status).toBe(204);
    expect(await notifierCopy(cluster)).toBeNull();
    await expectError(await desired(credential, etag), 401, 'unauthorized');
    await expectError(await desired(credential, etag), 401, 'unauthorized');
  });

  it('answers nothing from its copy while a credential change is fenced, even if the change never settles', async () => {
    const { cluster, credential, etag } = await agentWithCopy();
    const notifier = notifierOf(cluster);
    // A credential change whose settle step is lost: the fence alone keeps every request on D1.
    await notifier.fenceCredential();
    await env.DB.prepare('UPDATE clusters SET agent_credential_hash = ? WHERE id = ?').bind('0'.repeat(64), cluster).run();
    await expectError(await desired(credential, etag), 401, 'unauthorized');
    // A read racing the change cannot prime the copy while the fence stands.
    const check = await notifier.checkAgent('whatever', [1], 0);
    expect(check.answer).toBe('ask-d1');
    if (check.answer !== 'ask-d1') return;
    expect(await notifier.primeAgent(check.generation, check.since, { credentialHash: 'old', revision: 1, seenAt: Date.now() })).toBe(
      false,
    );
    expect(await notifierCopy(cluster)).toBeNull();
  });

  it('drops a prime read before a notification or a credential change (it may predate them)', async () => {
    const { cluster } = await clusterWithTunnel();
    const notifier = notifierOf(cluster);
    const snapshot = { credentialHash: 'a'.repeat(64), revision: 3, seenAt: Date.now() };
    const before = await notifier.checkAgent(snapshot.credentialHash, [3], 0);
    if (before.answer !== 'ask-d1') throw new Error('an empty notifier answered 304');
    await notifier.notify(4);
    expect(await notifier.primeAgent(before.generation, before.since, snapshot)).toBe(false);
    const again = await notifier.checkAgent(snapshot.credentialHash, [3], 0);
    if (again.answer !== 'ask-d1') throw new Error('an empty notifier answered 304');
    await notifier.settleCredential(await notifier.fenceCredential());
    expect(await notifier.primeAgent(again.generation, again.since, snapshot)).toBe(false);
    const last = await notifier.checkAgent(snapshot.credentialHash, [3], 0);
    if (last.answer !== 'ask-d1') throw new Error('an empty notifier answered 304');
    expect(await notifier.primeAgent(last.generation, last.since, snapshot)).toBe(true);
    expect(await notifier.checkAgent(snapshot.credentialHash, [3], 0)).toEqual({ answer: 'not-modified', revision: 3 });
    // A wrong credential is never answered from the copy, and drops it.
    expect((await notifier.checkAgent('b'.repeat(64), [3], 0)).answer).toBe('ask-d1');
    expect(await notifierCopy(cluster)).toBeNull();
  });
});
