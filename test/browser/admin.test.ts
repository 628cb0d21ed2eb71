// Drives the console in Chromium against the real Worker (wrangler dev on a throwaway local D1, seeded with the demo,
// trinity's agent reporting through the agent protocol), and checks what each view shows against what the API holds.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNT, seedDemo } from '../../scripts/seed.mjs';
import type { ErrorEnvelope } from '../../src/shared/api/common';
import type { Route } from '../../src/shared/api/route';
import type { TunnelConfigResponse } from '../../src/shared/api/tunnel-config';
import { DEV_ADMIN_TOKEN, freePort, migrate, ROOT, tempDir, wrangler, WorkerProcess } from '../support/worker';
import { launchChromium, newContext, reportAsAgent, watchPage } from './harness';

// A split-tunnel entry made outside edgeplane (as the Cloudflare sync would record one), inserted before start.
const FOREIGN_CIDR = '192.168.0.0/16';
const FOREIGN_SQL =
  'INSERT INTO split_tunnel_entries (id, account, profile, mode, address, host, target, description, owner, version, created_at, updated_at) ' +
  `VALUES ('st_foreign', '${DEMO_ACCOUNT}', 'default', 'include', '${FOREIGN_CIDR}', NULL, '${FOREIGN_CIDR}', 'home LAN (dashboard)', 'foreign', 1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')`;
const SUGGESTION = 'no Service trinity/trinity-ai; did you mean trinity/trinity-inference (port 8000)?';
const CONFLICT = { object: 'apps/v1/Deployment/cloudflared/cloudflared-trinity', field: '.spec.replicas', manager: 'kubectl-scale' };
const PRUNE_REFUSED = 'would delete 9 of 12 objects, more than the limit of 5';

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

/** Opens a view of the console in a fresh browser context, signed in with the given token. */
async function openAdmin(view = 'overview', token = DEV_ADMIN_TOKEN): Promise<Page> {
  if (!browser) throw new Error('browser not started');
  const page = await (await newContext(browser, contexts)).newPage();
  watchPage(page, pageProblems);
  await page.goto(`${baseUrl}/admin#/${view}`);
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
  await reportAsAgent(worker, 'trinity', {
    broken: { 'trinity-ai': SUGGESTION },
    conflicts: [CONFLICT],
    pruneRefused: PRUNE_REFUSED,
    connectors: { desired: 2, ready: 1 },
  });
  browser = await launchChromium();
}, 180_000);

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  expect(pageProblems.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  if (process.env.DEBUG_WORKER) console.log(worker?.output.slice(-4000));
  await worker?.stop();
  if (persistDir) rmSync(persistDir, { recursive: true, force: true });
}, 30_000);

describe('the console shell', { timeout: 60_000 }, () => {
  it('holds no data and no inline script; its script and stylesheet load only with the request nonce', async () => {
    const response = await fetch(`${baseUrl}/admin`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = response.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await response.text();
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts).toHaveLength(1);
    expect(scripts[0]?.[1]).toContain(`src="/admin/assets/app.js" nonce="${nonce}"`);
    expect(scripts[0]?.[2]).toBe('');
    expect(html).not.toContain('oceanid');
    expect(html).not.toContain(DEV_ADMIN_TOKEN);
    // A second request gets another nonce.
    const again = (await fetch(`${baseUrl}/admin`)).headers.get('content-security-policy') ?? '';
    expect(again).not.toContain(nonce);

    const bundle = await fetch(`${baseUrl}/admin/assets/app.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(/javascript/);
    expect(bundle.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await bundle.text()).not.toMatch(/innerHTML|insertAdjacentHTML/);
  });

  it('refuses a wrong token with the API message, and a 401 later returns to the login form', async () => {
    const page = await openAdmin('overview', 'not-a-valid-token');
    await expect.poll(() => page.locator('#login-error').textContent()).toContain('the bearer token is not valid');
    expect(await page.locator('#app').isHidden()).toBe(true);

    const again = await openAdmin();
    await again.locator('[data-cluster="oceanid"]').waitFor();
    await again.evaluate(() => sessionStorage.setItem('edgeplane.adminToken', 'revoked-token'));
    await again.getByRole('button', { name: 'Refresh' }).click();
    await again.getByLabel('API token').waitFor();
    expect(await again.locator('#login-error').textContent()).toContain('the bearer token is not valid');
    expect(await again.evaluate(() => sessionStorage.getItem('edgeplane.adminToken'))).toBeNull();
  });

  it('renders API values as text, never as markup', async () => {
    const name = '<script>window.pwned=1</script><img src=x onerror="window.pwned=1">';
    expect((await api('POST', '/v1/clusters', { id: 'escape-check', name })).status).toBe(201);
    const page = await openAdmin();
    const row = page.locator('[data-cluster="escape-check"]');
    await row.waitFor();
    expect(await row.locator('td').nth(1).textContent()).toBe(name);
    expect(await page.locator('#clusters-body img, #clusters-body script').count()).toBe(0);
    expect(await page.evaluate(() => 'pwned' in window)).toBe(false);
    expect((await api('DELETE', '/v1/clusters/escape-check')).status).toBe(204);
  });
});

describe('overview', { timeout: 60_000 }, () => {
  it("shows each cluster's connection, revisions, health, conflicts and refused prune, and each tunnel's sync", async () => {
    const page = await openAdmin();
    const trinity = page.locator('[data-cluster="trinity"]');
    await trinity.waitFor();
    const cells = await trinity.locator('td').allTextContents();
    expect(cells.slice(0, 3)).toEqual(['trinity', 'Trinity', 'connected']);
    expect(cells[3]).not.toBe('never');
    expect(cells[4]).toMatch(/^\d+ \/ none applied$/); // conflicts: the agent reports applied: false
    expect(cells[5]).toContain('Failed');
    expect(cells[5]).toContain('connectors 1/2 ready');
    expect(cells[5]).toContain('1 origin not found');
    expect(cells[6]).toBe(`${CONFLICT.object} ${CONFLICT.field} owned by ${CONFLICT.manager}`);
    expect(cells[7]).toBe(PRUNE_REFUSED);

    // oceanid's agent never registered: nothing is invented for it.
    const oceanid = await page.locator('[data-cluster="oceanid"] td').allTextContents();
    expect(oceanid.slice(2, 8)).toEqual([
      'waiting for agent',
      'never',
      expect.stringContaining('none applied'),
      'not reported yet',
      'not reported yet',
      'not reported yet',
    ]);

    // The sync is pointed at a closed port and debounced for an hour: every tunnel's work is pending, none synced.
    const main = await page.locator('[data-tunnel-row="main"] td').allTextContents();
    expect(main[2]).toBe('not synced yet');
    expect(main[4]).toMatch(/^\d+ pending$/);
  });

  it('shows a change made through the API without a reload', async () => {
    const page = await openAdmin();
    await page.locator('[data-cluster="oceanid"]').waitFor();
    expect((await api('POST', '/v1/clusters', { id: 'late-arrival', name: 'Late arrival' })).status).toBe(201);
    await page.locator('[data-cluster="late-arrival"]').waitFor({ timeout: 15_000 });
    expect((await api('DELETE', '/v1/clusters/late-arrival')).status).toBe(204);
  });
});

describe('tunnels & routes', { timeout: 60_000 }, () => {
  it('lists routes in compiled order with DNS state and the agent origin check; a broken origin shows its suggestion', async () => {
    const compiled = await api<TunnelConfigResponse>('GET', '/v1/tunnels/trinity/config');
    const page = await openAdmin('tunnels');
    const rows = '[data-tunnel="trinity"] tbody tr';
    await page.locator(rows).first().waitFor();
    expect(await cellTexts(page, rows, 3)).toEqual(['/trinityai', '/admin', '/api', '/', '(any)']);
    expect(await cellTexts(page, rows, 3)).toEqual(
      compiled.body.config.ingress
        .map((r) => (r.path ? r.path.replace(/^\^/, '').replace('(/|$)', '') || '/' : '(any)'))
        .map((p) => (p === '/(/|$)' ? '/' : p)),
    );
    expect(await cellTexts(page, rows, 2)).toEqual([...Array(4).fill('trinity.example.com'), '(catch-all)']);
    expect((await cellTexts(page, rows, 4))[4]).toBe('http_status:404');
    expect(await cellTexts(page, rows, 5)).toEqual([...Array(4).fill('pending'), '—']);
    const checks = await cellTexts(page, rows, 6);
    expect(checks[0]).toBe(`broken ${SUGGESTION}`);
    expect(checks.slice(1, 4)).toEqual([
      'found Service trinity/trinity-admin has port 3000',
      'found Service trinity/trinity-api has port 8080',
      'found Service trinity/trinity-web has port 80',
    ]);
    // oceanid has no report: its Service origins are not invented as fine; gpu's URL origin is not an agent check.
    expect((await cellTexts(page, '[data-tunnel="gpu"] tbody tr', 6))[0]).toBe('URL origin: not checked by the agent');
    const shot = process.env.EDGEPLANE_UPDATE_SCREENSHOT ? join(ROOT, 'docs/admin.png') : join(ROOT, '.test-results/admin.png');
    await page.locator('[data-tunnel="trinity"]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: shot, fullPage: true });
  });

  it('shows an invalid hostname inline in the plan preview and saves nothing', async () => {
    const before = await api<{ items: Route[] }>('GET', '/v1/routes?limit=500');
    const page = await openAdmin('tunnels');
    await page.locator('[data-tunnel="main"]').waitFor();
    await page.getByLabel('Tunnel', { exact: true }).selectOption('main');
    await page.getByLabel('Hostname', { exact: true }).fill('https://bad.example.com');
    await page.getByLabel('Namespace', { exact: true }).fill('apps');
    await page.getByLabel('Service name', { exact: true }).fill('web');
    await page.getByLabel('Port', { exact: true }).fill('80');
    const plan = page.waitForResponse((r) => r.url().endsWith('/v1/plan'));
    await page.getByRole('button', { name: 'Preview plan' }).click();
    const answered = (await (await plan).json()) as ErrorEnvelope;
    const expected = answered.error.details?.find((d) => d.path.endsWith('route.hostname'))?.message;
    expect(expected).toContain('bad.example.com');
    await expect.poll(() => page.locator('#route-hostname-error').textContent()).toBe(expected);
    expect(await page.getByLabel('Hostname', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('button', { name: 'Save route' }).isDisabled()).toBe(true);
    const after = await api<{ items: Route[] }>('GET', '/v1/routes?limit=500');
    expect(after.body.items.map((r) => r.id)).toEqual(before.body.items.map((r) => r.id));
  });

  it('previews a valid route (Cloudflare rule and cluster objects), then saves it into compiled order', async () => {
    const page = await openAdmin('tunnels');
    await page.locator('[data-tunnel="trinity"]').waitFor();
    await page.getByLabel('Tunnel', { exact: true }).selectOption('trinity');
    await page.getByLabel('Hostname', { exact: true }).fill('trinity.example.com');
    await page.getByLabel('Path prefix (optional)', { exact: true }).fill('/api/v2');
    await page.getByLabel('Namespace', { exact: true }).fill('trinity');
    await page.getByLabel('Service name', { exact: true }).fill('trinity-api-v2');
    await page.getByLabel('Port', { exact: true }).fill('8081');
    expect(await page.getByRole('button', { name: 'Save route' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Preview plan' }).click();
    const preview = page.locator('#plan-preview');
    await preview.locator('[data-verdict="accepted"]').waitFor();
    expect(await preview.locator('[data-plan-tunnel="trinity"] [data-change="added"]').textContent()).toContain(
      'trinity.example.com ^/api/v2(/|$)',
    );
    expect(await preview.locator('[data-plan-cluster="trinity"]').textContent()).toBe('Cluster trinity: no Kubernetes object changes');
    // Nothing is written by a preview.
    expect((await api<{ items: Route[] }>('GET', '/v1/routes?hostname=trinity.example.com&limit=500')).body.items).toHaveLength(4);

    await page.getByRole('button', { name: 'Save route' }).click();
    const rows = '[data-tunnel="trinity"] tbody tr';
    await expect.poll(() => cellTexts(page, rows, 3)).toEqual(['/trinityai', '/api/v2', '/admin', '/api', '/', '(any)']);
    expect((await cellTexts(page, rows, 4))[1]).toBe('trinity/trinity-api-v2:8081 http');
    const stored = await api<{ items: Route[] }>('GET', '/v1/routes?hostname=trinity.example.com&limit=500');
    expect(stored.body.items.find((r) => r.path === '/api/v2')).toMatchObject({
      origin: { service: { namespace: 'trinity', name: 'trinity-api-v2', port: 8081 } },
    });
  });

  it('deletes a route with If-Match', async () => {
    const created = await api<Route>('POST', '/v1/routes', {
      tunnel: 'main',
      hostname: 'delete-me.example.com',
      origin: { service: { namespace: 'apps', name: 'old', port: 80 } },
    });
    expect(created.status).toBe(201);
    const page = await openAdmin('tunnels');
    const row = page.locator(`[data-route="${created.body.id}"]`);
    await row.waitFor();
    page.once('dialog', (dialog) => void dialog.accept());
    const request = page.waitForRequest((r) => r.method() === 'DELETE');
    await page.getByRole('button', { name: 'Delete route delete-me.example.com' }).click();
    expect((await request).headers()['if-match']).toBe(created.body.etag);
    await row.waitFor({ state: 'detached' });
    expect((await api<ErrorEnvelope>('GET', `/v1/routes/${created.body.id}`)).status).toBe(404);
  });

  it("takes a cloudflared path regex, shows RE2's refusal inline, and marks regex paths and origin kinds in the table", async () => {
    const page = await openAdmin('tunnels');
    await page.locator('[data-tunnel="main"]').waitFor();
    await page.getByLabel('Tunnel', { exact: true }).selectOption('main');
    await page.getByLabel('Hostname', { exact: true }).fill('php.example.com');
    await page.getByLabel('Path prefix (optional)', { exact: true }).fill('\\.php(?=$)');
    await page.getByLabel('The path is a cloudflared regular expression (RE2, unanchored)').check();
    await page.getByLabel('URL', { exact: true }).check();
    await page.getByLabel('Origin URL', { exact: true }).fill('http://php.apps:9000');
    await page.getByRole('button', { name: 'Preview plan' }).click();
    // Lookahead is not RE2: refused where the path is typed, and nothing is saved.
    await expect.poll(() => page.locator('#route-path-error').textContent()).toMatch(/pathRegex/);
    expect((await api<{ items: Route[] }>('GET', '/v1/routes?hostname=php.example.com')).body.items).toEqual([]);

    await page.getByLabel('Path prefix (optional)', { exact: true }).fill('\\.php$');
    await page.getByRole('button', { name: 'Preview plan' }).click();
    await page.locator('#plan-preview [data-verdict="accepted"]').waitFor();
    await page.getByRole('button', { name: 'Save route' }).click();
    const row = page.locator('[data-tunnel="main"] tr:has(td:text-is("php.example.com"))');
    await row.waitFor();
    expect(await row.locator('td[data-regex="true"]').textContent()).toBe('regex \\.php$');
    expect(await row.locator('[data-kind]').textContent()).toBe('http');
    const stored = (await api<{ items: Route[] }>('GET', '/v1/routes?hostname=php.example.com')).body.items;
    expect(stored).toMatchObject([{ path: null, pathRegex: '\\.php$', origin: { url: 'http://php.apps:9000' } }]);
    expect((await api('DELETE', `/v1/routes/${stored[0]?.id ?? ''}`)).status).toBe(204);
  });
});

describe('URL doctor', { timeout: 60_000 }, () => {
  async function diagnose(url: string): Promise<Page> {
    const page = await openAdmin('doctor');
    await page.getByLabel('URL to diagnose').fill(url);
    await page.getByRole('button', { name: 'Diagnose' }).click();
    await page.locator('#doctor-chain').waitFor();
    return page;
  }

  it('follows a URL to its broken origin and marks that link first', async () => {
    const page = await diagnose('https://trinity.example.com/trinityai/models');
    const links = page.locator('#doctor-chain li');
    expect(
      await links.evaluateAll((els) => els.map((e) => `${e.getAttribute('data-link') ?? ''}:${e.getAttribute('data-state') ?? ''}`)),
    ).toEqual(['Route:ok', 'DNS record:unknown', 'Rule:ok', 'Origin:broken', 'Connectors:degraded']);
    expect(await page.locator('#doctor-chain li[data-link="Connectors"]').textContent()).toContain('1 of 2 cloudflared replicas ready');
    const first = page.locator('#doctor-chain li[data-first-broken]');
    expect(await first.getAttribute('data-link')).toBe('Origin');
    expect(await first.textContent()).toContain(SUGGESTION);
    expect(await page.locator('#doctor-chain li[data-link="Rule"]').textContent()).toContain('rule 1');
  });

  it('says when no route serves the hostname', async () => {
    const page = await diagnose('https://nowhere.example.org/');
    expect(await page.locator('#doctor-chain li[data-first-broken]').textContent()).toContain(
      'no edgeplane route serves nowhere.example.org',
    );
  });
});

describe('WARP, workloads, inference and audit', { timeout: 60_000 }, () => {
  it('shows WARP entries by owner: edgeplane ones deletable, foreign ones read-only; the WARP kubectl path as warpAccess on the cluster says', async () => {
    const page = await openAdmin('warp');
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
    const oceanid = await page.locator('[data-warp-cluster="oceanid"] td').allTextContents();
    expect(oceanid[1]).toContain('10.43.0.0/16');
    // The WARP path check from the cluster's warpAccess: the seed has no agent, so the CA is missing among others.
    expect(oceanid[2]).toContain('incomplete');
    expect(await page.locator('[data-warp-cluster="oceanid"] li[data-reason="ca_not_reported"]').count()).toBe(1);
  });

  it('lists workloads and inference backends with what is not reported yet', async () => {
    expect(
      (
        await api('POST', '/v1/workloads', {
          id: 'label-studio',
          cluster: 'trinity',
          namespace: 'trinity',
          image: 'heartexlabs/label-studio:1.13.1',
          ports: [8080],
        })
      ).status,
    ).toBe(201);
    expect((await api('POST', '/v1/inference/backends', { id: 'triton', upstreams: [{ url: 'https://triton.example.com' }] })).status).toBe(
      201,
    );
    const page = await openAdmin('workloads');
    const workload = page.locator('[data-workload="label-studio"] td');
    await workload.first().waitFor();
    expect(await workload.allTextContents()).toEqual([
      'trinity/label-studio',
      'trinity',
      'heartexlabs/label-studio:1.13.1',
      'Deployment',
      '1',
      'none',
      'not reported yet',
    ]);
    await page.getByRole('tab', { name: 'Inference' }).click();
    const backend = page.locator('[data-backend="triton"] td');
    await backend.first().waitFor();
    // Health is the proxy's cached probe (GET /v1/inference/backends/:id/health): this upstream cannot be reached here.
    await expect.poll(async () => (await backend.allTextContents())[4]).toMatch(/^not ready .*\(probe [\d.]+ s old\)$/);
    expect((await backend.allTextContents()).slice(1)).toEqual([
      'https://triton.example.com ×1',
      'any',
      'priority',
      expect.stringMatching(/^not ready /),
      'not reported yet',
    ]);
  });

  it('filters the audit log by entity and shows the before/after diff', async () => {
    const created = await api<Route>('POST', '/v1/routes', {
      tunnel: 'main',
      hostname: 'audit.example.com',
      origin: { service: { namespace: 'apps', name: 'a', port: 80 } },
    });
    expect(
      (await api('PATCH', `/v1/routes/${created.body.id}`, { origin: { service: { namespace: 'apps', name: 'b', port: 81 } } })).status,
    ).toBe(200);
    const page = await openAdmin('audit');
    await page.locator('#audit-body tbody tr').first().waitFor();
    await page.getByLabel('Entity type').fill('route');
    await page.getByLabel('Entity id').fill(created.body.id);
    await page.getByRole('button', { name: 'Filter' }).click();
    const rows = page.locator('#audit-body > table > tbody > tr');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.locator('> td:nth-child(3)').allTextContents()).toEqual([
      expect.stringMatching(/update/),
      expect.stringMatching(/create/),
    ]);
    const update = rows.first();
    await update.getByText(/fields? changed/).click();
    const diff = await update
      .locator('details tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(diff).toEqual(
      expect.arrayContaining([
        ['origin.service.name', '"a"', '"b"'],
        ['origin.service.port', '80', '81'],
      ]),
    );
    expect((await rows.locator('> td:nth-child(2)').allTextContents())[0]).toBe('dev-admin');
  });
});
