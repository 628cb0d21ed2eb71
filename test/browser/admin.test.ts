// Drives the admin page in Chromium against the real Worker (wrangler dev on a throwaway local D1, seeded with
// the demo), and checks what the page shows against what the API holds.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNT, seedDemo } from '../../scripts/seed.mjs';
import type { ErrorEnvelope } from '../../src/shared/api/common';
import type { Route } from '../../src/shared/api/route';
import { DEV_ADMIN_TOKEN, freePort, migrate, ROOT, tempDir, wrangler, WorkerProcess } from '../support/worker';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
// A split-tunnel entry made outside edgeplane (as the Cloudflare sync would record one), inserted before start.
const FOREIGN_CIDR = '192.168.0.0/16';
const FOREIGN_SQL =
  'INSERT INTO split_tunnel_entries (id, account, profile, mode, address, host, target, description, owner, version, created_at, updated_at) ' +
  `VALUES ('st_foreign', '${DEMO_ACCOUNT}', 'default', 'include', '${FOREIGN_CIDR}', NULL, '${FOREIGN_CIDR}', 'home LAN (dashboard)', 'foreign', 1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')`;

let persistDir = '';
let worker: WorkerProcess | undefined;
let baseUrl = '';
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];
const pageProblems: string[] = [];

/** Calls the API directly, to check what the page did. */
async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  if (!worker) throw new Error('the Worker is not started');
  const response = await worker.api(method, path, body);
  return { status: response.status, body: (response.status === 204 ? null : await response.json()) as T };
}

/** Opens /admin in a fresh browser context and signs in with the given token. */
async function openAdmin(token = DEV_ADMIN_TOKEN): Promise<Page> {
  if (!browser) throw new Error('browser not started');
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  context.setDefaultTimeout(20_000);
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) pageProblems.push(`CSP: ${message.text()}`);
  });
  await page.goto(`${baseUrl}/admin`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  return page;
}

const cellTexts = (page: Page, rows: string, column: number) => page.locator(`${rows} td:nth-child(${column})`).allTextContents();

beforeAll(async () => {
  persistDir = tempDir('browser');
  migrate(persistDir);
  wrangler(['d1', 'execute', 'DB', '--local', '--persist-to', persistDir, '--command', FOREIGN_SQL]);
  worker = new WorkerProcess(await freePort(), persistDir);
  baseUrl = worker.url;
  await worker.start();
  expect(await seedDemo(baseUrl, DEV_ADMIN_TOKEN)).toBe(true);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}, 180_000);

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  expect(pageProblems.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  if (persistDir) rmSync(persistDir, { recursive: true, force: true });
}, 30_000);

describe('admin page', { timeout: 60_000 }, () => {
  it('is a static shell: no data, no auth needed, scripts limited by a nonce CSP', async () => {
    const response = await fetch(`${baseUrl}/admin`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = response.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    const html = await response.text();
    expect(html).toContain(`<script type="module" nonce="${nonce}">`);
    expect(html).not.toContain('oceanid');
    expect(html).not.toContain(DEV_ADMIN_TOKEN);
  });

  it('signs in with the token and lists the clusters', async () => {
    const page = await openAdmin();
    const oceanid = page.locator('[data-cluster="oceanid"]');
    await oceanid.waitFor();
    await page.locator('[data-cluster="trinity"]').waitFor();
    expect(await page.locator('#login').isHidden()).toBe(true);
    const cells = await oceanid.locator('td').allTextContents();
    expect(cells.slice(0, 3)).toEqual(['oceanid', 'Oceanid', 'never']);
    expect(cells[5]).toBe('never');
    expect(await cellTexts(page, '#clusters-body tbody tr', 1)).toEqual(['oceanid', 'trinity']);
  });

  it('shows each tunnel with its routes in the order listed (and the README screenshot)', async () => {
    const page = await openAdmin();
    await page.getByRole('tab', { name: 'Tunnels & routes' }).click();
    const trinity = '[data-tunnel="trinity"] tbody tr';
    await page.locator(trinity).first().waitFor();
    expect(await cellTexts(page, trinity, 2)).toEqual(['/admin', '/api', '/trinityai', '/']);
    expect(await cellTexts(page, trinity, 3)).toEqual([
      'trinity/trinity-admin:3000',
      'trinity/trinity-api:8080',
      'trinity/trinity-ai:8000',
      'trinity/trinity-web:80',
    ]);
    expect(await cellTexts(page, '[data-tunnel="gpu"] tbody tr', 3)).toEqual(['http://localhost:8000']);
    // The README's picture is refreshed on request only, so a test run leaves the work tree clean.
    const shot = process.env.EDGEPLANE_UPDATE_SCREENSHOT ? join(ROOT, 'docs/admin.png') : join(ROOT, '.test-results/admin.png');
    await page.screenshot({ path: shot, fullPage: true });
  });

  it('adds a route through the form', async () => {
    const page = await openAdmin();
    await page.getByRole('tab', { name: 'Tunnels & routes' }).click();
    await page.getByLabel('Tunnel', { exact: true }).selectOption('trinity');
    await page.getByLabel('Hostname', { exact: true }).fill('docs.example.com');
    await page.getByLabel('Path prefix (optional)', { exact: true }).fill('/v2');
    await page.getByLabel('Namespace', { exact: true }).fill('trinity');
    await page.getByLabel('Service name', { exact: true }).fill('trinity-docs');
    await page.getByLabel('Port', { exact: true }).fill('8081');
    await page.getByRole('button', { name: 'Add route' }).click();

    const row = page.locator('[data-tunnel="trinity"] tbody tr', { hasText: 'docs.example.com' });
    await row.waitFor();
    expect(await row.locator('td').allTextContents()).toEqual(['docs.example.com', '/v2', 'trinity/trinity-docs:8081', 'Delete']);
    const stored = await api<{ items: Route[] }>('GET', '/v1/routes?hostname=docs.example.com');
    expect(stored.body.items).toMatchObject([
      {
        tunnel: 'trinity',
        hostname: 'docs.example.com',
        path: '/v2',
        origin: { service: { namespace: 'trinity', name: 'trinity-docs', port: 8081 } },
      },
    ]);
  });

  it('shows the API field error for an invalid hostname and creates nothing', async () => {
    const body = { tunnel: 'main', hostname: 'https://bad.example.com', origin: { service: { namespace: 'apps', name: 'web', port: 80 } } };
    const direct = await api<ErrorEnvelope>('POST', '/v1/routes', body);
    expect(direct.status).toBe(422);
    const expected = direct.body.error.details?.find((d) => d.path === 'body.hostname')?.message;
    expect(expected).toBeTruthy();
    const before = await api<{ items: Route[] }>('GET', '/v1/routes?limit=500');

    const page = await openAdmin();
    await page.getByRole('tab', { name: 'Tunnels & routes' }).click();
    await page.getByLabel('Tunnel', { exact: true }).selectOption('main');
    await page.getByLabel('Hostname', { exact: true }).fill(body.hostname);
    await page.getByLabel('Namespace', { exact: true }).fill('apps');
    await page.getByLabel('Service name', { exact: true }).fill('web');
    await page.getByLabel('Port', { exact: true }).fill('80');
    await page.getByRole('button', { name: 'Add route' }).click();

    const fieldError = page.locator('#route-hostname-error');
    await expect.poll(() => fieldError.textContent()).toBe(expected);
    expect(await page.getByLabel('Hostname', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#route-error').textContent()).toBe(direct.body.error.message);
    expect(await page.locator('tr', { hasText: 'bad.example.com' }).count()).toBe(0);
    const after = await api<{ items: Route[] }>('GET', '/v1/routes?limit=500');
    expect(after.body.items.map((r) => r.id)).toEqual(before.body.items.map((r) => r.id));
  });

  it('deletes a route with If-Match', async () => {
    const created = await api<Route>('POST', '/v1/routes', {
      tunnel: 'main',
      hostname: 'delete-me.example.com',
      origin: { service: { namespace: 'apps', name: 'old', port: 80 } },
    });
    expect(created.status).toBe(201);
    const page = await openAdmin();
    await page.getByRole('tab', { name: 'Tunnels & routes' }).click();
    const row = page.locator(`[data-route="${created.body.id}"]`);
    await row.waitFor();

    page.once('dialog', (dialog) => void dialog.accept());
    const request = page.waitForRequest((r) => r.method() === 'DELETE');
    await page.getByRole('button', { name: 'Delete route delete-me.example.com' }).click();
    expect((await request).headers()['if-match']).toBe(created.body.etag);
    await row.waitFor({ state: 'detached' });
    expect((await api<ErrorEnvelope>('GET', `/v1/routes/${created.body.id}`)).status).toBe(404);
  });

  it('shows WARP entries by owner: edgeplane ones deletable, foreign ones read-only', async () => {
    const page = await openAdmin();
    await page.getByRole('tab', { name: 'WARP' }).click();
    for (const cidr of ['10.42.0.0/16', '10.43.0.0/16']) {
      const row = page.locator('#split-body tbody tr', { hasText: cidr });
      await row.waitFor();
      expect(await row.locator('.badge').textContent()).toBe('edgeplane');
      expect(await row.getByRole('button', { name: `Delete split-tunnel entry ${cidr}` }).count()).toBe(1);
    }
    const foreign = page.locator('#split-body tbody tr', { hasText: FOREIGN_CIDR });
    expect(await foreign.locator('.badge').textContent()).toBe('foreign (read-only)');
    expect(await foreign.getByRole('button').count()).toBe(0);
    expect(await cellTexts(page, '#networks-body tbody tr', 1)).toEqual(expect.arrayContaining(['10.42.0.0/16', '10.43.0.0/16']));
  });

  it('lists the audit log newest first', async () => {
    const newest = await api<{ items: { action: string; entityType: string; entityId: string }[] }>('GET', '/v1/audit?limit=2');
    const [first, second] = newest.body.items;
    if (!first || !second) throw new Error('expected audit entries after the earlier writes');
    const page = await openAdmin();
    await page.getByRole('tab', { name: 'Audit' }).click();
    const rows = '#audit-body tbody tr';
    await page.locator(rows).first().waitFor();
    expect((await cellTexts(page, rows, 4)).slice(0, 2)).toEqual([
      `${first.entityType} ${first.entityId}`,
      `${second.entityType} ${second.entityId}`,
    ]);
    expect((await cellTexts(page, rows, 3))[0]).toBe(first.action);
    expect((await cellTexts(page, rows, 2))[0]).toBe('dev-admin');
  });

  it('renders API values as text, never as markup', async () => {
    const name = '<img src=x onerror="window.pwned=1">';
    expect((await api('POST', '/v1/clusters', { id: 'escape-check', name })).status).toBe(201);
    const page = await openAdmin();
    const row = page.locator('[data-cluster="escape-check"]');
    await row.waitFor();
    expect(await row.locator('td').nth(1).textContent()).toBe(name);
    expect(await page.locator('#clusters-body img').count()).toBe(0);
    expect(await page.evaluate(() => 'pwned' in window)).toBe(false);
  });

  it('refuses a wrong token with the API message, and a 401 later returns to the login form', async () => {
    const page = await openAdmin('not-a-valid-token');
    const loginError = page.locator('#login-error');
    await expect.poll(() => loginError.textContent()).toContain('the bearer token is not valid');
    expect(await page.locator('#app').isHidden()).toBe(true);

    const again = await openAdmin();
    await again.locator('[data-cluster="oceanid"]').waitFor();
    await again.evaluate(() => sessionStorage.setItem('edgeplane.adminToken', 'revoked-token'));
    await again.getByRole('button', { name: 'Refresh' }).click();
    await again.getByLabel('API token').waitFor();
    expect(await again.locator('#login-error').textContent()).toContain('the bearer token is not valid');
    expect(await again.evaluate(() => sessionStorage.getItem('edgeplane.adminToken'))).toBeNull();
  });
});
