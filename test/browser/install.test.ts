// The install flow in the console: create a cluster, get one `kubectl apply -f '<link>'` line, the link serves the
// manifest (no API token) until its expiry and is refused after it, and the cluster waits for its agent until the
// agent registers with the token of the manifest fetched in time. Real Worker (wrangler dev) and Debian's Chromium.
// There is no clock the tests can move inside workerd, so the link is minted for 6 seconds and the test waits them out.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { Browser, BrowserContext } from 'playwright-core';
import { parseAllDocuments } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorEnvelope } from '../../src/shared/api/common';
import { DEV_ADMIN_TOKEN, freePort, migrate, tempDir, WorkerProcess } from '../support/worker';
import { launchChromium, newContext, watchPage } from './harness';

let persistDir = '';
let worker: WorkerProcess | undefined;
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];
const pageProblems: string[] = [];

beforeAll(async () => {
  persistDir = tempDir('browser-install');
  migrate(persistDir);
  worker = new WorkerProcess(await freePort(), persistDir);
  await worker.start();
  browser = await launchChromium();
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

describe('Install a cluster', { timeout: 90_000 }, () => {
  it('gives a kubectl line whose link works once fetched and expires; the cluster waits for its agent until it registers', async () => {
    if (!browser || !worker) throw new Error('not started');
    const page = await (await newContext(browser, contexts)).newPage();
    watchPage(page, pageProblems);
    await page.goto(`${worker.url}/admin#/install`);
    await page.getByLabel('API token').fill(DEV_ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();

    // A bad id is refused inline by the API and creates nothing.
    await page.getByLabel('Cluster id').fill('Not_A_Label');
    await page.getByRole('button', { name: 'Get install command' }).click();
    await expect.poll(() => page.locator('#install-cluster-error').textContent()).not.toBe('');
    expect(((await (await worker.api('GET', '/v1/clusters')).json()) as { items: unknown[] }).items).toEqual([]);

    await page.getByLabel('Cluster id').fill('lab-1');
    await page.getByLabel('Name (for a new cluster)').fill('Lab one');
    await page.getByLabel('Link lifetime (minutes)').fill('0.1');
    await page.getByRole('button', { name: 'Get install command' }).click();
    const command = page.getByLabel('kubectl command to install the agent on lab-1');
    await command.waitFor();
    // Marked now, to show at the end that the periodic refreshes never rebuilt it (a selection in it would be lost).
    await command.evaluate((el) => el.setAttribute('data-test-mark', 'first'));
    const line = await command.inputValue();
    const url = /^kubectl apply -f '([^']+)'$/.exec(line)?.[1] ?? '';
    expect(url).toMatch(new RegExp(`^${worker.url}/install/lab-1\\.yaml\\?e=\\d+&n=[\\w-]+&s=[\\w-]+$`));
    expect(line).not.toMatch(/epb_|Bearer/);
    await expect.poll(() => page.locator('#install-expiry').textContent()).toContain('expires');
    await expect.poll(() => page.locator('#install-agent').textContent()).toContain('waiting for agent');
    await expect.poll(() => page.locator('#install-clusters tr[data-cluster="lab-1"]').textContent()).toContain('waiting for agent');

    // Fetched as kubectl fetches it: no Authorization header.
    const fetched = await fetch(url);
    expect(fetched.status).toBe(200);
    const manifest = await fetched.text();
    const token =
      parseAllDocuments(manifest)
        .map((d) => d.toJSON() as { kind?: string; stringData?: { token?: string } })
        .find((d) => d.kind === 'Secret')?.stringData?.token ?? '';
    expect(token).toMatch(/^epb_/);

    // Past its expiry the page says so, and the link is refused.
    await expect.poll(() => page.locator('#install-expiry').getAttribute('data-expired'), { timeout: 20_000 }).toBe('');
    expect(await page.locator('#install-expiry').textContent()).toContain('link expired');
    const refused = await fetch(url);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as ErrorEnvelope).error.message).toMatch(/this install link expired at .*; mint a new one/);
    expect(await page.locator('#install-agent').textContent()).toContain('waiting for agent');

    // The manifest fetched in time still registers its agent; the page shows it without a reload.
    const registered = await fetch(`${worker.url}/agent/v1/register`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        clusterId: 'lab-1',
        credential: `epa.lab-1.${randomBytes(32).toString('base64url')}`,
        identity: 'uid-lab-1',
        kubernetesVersion: 'v1.31.4+k3s1',
        nodeCount: 1,
        agentVersion: '0.1.0',
      }),
    });
    expect(registered.status).toBe(201);
    await expect.poll(() => page.locator('#install-agent').textContent(), { timeout: 15_000 }).toContain('agent registered');
    expect(await page.locator('#install-clusters tr[data-cluster="lab-1"]').textContent()).toContain('agent registered');
    expect(await command.getAttribute('data-test-mark')).toBe('first');
  });
});
