// axe-core on every view of the console (and the login form), against the real Worker with the seeded demo and a
// reporting agent: no serious or critical violation. axe's source is evaluated through the DevTools protocol
// (page.evaluate), which the page's CSP does not govern, so the CSP stays exactly as served and any violation the
// console itself causes is still caught by watchPage.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Probe } from '../../src/shared/api/probe';
import { startFakeTriton, type FakeTriton } from '../fakes/triton/server';
import { startConsole, TRINITY_REPORT, type ConsoleFixture } from './console-fixture';
import { agentDesired, postAgentStatus } from './harness';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** Runs axe on the page as it is now; answers its serious and critical violations in a readable form. */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, options: object): Promise<{ violations: unknown[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations as Violation[];
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.impact} ${v.id} (${v.help}) at ${n.target.join(' ')}: ${n.failureSummary ?? ''}`));
}

let fixture: ConsoleFixture | undefined;
let triton: FakeTriton | undefined;
const console_ = (): ConsoleFixture => {
  if (!fixture) throw new Error('the console is not started');
  return fixture;
};

beforeAll(async () => {
  [fixture, triton] = await Promise.all([startConsole(), startFakeTriton()]);
  const { api, worker, trinityAgent } = fixture;
  // Data in the views that would otherwise be empty: a workload, inference traffic, an egress matrix with an error.
  await api('POST', '/v1/workloads', {
    id: 'label-studio',
    cluster: 'trinity',
    namespace: 'trinity',
    image: 'heartexlabs/label-studio:1.13.1',
  });
  await api('POST', '/v1/inference/backends', { id: 'triton', upstreams: [{ url: triton.urlOf('axe') }] });
  for (const model of ['simple', 'missing']) await worker.api('GET', `/inference/triton/v2/models/${model}`);
  const probe = await api<Probe>('POST', '/v1/clusters/trinity/probes', {
    targets: [
      { host: 'db.example.com', port: 5432 },
      { host: 'x.invalid', port: 443 },
    ],
  });
  expect(probe.status).toBe(201);
  const desired = await agentDesired(worker, trinityAgent);
  await postAgentStatus(worker, trinityAgent, {
    revision: desired.revision,
    hash: desired.hash,
    applied: false,
    durationMs: 80,
    results: [],
    conflicts: TRINITY_REPORT.conflicts,
    pruned: [],
    pruneRefused: TRINITY_REPORT.pruneRefused,
    pruneRefusedObjects: TRINITY_REPORT.pruneRefusedObjects,
    health: { status: 'Current', objects: [], connectors: TRINITY_REPORT.connectors, origins: [] },
    agentVersion: '0.1.0',
    probes: [
      {
        id: probe.body.id,
        nodes: [
          {
            node: 'trinity-1',
            ran: true,
            outcomes: [
              { ok: true, ms: 9 },
              { ok: false, error: { kind: 'dns', message: 'ENOTFOUND x.invalid' } },
            ],
          },
        ],
      },
    ],
  });
}, 180_000);

afterEach(async () => {
  expect(await fixture?.closePages()).toEqual([]);
});

afterAll(async () => {
  await fixture?.stop();
  await triton?.close();
}, 30_000);

describe('accessibility (axe-core)', { timeout: 120_000 }, () => {
  it('the dev login form has no serious or critical violation', async () => {
    const page = await console_().open('overview', 'not-a-valid-token');
    await expect.poll(() => page.locator('#login-error').textContent()).not.toBe('');
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('finds what it should: an unlabelled field added to a view is a critical violation', async () => {
    const page = await console_().open('overview');
    await page.locator('[data-cluster="trinity"]').waitFor();
    await page.evaluate(() => document.getElementById('view-overview')?.append(document.createElement('input')));
    expect((await seriousViolations(page)).join('\n')).toMatch(/critical label/);
  });

  it('every view, loaded with its data, has no serious or critical violation', async () => {
    const page = await console_().open('overview');
    await page.locator('[data-cluster="trinity"]').waitFor();
    // Every tab the console offers, so a view added later is checked without touching this test.
    const tabs = await page.getByRole('tab').evaluateAll((els) => els.map((el) => el.id.replace(/^tab-/, '')));
    expect(tabs.length).toBeGreaterThanOrEqual(7);
    const found: Record<string, string[]> = {};
    for (const id of tabs) {
      await page.locator(`#tab-${id}`).click();
      await expect.poll(() => page.locator(`#view-${id}`).isVisible()).toBe(true);
      // Loaded: the status line says when (it says "Loading…" while the view's calls run).
      await expect.poll(() => page.locator('#status').textContent()).toMatch(/^Updated /);
      // With its data: the egress matrix and the inference chart are part of what is checked.
      if (id === 'egress') await page.locator('table.matrix').waitFor();
      if (id === 'inference') await page.locator('#metrics-table svg').first().waitFor();
      const violations = await seriousViolations(page);
      if (violations.length) found[id] = violations;
    }
    expect(found).toEqual({});
  });

  it('the tabs are reachable and operable from the keyboard, with a visible focus indicator', async () => {
    const page = await console_().open('overview');
    await page.locator('[data-cluster="trinity"]').waitFor();
    // From the top of the document, Tab reaches the selected tab first (the others are reached with the arrow keys).
    await page.locator('header h1').click();
    await page.keyboard.press('Tab');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('tab-overview');
    const outline = await page.locator('#tab-overview').evaluate((el) => {
      const style = getComputedStyle(el);
      return { width: style.outlineWidth, style: style.outlineStyle };
    });
    expect(outline.style).not.toBe('none');
    expect(outline.width).not.toBe('0px');
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('tab-tunnels');
    await expect.poll(() => page.locator('#view-tunnels').isVisible()).toBe(true);
    await page.keyboard.press('End');
    const last = await page.getByRole('tab').last().getAttribute('id');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe(last);
    await page.keyboard.press('Home');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('tab-overview');
  });
});
