// The console against the real Worker for the axe and view tests: wrangler dev on a throwaway local D1 seeded with the
// demo, trinity's fake agent reporting a broken origin, a field conflict and a refused prune, and Chromium.
import { rmSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import { seedDemo } from '../../scripts/seed.mjs';
import { DEV_ADMIN_TOKEN, freePort, migrate, tempDir, WorkerProcess } from '../support/worker';
import { launchChromium, newContext, reportAsAgent, watchPage, type FakeReport } from './harness';

export const TRINITY_REPORT: FakeReport = {
  broken: { 'trinity-ai': 'no Service trinity/trinity-ai; did you mean trinity/trinity-inference (port 8000)?' },
  conflicts: [{ object: 'apps/v1/Deployment/cloudflared/cloudflared-trinity', field: '.spec.replicas', manager: 'kubectl-scale' }],
  pruneRefused: 'would delete 3 objects, more than the limit of 2',
  pruneRefusedObjects: ['apps/Deployment/trinity/old-a', '/Service/trinity/old-a', 'apps/Deployment/trinity/old-b'],
  connectors: { desired: 2, ready: 1 },
};

export interface ConsoleFixture {
  worker: WorkerProcess;
  baseUrl: string;
  /** trinity's fake agent credential, to post more reports. */
  trinityAgent: string;
  /** Calls the API directly (as the dev admin), to arrange state or check what the page did. */
  api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Opens a view in a fresh browser context, signed in with the token (the dev admin's by default). */
  open(view: string, token?: string): Promise<Page>;
  /** Closes the pages of one test and returns what went wrong on them (script errors, CSP violations). */
  closePages(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startConsole(): Promise<ConsoleFixture> {
  const persistDir = tempDir('browser-views');
  migrate(persistDir);
  const worker = new WorkerProcess(await freePort(), persistDir);
  await worker.start();
  const baseUrl = worker.url;
  expect(await seedDemo(baseUrl, DEV_ADMIN_TOKEN)).toBe(true);
  const trinityAgent = await reportAsAgent(worker, 'trinity', TRINITY_REPORT);
  const browser: Browser = await launchChromium();
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];

  return {
    worker,
    baseUrl,
    trinityAgent,
    async api<T>(method: string, path: string, body?: unknown) {
      await worker.restartIfExited();
      const response = await worker.api(method, path, body);
      return { status: response.status, body: (response.status === 204 ? null : await response.json()) as T };
    },
    async open(view: string, token = DEV_ADMIN_TOKEN) {
      await worker.restartIfExited();
      const page = await (await newContext(browser, contexts)).newPage();
      watchPage(page, problems);
      await page.goto(`${baseUrl}/admin#/${view}`).catch((error: unknown) => {
        // "Connection refused" says nothing of why the Worker went away: its own last words do.
        throw new Error(`${String(error)}\nwrangler dev's last output:\n${worker.output.slice(-4000)}`);
      });
      await page.getByLabel('API token').fill(token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      return page;
    },
    async closePages() {
      await Promise.all(contexts.splice(0).map((context) => context.close()));
      return problems.splice(0);
    },
    async stop() {
      await browser.close();
      if (process.env.DEBUG_WORKER) console.log(worker.output.slice(-4000));
      await worker.stop();
      rmSync(persistDir, { recursive: true, force: true });
    },
  };
}
