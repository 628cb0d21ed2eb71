import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { newSecret } from '../../worker/crypto';
import { FAKE_ROOT_CA } from '../fakes/kube-apiserver/root-ca';
import { api, expectError, storeSnapshot } from './helpers';
import { cloudflareTunnelId, drainAll, driftCheck, fake, setup } from './sync-helpers';

// The WARP kubectl path (docs/diagnostics.md): GET /v1/clusters/:id/kubeconfig-warp and the cluster's `warpAccess`,
// for a complete path and each kind of incomplete one, with the Cloudflare side made by the real sync writer against
// the Cloudflare fake and the CA arriving through the agent protocol.

interface Missing {
  reason: string;
  message: string;
}
interface WarpAnswer {
  cluster: string;
  server: string;
  profile: string;
  complete: boolean;
  missing: Missing[];
  privateNetwork: string | null;
  tunnel: string | null;
  kubeconfig: string | null;
}

const agent = (path: string, credential: string, init: RequestInit = {}) =>
  SELF.fetch(`https://edgeplane.test${path}`, {
    ...init,
    headers: { authorization: `Bearer ${credential}`, ...(init.headers as Record<string, string> | undefined) },
  });

/** Registers an agent for the cluster with a bootstrap token from its install manifest; returns its credential. */
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

/** A status report as the agent sends it, with the CA it read (or none). */
async function report(credential: string, clusterCa?: string): Promise<Response> {
  const bundle = (await (await agent('/agent/v1/desired', credential)).json()) as { revision: number; hash: string };
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
      ...(clusterCa === undefined ? {} : { clusterCa }),
    }),
  });
}

async function warp(cluster: string, query = ''): Promise<WarpAnswer> {
  const response = await api('GET', `/v1/clusters/${cluster}/kubeconfig-warp${query}`, { role: 'viewer' });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as WarpAnswer;
}

const reasons = (answer: { missing: Missing[] }) => answer.missing.map((m) => m.reason);

async function created(path: string, body: unknown): Promise<{ id: string }> {
  const response = await api('POST', path, { body });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as { id: string };
}

let nextNet = 0;

/**
 * Everything the path needs, each step optional: the CA reported by the agent, the API server address routed through
 * the cluster's tunnel, the include entry, and the Cloudflare side pushed by the sync writer. Private networks may not
 * overlap within a virtual network, so only one test routes k3s' default 10.43.0.0/16; the others give their cluster
 * an address of its own (10.250.<n>.1, routed as 10.250.<n>.0/24).
 */
async function path(options: { ca?: boolean; network?: boolean; include?: boolean; drain?: boolean; k3sDefault?: boolean } = {}) {
  const { account, cluster, tunnel } = await setup();
  let address = '10.43.0.1';
  let cidr = '10.43.0.0/16';
  if (options.k3sDefault !== true) {
    const n = nextNet++;
    address = `10.250.${n}.1`;
    cidr = `10.250.${n}.0/24`;
    expect((await api('PATCH', `/v1/clusters/${cluster}`, { body: { apiServerAddress: address } })).status).toBe(200);
  }
  if (options.ca !== false) expect((await report(await registered(cluster), FAKE_ROOT_CA)).status).toBe(204);
  const network = options.network === false ? null : await created('/v1/private-networks', { tunnel, cidr });
  if (options.include !== false) await created('/v1/split-tunnel', { account, mode: 'include', address: cidr, description: 'services' });
  if (options.drain !== false) await drainAll(account);
  return { account, cluster, tunnel, network, address, cidr };
}

describe('GET /v1/clusters/:id/kubeconfig-warp: a complete path', () => {
  it('answers the kubeconfig for https://10.43.0.1:443 with the reported CA and a user without credentials', async () => {
    const { cluster, tunnel, network } = await path({ k3sDefault: true });
    const answer = await warp(cluster);
    expect(answer).toMatchObject({
      cluster,
      server: 'https://10.43.0.1:443',
      profile: 'default',
      complete: true,
      missing: [],
      privateNetwork: network?.id,
      tunnel,
    });
    const config = parse(answer.kubeconfig ?? '') as {
      apiVersion: string;
      kind: string;
      clusters: { name: string; cluster: Record<string, string> }[];
      users: { name: string; user: Record<string, unknown> }[];
      contexts: { name: string; context: { cluster: string; user: string } }[];
      'current-context': string;
    };
    expect(config).toMatchObject({ apiVersion: 'v1', kind: 'Config', 'current-context': `${cluster}-warp` });
    expect(config.clusters).toEqual([
      { name: `${cluster}-warp`, cluster: { server: 'https://10.43.0.1:443', 'certificate-authority-data': btoa(FAKE_ROOT_CA) } },
    ]);
    expect(config.contexts).toEqual([{ name: `${cluster}-warp`, context: { cluster: `${cluster}-warp`, user: `${cluster}-warp` } }]);
    // No credentials, and the file says where the user's own go.
    expect(config.users).toEqual([{ name: `${cluster}-warp`, user: {} }]);
    expect(answer.kubeconfig).toContain(`config set-credentials ${cluster}-warp --token=`);

    // The same file alone with format=yaml.
    const file = await api('GET', `/v1/clusters/${cluster}/kubeconfig-warp?format=yaml`, { role: 'viewer' });
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toMatch(/^application\/yaml/);
    expect(await file.text()).toBe(answer.kubeconfig);

    // The cluster object carries the same check, alone and in the list.
    const item = (await (await api('GET', `/v1/clusters/${cluster}`, { role: 'viewer' })).json()) as { warpAccess: unknown };
    const { cluster: _c, kubeconfig: _k, ...access } = answer;
    expect(item.warpAccess).toEqual(access);
    const list = (await (await api('GET', '/v1/clusters?limit=200', { role: 'viewer' })).json()) as {
      items: { id: string; apiServerAddress: string; warpAccess: unknown }[];
    };
    expect(list.items.find((c) => c.id === cluster)).toMatchObject({ apiServerAddress: '10.43.0.1', warpAccess: access });
  });

  it('a profile in exclude mode whose exclude entries leave the address alone is complete too', async () => {
    const { account, cluster } = await path({ include: false, drain: false });
    await created('/v1/split-tunnel', { account, mode: 'exclude', address: '192.168.0.0/16', description: 'home LAN' });
    await drainAll(account);
    expect(await warp(cluster)).toMatchObject({ complete: true, missing: [] });
  });
});

describe('an incomplete path says what is missing', () => {
  it('a new cluster without tunnel: no private network and no CA; format=yaml is a 409 naming them', async () => {
    const cluster = (await created('/v1/clusters', { id: `w-${Date.now().toString(36)}`, name: 'bare' })).id;
    const answer = await warp(cluster);
    expect(answer).toMatchObject({ complete: false, kubeconfig: null, privateNetwork: null, tunnel: null });
    expect(reasons(answer)).toEqual(['no_private_network', 'ca_not_reported']);
    expect(answer.missing[0]?.message).toMatch(/has no tunnel: create one \(POST \/v1\/tunnels\) and route 10\.43\.0\.0\/16/);
    const refused = await expectError(await api('GET', `/v1/clusters/${cluster}/kubeconfig-warp?format=yaml`), 409, 'conflict');
    expect(refused.error.details?.map((d) => d.path)).toEqual(['no_private_network', 'ca_not_reported']);
  });

  it('the CA not reported yet: everything else in place, no kubeconfig until the agent sends it', async () => {
    const { cluster } = await path({ ca: false });
    const answer = await warp(cluster);
    expect(reasons(answer)).toEqual(['ca_not_reported']);
    expect(answer.kubeconfig).toBeNull();
    expect(answer.missing[0]?.message).toContain('kube-root-ca.crt');
  });

  it('no private network covering the API server address', async () => {
    const { cluster, tunnel, address } = await path({ network: false });
    const answer = await warp(cluster);
    expect(reasons(answer)).toEqual(['no_private_network']);
    expect(answer.missing[0]?.message).toContain(`POST /v1/private-networks {"tunnel": "${tunnel}", "cidr": "${address}/32"}`);
    // The kubeconfig is still handed out in the JSON answer: the CA is known, only the route is missing.
    expect(answer.kubeconfig).toContain(`https://${address}:443`);
  });

  it('a private network of another range does not cover the address', async () => {
    const { account, cluster, tunnel } = await path({ network: false, drain: false });
    await created('/v1/private-networks', { tunnel, cidr: '10.42.0.0/16' });
    await drainAll(account);
    expect(reasons(await warp(cluster))).toEqual(['no_private_network']);
  });

  it('the include entry, the route and the warp-routing config not yet in Cloudflare (the sync has not run)', async () => {
    const { cluster, network, tunnel } = await path({ drain: false });
    const answer = await warp(cluster);
    expect(reasons(answer)).toEqual(['split_tunnel_not_synced', 'private_network_not_synced', 'warp_routing_off']);
    expect(answer.missing[1]?.message).toContain(`private_network:${network?.id ?? ''}`);
    expect(answer.missing[2]?.message).toContain(`tunnel "${tunnel}" does not exist in Cloudflare yet`);
  });

  it('the tunnel exists in Cloudflare but its config with warp-routing was not pushed since the network was added', async () => {
    const { account, cluster, tunnel, cidr } = await path({ network: false });
    await created('/v1/private-networks', { tunnel, cidr });
    const answer = await warp(cluster);
    expect(reasons(answer)).toEqual(['private_network_not_synced', 'warp_routing_off']);
    expect(answer.missing[1]?.message).toContain('with warp-routing enabled has not reached Cloudflare yet');
    await drainAll(account);
    expect(await warp(cluster)).toMatchObject({ complete: true });
  });

  it('warp-routing turned off in the dashboard (drift reported under the "alert" policy)', async () => {
    const { account, cluster, tunnel } = await path();
    const cfId = await cloudflareTunnelId(tunnel);
    const remote = (await fake.state(account)).configs[cfId];
    expect(remote?.config).toMatchObject({ 'warp-routing': { enabled: true } });
    await fake.api('PUT', `/accounts/${account}/cfd_tunnel/${cfId}/configurations`, {
      config: { ...remote?.config, 'warp-routing': { enabled: false } },
    });
    expect(await driftCheck(account)).toMatchObject({ drifted: 1, reverted: 0 });
    const answer = await warp(cluster);
    expect(reasons(answer)).toEqual(['warp_routing_off']);
    expect(answer.missing[0]?.message).toMatch(/changed outside edgeplane/);
  });

  it('include mode: the profile has include entries and none covers the address', async () => {
    const { account, cluster, address } = await path({ include: false, drain: false });
    await created('/v1/split-tunnel', { account, mode: 'include', address: '192.168.2.0/24', description: 'GPU LAN' });
    await drainAll(account);
    const answer = await warp(cluster);
    expect(reasons(answer)).toEqual(['split_tunnel_not_included']);
    expect(answer.missing[0]?.message).toContain(
      `POST /v1/split-tunnel {"account": "${account}", "profile": "default", "mode": "include", "address": "${address}/32"}`,
    );
  });

  it('the include entry removed in the dashboard (drift reported under the "alert" policy)', async () => {
    const { account, cluster } = await path();
    await fake.api('PUT', `/accounts/${account}/devices/policy/include`, [{ address: '192.168.2.0/24', description: 'by hand' }]);
    expect(await driftCheck(account)).toMatchObject({ drifted: 1, reverted: 0 });
    const answer = await warp(cluster);
    expect(reasons(answer)).toEqual(['split_tunnel_not_synced']);
    expect(answer.missing[0]?.message).toContain('was removed outside edgeplane');
  });

  it('exclude mode: an exclude entry covers the address (edgeplane-owned, and one made in the dashboard)', async () => {
    const { account, cluster } = await path({ include: false, drain: false });
    const entry = await created('/v1/split-tunnel', { account, mode: 'exclude', address: '10.0.0.0/8', description: 'RFC 1918' });
    await drainAll(account);
    const answer = await warp(cluster);
    expect(reasons(answer)).toEqual(['split_tunnel_excluded']);
    expect(answer.missing[0]?.message).toContain(`10.0.0.0/8 ("RFC 1918")`);
    expect(answer.missing[0]?.message).toContain(`DELETE /v1/split-tunnel/${entry.id}`);

    // Cloudflare's default exclude list, as the dashboard leaves it, mirrored as foreign entries by the sync.
    const other = await path({ include: false, drain: false });
    await fake.api('PUT', `/accounts/${other.account}/devices/policy/exclude`, [
      { address: '10.0.0.0/8', description: 'default' },
      { address: '192.168.0.0/16', description: 'default' },
    ]);
    await created('/v1/split-tunnel', { account: other.account, mode: 'exclude', address: '172.16.0.0/12', description: 'ours' });
    await drainAll(other.account);
    const foreign = await warp(other.cluster);
    expect(reasons(foreign)).toEqual(['split_tunnel_excluded']);
    expect(foreign.missing[0]?.message).toContain('remove it in the Zero Trust dashboard');
  });

  it("no split-tunnel entry known for the profile: Cloudflare's default excludes the private ranges", async () => {
    const { cluster } = await path({ include: false });
    const answer = await warp(cluster);
    expect(reasons(answer)).toEqual(['split_tunnel_not_included']);
    expect(answer.missing[0]?.message).toContain('10.0.0.0/8');
  });

  it('another device profile is checked with ?profile=', async () => {
    const { account, cluster, address } = await path();
    const { policy_id: policy } = await fake.policy(account, 'laptops');
    expect(reasons(await warp(cluster, `?profile=${policy}`))).toEqual(['split_tunnel_not_included']);
    await created('/v1/split-tunnel', { account, profile: policy, mode: 'include', address: `${address}/32` });
    // Made in edgeplane, not yet pushed to Cloudflare.
    const waiting = await warp(cluster, `?profile=${policy}`);
    expect(reasons(waiting)).toEqual(['split_tunnel_not_synced']);
    expect(waiting.missing[0]?.message).toContain(`split_tunnel ${account}/${policy}:include`);
    await drainAll(account);
    expect(await warp(cluster, `?profile=${policy}`)).toMatchObject({ profile: policy, complete: true });
    await expectError(await api('GET', `/v1/clusters/${cluster}/kubeconfig-warp?profile=laptops`), 422, 'validation_failed');
  });
});

describe('the API server address setting', () => {
  it('defaults to 10.43.0.1, can be set per cluster, and is checked as an IP address', async () => {
    const bare = (await created('/v1/clusters', { id: `w-default-${Date.now().toString(36)}`, name: 'default address' })).id;
    expect(await (await api('GET', `/v1/clusters/${bare}`)).json()).toMatchObject({ apiServerAddress: '10.43.0.1' });
    const { cluster } = await path();
    const patched = await api('PATCH', `/v1/clusters/${cluster}`, { body: { apiServerAddress: '10.96.0.1' } });
    expect(patched.status, await patched.clone().text()).toBe(200);
    expect(await patched.json()).toMatchObject({ apiServerAddress: '10.96.0.1' });
    const answer = await warp(cluster);
    // The cluster's network and include entry no longer cover it.
    expect(answer.server).toBe('https://10.96.0.1:443');
    expect(reasons(answer)).toEqual(['split_tunnel_not_included', 'no_private_network']);
    expect(answer.missing[1]?.message).toContain('"cidr": "10.96.0.1/32"');

    const v6 = await api('PATCH', `/v1/clusters/${cluster}`, { body: { apiServerAddress: 'FD00:10:96::1' } });
    expect(await v6.json()).toMatchObject({ apiServerAddress: 'fd00:10:96::1' });
    expect((await warp(cluster)).server).toBe('https://[fd00:10:96::1]:443');

    const before = await storeSnapshot();
    for (const bad of ['10.43.0.0/16', 'api.example.com', '10.43.0.256']) {
      const refused = await expectError(
        await api('PATCH', `/v1/clusters/${cluster}`, { body: { apiServerAddress: bad } }),
        422,
        'validation_failed',
      );
      expect(refused.error.details?.[0]?.path).toBe('body.apiServerAddress');
    }
    await expectError(
      await api('POST', '/v1/clusters', { body: { id: 'w-bad-address', name: 'x', apiServerAddress: '10.43.0.0/16' } }),
      422,
      'validation_failed',
    );
    expect(await storeSnapshot()).toEqual(before);
  });
});

describe('the CA travels in the agent report', () => {
  it('a report without a CA keeps the last one; one that is not PEM is a 422 that changes nothing', async () => {
    const { cluster } = await setup();
    const credential = await registered(cluster);
    expect((await report(credential, FAKE_ROOT_CA)).status).toBe(204);
    expect((await report(credential)).status).toBe(204);
    expect(reasons(await warp(cluster))).not.toContain('ca_not_reported');
    const refused = await expectError(await report(credential, 'not a certificate'), 422, 'validation_failed');
    expect(refused.error.details?.[0]?.path).toBe('body.clusterCa');
    expect((await warp(cluster)).kubeconfig).toContain(btoa(FAKE_ROOT_CA));
  });

  it('the install manifest lets the agent get only that one ConfigMap in its namespace', async () => {
    const cluster = (await created('/v1/clusters', { id: `w-rbac-${Date.now().toString(36)}`, name: 'rbac' })).id;
    const manifest = await api('GET', `/v1/clusters/${cluster}/install.yaml`);
    const role = parseAllDocuments(await manifest.text())
      .map((d) => d.toJSON() as { kind: string; metadata: { namespace?: string }; rules?: unknown[] })
      .find((d) => d.kind === 'Role');
    expect(role?.metadata.namespace).toBe('edgeplane-system');
    expect(role?.rules).toContainEqual({ apiGroups: [''], resources: ['configmaps'], resourceNames: ['kube-root-ca.crt'], verbs: ['get'] });
  });

  it('is described in the OpenAPI document, with warpAccess on the cluster', async () => {
    const doc = (await (await SELF.fetch('https://edgeplane.test/openapi.json')).json()) as {
      paths: Record<string, { get?: { responses: Record<string, { content?: Record<string, unknown> }> } }>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    const get = doc.paths['/v1/clusters/{id}/kubeconfig-warp']?.get;
    expect(Object.keys(get?.responses['200']?.content ?? {}).sort()).toEqual(['application/json', 'application/yaml']);
    expect(JSON.stringify(doc)).toContain('split_tunnel_excluded');
    expect(JSON.stringify(doc.paths['/v1/clusters/{id}'])).toBeTruthy();
    expect(JSON.stringify(doc)).toContain('warpAccess');
  });

  it('404 for an unknown cluster; a token is needed', async () => {
    await expectError(await api('GET', '/v1/clusters/nope/kubeconfig-warp', { role: 'viewer' }), 404, 'not_found');
    await expectError(await api('GET', '/v1/clusters/nope/kubeconfig-warp', { role: null }), 401, 'unauthorized');
  });
});
