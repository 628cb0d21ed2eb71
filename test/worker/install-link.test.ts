import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { InstallLink } from '../../src/shared/api/install-link';
import { newSecret } from '../../worker/crypto';
import { mintInstallLink } from '../../worker/services/install-links';
import { clusterWithTunnel } from './fixtures';
import { api, count, expectError, serviceDeps } from './helpers';

// The install link: POST /v1/clusters/{id}/install-link mints a signed, expiring URL; GET /install/{id}.yaml serves the
// manifest with no API token to whoever holds a valid link, and refuses an expired, altered or re-aimed one.

async function mint(cluster: string, body?: unknown): Promise<InstallLink> {
  const response = await api('POST', `/v1/clusters/${cluster}/install-link`, body === undefined ? {} : { body });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as InstallLink;
}

/** Fetches a link as kubectl does: a plain GET, no Authorization header. */
const open = (url: string) => {
  const u = new URL(url);
  return SELF.fetch(`https://edgeplane.test${u.pathname}${u.search}`);
};

const tokenIn = (manifest: string): string =>
  parseAllDocuments(manifest)
    .map((d) => d.toJSON() as { kind: string; stringData?: { token?: string } })
    .find((d) => d.kind === 'Secret')?.stringData?.token ?? '';

const register = (cluster: string, token: string) =>
  SELF.fetch('https://edgeplane.test/agent/v1/register', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      clusterId: cluster,
      credential: `epa.${cluster}.${newSecret('k').slice(2)}`,
      identity: `uid-${cluster}`,
      kubernetesVersion: 'v1.31.4+k3s1',
      nodeCount: 1,
      agentVersion: '0.1.0',
    }),
  });

async function refusedWith(response: Response, words: RegExp): Promise<void> {
  const body = await expectError(response, 403, 'forbidden');
  expect(body.error.message).toMatch(words);
  expect(body.error.message).toContain('mint a new one');
}

describe('install link', () => {
  it('mints a signed link (admin only) whose manifest registers the agent, and dies once the agent registered', async () => {
    const { cluster } = await clusterWithTunnel();
    await expectError(await api('POST', `/v1/clusters/${cluster}/install-link`, { role: 'editor' }), 403, 'forbidden');
    await expectError(await api('POST', `/v1/clusters/${cluster}/install-link`, { role: null }), 401, 'unauthorized');
    await expectError(await api('POST', '/v1/clusters/no-such-cluster/install-link'), 404, 'not_found');

    const link = await mint(cluster);
    expect(link.url).toMatch(
      new RegExp(`^https://edgeplane\\.example\\.com/install/${cluster}\\.yaml\\?e=\\d+&n=[\\w-]{22}&s=[\\w-]{43}$`),
    );
    expect(link.command).toBe(`kubectl apply -f '${link.url}'`);
    // 15 minutes by default; the token inside lives a day longer than the link.
    const minted = Date.now();
    expect(Date.parse(link.expiresAt) - minted).toBeGreaterThan(890_000);
    expect(Date.parse(link.expiresAt) - minted).toBeLessThanOrEqual(900_000);
    expect(Date.parse(link.tokenExpiresAt) - Date.parse(link.expiresAt)).toBeGreaterThan(24 * 3_600_000 - 2_000);
    // The link itself never holds the token: only its fingerprint is shown.
    const tokens = (await (await api('GET', `/v1/clusters/${cluster}/bootstrap-tokens`)).json()) as {
      items: { id: string; state: string }[];
    };
    expect(tokens.items).toEqual([expect.objectContaining({ id: link.tokenId, state: 'unused' })]);

    const first = await open(link.url);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toContain('application/yaml');
    expect(first.headers.get('cache-control')).toBe('no-store');
    const manifest = await first.text();
    const token = tokenIn(manifest);
    expect(token).toMatch(/^epb_/);
    expect(link.url).not.toContain(token);
    expect(manifest).toContain('value: https://edgeplane.example.com');
    // Fetched again before the agent registers (kubectl retried): the same manifest, the same one-time token.
    expect(tokenIn(await (await open(link.url)).text())).toBe(token);

    expect((await register(cluster, token)).status).toBe(201);
    await refusedWith(await open(link.url), /was used: an agent registered/);
    // A registered cluster gets no new link until an admin asks for re-registration.
    await expectError(await api('POST', `/v1/clusters/${cluster}/install-link`), 409, 'conflict');
  });

  it('refuses an expired link, and says when it expired', async () => {
    const { cluster } = await clusterWithTunnel();
    // Minted an hour ago for 15 minutes, through the same function the endpoint calls.
    const past = serviceDeps();
    const anHourAgo = new Date(Date.now() - 3_600_000);
    const link = await mintInstallLink({ ...past, now: () => anHourAgo }, cluster, 'https://edgeplane.example.com', 900);
    await refusedWith(await open(link.url), new RegExp(`expired at ${link.expiresAt.replace(/\./g, '\\.')}`));
  });

  it('refuses a tampered link: another expiry, another nonce, a changed signature, a missing parameter', async () => {
    const { cluster } = await clusterWithTunnel();
    const link = await mint(cluster, { expiresInSeconds: 60 });
    const url = new URL(link.url);
    const altered = (name: string, value: string) => {
      const u = new URL(url);
      u.searchParams.set(name, value);
      return u.toString();
    };
    const e = url.searchParams.get('e') ?? '';
    const s = url.searchParams.get('s') ?? '';
    await refusedWith(await open(altered('e', String(Number(e) + 86_400))), /signature does not match/);
    await refusedWith(await open(altered('n', 'A'.repeat(22))), /signature does not match/);
    await refusedWith(await open(altered('s', `${s.slice(0, -1)}${s.endsWith('A') ? 'B' : 'A'}`)), /signature does not match/);
    const without = new URL(url);
    without.searchParams.delete('s');
    await refusedWith(await open(without.toString()), /incomplete/);
    // The untouched link still works.
    expect((await open(link.url)).status).toBe(200);
  });

  it('refuses a link aimed at another cluster: the signature covers the cluster id', async () => {
    const a = await clusterWithTunnel();
    const b = await clusterWithTunnel();
    const link = await mint(a.cluster);
    const aimed = link.url.replace(`/install/${a.cluster}.yaml`, `/install/${b.cluster}.yaml`);
    expect(aimed).not.toBe(link.url);
    await refusedWith(await open(aimed), /signature does not match/);
  });

  it('refuses a revoked link, and a bad lifetime with a 422 that issues no token', async () => {
    const { cluster } = await clusterWithTunnel();
    const link = await mint(cluster);
    expect((await api('DELETE', `/v1/clusters/${cluster}/bootstrap-tokens/${link.tokenId}`)).status).toBe(204);
    await refusedWith(await open(link.url), /revoked/);
    const before = await count('bootstrap_tokens', `cluster_id = '${cluster}'`);
    const bad = await expectError(
      await api('POST', `/v1/clusters/${cluster}/install-link`, { body: { expiresInSeconds: 1 } }),
      422,
      'validation_failed',
    );
    expect(bad.error.details?.[0]).toMatchObject({ path: 'body.expiresInSeconds' });
    expect(await count('bootstrap_tokens', `cluster_id = '${cluster}'`)).toBe(before);
  });

  it('is described in the OpenAPI document with /v1/trace: the link endpoint needs no bearer, the mint does', async () => {
    const doc = (await (await SELF.fetch('https://edgeplane.test/openapi.json')).json()) as {
      paths: Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>>;
    };
    expect(doc.paths['/v1/clusters/{id}/install-link']?.post?.security).toEqual([{ bearer: [] }]);
    expect(JSON.stringify(doc.paths['/v1/clusters/{id}/install-link']?.post?.responses['201'])).toContain('tokenExpiresAt');
    expect(doc.paths['/install/{file}']?.get?.security ?? []).toEqual([]);
    expect(JSON.stringify(doc.paths['/v1/trace']?.get?.responses['200'])).toContain('firstBroken');
  });
});
