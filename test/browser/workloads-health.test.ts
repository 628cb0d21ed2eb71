// The workloads view shows each workload's pods as the cluster's agent reported them (the list endpoint's `health`):
// status, ready count and every problem, as text. Real Worker (wrangler dev, local D1), Chromium, and a fake agent
// reporting through the agent protocol (test/browser/harness.ts).
import { rmSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Workload } from '../../src/shared/api/workload';
import { DEV_ADMIN_TOKEN, freePort, migrate, tempDir, WorkerProcess } from '../support/worker';
import { launchChromium, newContext, reportAsAgent, watchPage } from './harness';

const CLUSTER = 'shop';
// An image name is the user's text; a kubelet message can quote it back. It must stay text in the page.
const MARKUP = '<img src=x onerror="window.__injected=1">';
const crashLoop = {
  pod: 'api-7d9f-abcde',
  container: 'api',
  reason: 'CrashLoopBackOff',
  message: 'back-off 5m0s restarting failed container=api',
  restarts: 7,
  lastTermination: { reason: 'OOMKilled', exitCode: 137 },
};
const pullFailure = {
  pod: 'api-7d9f-fghij',
  container: 'api',
  reason: 'ImagePullBackOff',
  message: `Back-off pulling image "${MARKUP}": 401 Unauthorized`,
};

let dir = '';
let worker: WorkerProcess | undefined;
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];
const problems: string[] = [];

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  if (!worker) throw new Error('the Worker is not started');
  return worker.apiOk<T>(method, path, body);
}

async function openWorkloads(): Promise<Page> {
  if (!browser || !worker) throw new Error('not started');
  const page = await (await newContext(browser, contexts)).newPage();
  watchPage(page, problems);
  await page.goto(`${worker.url}/admin#/workloads`);
  await page.getByLabel('API token').fill(DEV_ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  return page;
}

beforeAll(async () => {
  dir = tempDir('workloads-health');
  migrate(dir);
  worker = new WorkerProcess(await freePort(), dir);
  await worker.start();
  await api('POST', '/v1/clusters', { id: CLUSTER, name: 'Shop' });
  for (const [id, image] of [
    ['api', 'ghcr.io/shop/api:2'],
    ['web', 'nginx:1.27'],
    ['queue', 'redis:7'],
  ] as const)
    await api('POST', '/v1/workloads', { id, cluster: CLUSTER, namespace: 'shop', image, ports: [8080] });
  // The agent reports api failing and web running; queue is not named (an older agent, or not yet seen).
  await reportAsAgent(worker, CLUSTER, {
    broken: {},
    conflicts: [],
    connectors: { desired: 0, ready: 0 },
    workloads: [
      { workload: 'api', namespace: 'shop', status: 'Failed', pods: 2, ready: 0, problems: [crashLoop, pullFailure] },
      { workload: 'web', namespace: 'shop', status: 'Current', pods: 2, ready: 2, problems: [] },
    ],
  });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  await browser?.close();
  await worker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('workload health in the console', { timeout: 60_000 }, () => {
  it('lists each workload with its pods’ health from the list endpoint, problems as text', async () => {
    // What the page reads: the list itself carries health (no per-workload GET).
    const list = await api<{ items: Workload[] }>('GET', `/v1/workloads?cluster=${CLUSTER}`);
    expect(list.items.map((w) => [w.id, w.health?.status ?? null, w.health?.problems.length ?? null])).toEqual([
      ['api', 'Failed', 2],
      ['queue', null, null],
      ['web', 'Current', 0],
    ]);

    const page = await openWorkloads();
    const health = (id: string) => page.locator(`[data-workload="${id}"] td`).last();
    await health('api').waitFor();
    expect(await health('api').locator('.badge').textContent()).toBe('Failed');
    expect(await health('api').locator('.badge.bad').count()).toBe(1);
    expect(await health('api').locator('li').allTextContents()).toEqual([
      'api-7d9f-abcde (api): CrashLoopBackOff — back-off 5m0s restarting failed container=api; 7 restarts; last exit 137 (OOMKilled)',
      `api-7d9f-fghij (api): ImagePullBackOff — Back-off pulling image "${MARKUP}": 401 Unauthorized`,
    ]);
    expect(await health('api').textContent()).toContain('0/2 pods ready');
    expect(await health('web').textContent()).toBe('Current 2/2 pods ready');
    expect(await health('web').locator('.badge.ok').count()).toBe(1);
    expect(await health('queue').textContent()).toBe('not reported yet');

    // The markup in the message stayed text: no element was made from it and nothing ran.
    expect(await page.locator('#workloads-body img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __injected?: number }).__injected)).toBeUndefined();
    expect(problems).toEqual([]);
  });
});
