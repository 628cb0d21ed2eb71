// Cloudflare Access in front of the console: a production Worker whose ACCESS_TEAM_DOMAIN is a local JWKS server
// (as https://<team>.cloudflareaccess.com/cdn-cgi/access/certs serves it). The browser context adds the assertion to
// every request, as the Access edge does.
import { createServer, type Server } from 'node:http';
import { rmSync } from 'node:fs';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorEnvelope } from '../../src/shared/api/common';
import { freePort, migrate, tempDir, WorkerProcess } from '../support/worker';
import { launchChromium, newContext, watchPage } from './harness';

const AUD = 'edgeplane-test-aud-0123456789abcdef';
const KID = 'team-key-1';
let team = '';
let signingKey: CryptoKey;
let strangerKey: CryptoKey;
let jwks: Server | undefined;
let persistDir = '';
let worker: WorkerProcess | undefined;
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];
const problems: string[] = [];
let certsServed = 0;

interface Claims {
  email?: string;
  aud?: string;
  iss?: string;
  expiresIn?: string | number;
  key?: CryptoKey;
}

/** An Access assertion as Cloudflare signs one (RS256, the team's key id), with the given claims. */
async function assertion({
  email = 'ops@example.com',
  aud = AUD,
  iss = team,
  expiresIn = '10m',
  key = signingKey,
}: Claims = {}): Promise<string> {
  return new SignJWT({ email, type: 'app', identity_nonce: 'n0nce' })
    .setProtectedHeader({ alg: 'RS256', kid: KID })
    .setIssuer(iss)
    .setAudience(aud)
    .setSubject('user-1')
    .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
    .setExpirationTime(typeof expiresIn === 'number' ? expiresIn : expiresIn)
    .sign(key);
}

const call = (path: string, jwt: string | null, init: RequestInit = {}) =>
  fetch(`${worker?.url ?? ''}${path}`, {
    ...init,
    headers: { ...(jwt ? { 'cf-access-jwt-assertion': jwt } : {}), ...(init.headers as Record<string, string>) },
  });

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  signingKey = pair.privateKey;
  strangerKey = (await generateKeyPair('RS256')).privateKey;
  const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
  const port = await freePort();
  team = `http://127.0.0.1:${port}`;
  jwks = createServer((req, res) => {
    if (req.url !== '/cdn-cgi/access/certs') {
      res.writeHead(404).end();
      return;
    }
    certsServed++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((resolve) => jwks?.listen(port, '127.0.0.1', resolve));
  persistDir = tempDir('access');
  migrate(persistDir);
  worker = new WorkerProcess(await freePort(), persistDir, {
    ENVIRONMENT: 'production',
    ACCESS_TEAM_DOMAIN: team,
    ACCESS_AUD: AUD,
    ACCESS_ROLES: JSON.stringify({ admin: ['ops@example.com'], viewer: ['*@example.com'] }),
  });
  await worker.start();
  browser = await launchChromium();
}, 180_000);

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  expect(problems.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  await new Promise((resolve) => jwks?.close(resolve));
  if (persistDir) rmSync(persistDir, { recursive: true, force: true });
}, 30_000);

describe('Cloudflare Access login', { timeout: 60_000 }, () => {
  it('signs the operator in from the assertion: no token pasted, the console calls the API on it', async () => {
    if (!browser || !worker) throw new Error('not started');
    const context = await newContext(browser, contexts, { 'cf-access-jwt-assertion': await assertion() });
    const page = await context.newPage();
    watchPage(page, problems);
    await page.goto(`${worker.url}/admin`);
    expect(await page.locator('#identity').textContent()).toBe('ops@example.com');
    await page.locator('#clusters-body table').waitFor();
    expect(await page.locator('#login').isHidden()).toBe(true);
    // A write from the console itself (same origin) is accepted and audited under the Access identity.
    const status = await page.evaluate(async () => {
      const r = await fetch('/v1/clusters', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'via-access', name: 'Via Access' }),
      });
      return r.status;
    });
    expect(status).toBe(201);
    await page.locator('[data-cluster="via-access"]').waitFor();
    const audit = (await (await call('/v1/audit?entityId=via-access', await assertion())).json()) as { items: { actor: string }[] };
    expect(audit.items[0]?.actor).toBe('access:ops@example.com');
    expect(certsServed).toBeGreaterThan(0);
  });

  it.each([
    ['missing', null, 'the request carries no Cf-Access-Jwt-Assertion'],
    ['expired', () => assertion({ expiresIn: Math.floor(Date.now() / 1000) - 600 }), 'not valid (expired)'],
    ['for another application', () => assertion({ aud: 'some-other-aud' }), "audience is not this application's ACCESS_AUD"],
    ['from another issuer', () => assertion({ iss: 'https://other.cloudflareaccess.com' }), 'issuer is not ACCESS_TEAM_DOMAIN'],
    ['with a wrong signature', () => assertion({ key: strangerKey }), 'signature does not verify against the team keys'],
    ['garbage', () => Promise.resolve('not.a.jwt'), 'Cf-Access-Jwt-Assertion is not valid'],
  ])('refuses /admin and the API with an assertion %s, saying Access is expected', async (_what, make, message) => {
    const jwt = make ? await make() : null;
    const page = await call('/admin', jwt);
    expect(page.status).toBe(403);
    const text = await page.text();
    expect(text).toContain('Cloudflare Access');
    expect(text).toContain(message.replaceAll("'", '&#39;'));
    expect(text).not.toContain('/admin/assets/app.js');
    const apiCall = await call('/v1/clusters', jwt);
    expect(apiCall.status).toBe(401);
    const body = (await apiCall.json()) as ErrorEnvelope;
    expect(body.error.code).toBe('unauthorized');
    expect(body.error.message).toContain(jwt ? message : 'Cloudflare Access sign-in');
  });

  it('maps identities to roles through ACCESS_ROLES; an unlisted identity has none', async () => {
    const viewer = await assertion({ email: 'dev@example.com' });
    expect((await call('/v1/clusters', viewer)).status).toBe(200);
    const write = await call('/v1/clusters', viewer, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: worker?.url ?? '' },
      body: JSON.stringify({ id: 'viewer-try', name: 'x' }),
    });
    expect(write.status).toBe(403);
    expect(((await write.json()) as ErrorEnvelope).error.message).toBe('a viewer token cannot change anything');
    const stranger = await call('/v1/clusters', await assertion({ email: 'someone@elsewhere.org' }));
    expect(stranger.status).toBe(401);
    expect(((await stranger.json()) as ErrorEnvelope).error.message).toBe(
      'the Access identity someone@elsewhere.org has no edgeplane role; add it to ACCESS_ROLES',
    );
  });

  it('refuses a state-changing call riding on Access from another origin (CSRF)', async () => {
    const jwt = await assertion();
    for (const origin of ['https://evil.example', undefined]) {
      const response = await call('/v1/clusters', jwt, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(origin ? { origin } : {}) },
        body: JSON.stringify({ id: 'csrf-try', name: 'x' }),
      });
      expect(response.status).toBe(403);
      expect(((await response.json()) as ErrorEnvelope).error.message).toContain('cross-site request refused');
    }
    expect((await call('/v1/clusters/csrf-try', jwt)).status).toBe(404);
  });

  it('offers no dev login in production', async () => {
    const response = await fetch(`${worker?.url ?? ''}/v1/clusters`, {
      headers: { authorization: 'Bearer e2e-dev-admin-token-0123456789' },
    });
    expect(response.status).toBe(401);
  });
});
