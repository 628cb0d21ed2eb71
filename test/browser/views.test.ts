// The console's operational views in Chromium against the real Worker (seeded demo, trinity's fake agent reporting a
// refused prune): prune approvals, the node egress matrix, inference traffic from a fake Triton, API tokens and agent
// re-registration. Each checks what the page shows against the API, and that a change made elsewhere (the API, the
// agent's report, a proxied call) shows without a reload.
import { mkdirSync } from 'node:fs';
import WebSocket from 'ws';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AgentStatus } from '../../src/shared/api/agent';
import type { AgentDryRunRequest, AgentDryRunResult } from '../../src/shared/api/cluster-dry-run';
import type { Cluster } from '../../src/shared/api/cluster';
import type { Probe } from '../../src/shared/api/probe';
import type { PruneApproval } from '../../src/shared/api/prune-approval';
import type { Token } from '../../src/shared/api/token';
import { startFakeTriton, type FakeTriton } from '../fakes/triton/server';
import { verdictBase } from '../support/dry-run';
import { ROOT } from '../support/worker';
import { startConsole, TRINITY_REPORT, type ConsoleFixture } from './console-fixture';
import { agentDesired, postAgentStatus } from './harness';

let fixture: ConsoleFixture | undefined;
let triton: FakeTriton | undefined;
const fx = (): ConsoleFixture => {
  if (!fixture) throw new Error('the console is not started');
  return fixture;
};

/** A viewer token made through the API, to check what a reader may not do. */
async function viewerToken(): Promise<string> {
  const created = await fx().api<{ secret: string }>('POST', '/v1/tokens', { name: `viewer-${Date.now()}`, role: 'viewer' });
  expect(created.status).toBe(201);
  return created.body.secret;
}

/** trinity's agent reports again for its current bundle, as TRINITY_REPORT says, plus finished probes. */
async function reportTrinity(probes: AgentStatus['probes'] = []): Promise<void> {
  const { worker, trinityAgent } = fx();
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
    probes,
  });
}

const texts = (page: Page, selector: string) => page.locator(selector).allTextContents();

beforeAll(async () => {
  [fixture, triton] = await Promise.all([startConsole(), startFakeTriton()]);
}, 180_000);

afterEach(async () => {
  expect(await fixture?.closePages()).toEqual([]);
});

afterAll(async () => {
  await fixture?.stop();
  await triton?.close();
}, 30_000);

describe('prune approvals', { timeout: 60_000 }, () => {
  it('shows the refused prune with its revision and objects; a viewer cannot approve; Approve records the approval', async () => {
    const { api } = fx();
    const reports = await api<{ items: { revision: number }[] }>('GET', '/v1/clusters/trinity/reports?limit=1');
    const revision = reports.body.items[0]?.revision;
    expect(revision).toBeGreaterThan(0);

    const viewer = await fx().open('agents', await viewerToken());
    const row = viewer.locator('[data-prune="trinity"]');
    await row.waitFor();
    expect(await row.locator('td:nth-child(3) p').first().textContent()).toBe(`Revision ${revision}: ${TRINITY_REPORT.pruneRefused}`);
    expect(await row.locator('td:nth-child(3) li').allTextContents()).toEqual(TRINITY_REPORT.pruneRefusedObjects);
    // A cluster whose agent never reported says so.
    expect(await viewer.locator('[data-prune="oceanid"] td:nth-child(3)').textContent()).toBe('not reported yet');
    // A viewer is offered no approval it could not make: the button is disabled and says why (GET /v1/me).
    const approve = row.getByRole('button', { name: `Approve the prune of revision ${revision} on trinity` });
    expect(await approve.isDisabled()).toBe(true);
    expect(await viewer.locator('#prune-role-trinity').textContent()).toBe('Approving needs an editor or admin token.');
    expect(await viewer.locator('#whoami').textContent()).toMatch(/^token:\S+ \(viewer\)$/);
    expect((await api<{ items: PruneApproval[] }>('GET', '/v1/clusters/trinity/prune-approvals')).body.items).toEqual([]);

    const page = await fx().open('agents');
    await page.locator('[data-prune="trinity"]').getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => page.locator('[data-prune="trinity"] td:nth-child(3)').textContent()).toMatch(/approved by dev-admin/);
    const approvals = (await api<{ items: PruneApproval[] }>('GET', '/v1/clusters/trinity/prune-approvals')).body.items;
    expect(approvals.map((a) => [a.revision, a.objects.length, a.usedAt])).toEqual([[revision, 3, null]]);
    expect(await texts(page, '[data-prune="trinity"] td:nth-child(4) li')).toEqual([
      expect.stringMatching(new RegExp(`^rev ${revision}, 3 objects, by dev-admin .*not used yet$`)),
    ]);
    // The viewer's page, left open, picks the approval up without a reload.
    await expect
      .poll(() => viewer.locator('[data-prune="trinity"] td:nth-child(3)').textContent(), { timeout: 10_000 })
      .toMatch(/approved by dev-admin/);
  });
});

describe('egress probes', { timeout: 60_000 }, () => {
  it('says no probe was reported, refuses a bad target inline, and shows the matrix the agent reports without a reload', async () => {
    const { api } = fx();
    const page = await fx().open('egress');
    const section = page.locator('[data-egress="trinity"]');
    await section.waitFor();
    expect(await section.locator('p').last().textContent()).toBe('no probe reported yet');

    await page.locator('#view-egress').getByLabel('Cluster').selectOption('trinity');
    await page.getByLabel(/^Targets/).fill('db.example.com');
    await page.getByRole('button', { name: 'Run probe' }).click();
    await expect.poll(() => page.locator('#probe-error').textContent()).toContain('body.targets.0.port');
    expect((await api<{ items: Probe[] }>('GET', '/v1/clusters/trinity/probes')).body.items).toEqual([]);

    await page.getByLabel(/^Targets/).fill('db.example.com:5432\nnope.invalid:443 tls');
    await page.getByRole('button', { name: 'Run probe' }).click();
    await expect.poll(() => section.textContent()).toContain('1 waiting for the agent');
    expect(await page.locator('#probe-error').textContent()).toBe('');
    const [probe] = (await api<{ items: Probe[] }>('GET', '/v1/clusters/trinity/probes')).body.items;
    expect(probe?.request.targets).toEqual([
      expect.objectContaining({ host: 'db.example.com', port: 5432, tls: false }),
      expect.objectContaining({ host: 'nope.invalid', port: 443, tls: true }),
    ]);

    // The agent runs it and reports; the open page shows the matrix on its own.
    await reportTrinity([
      {
        id: probe?.id ?? '',
        nodes: [
          {
            node: 'trinity-1',
            ran: true,
            outcomes: [
              { ok: true, ms: 12, address: '10.0.0.5:5432' },
              { ok: false, error: { kind: 'dns', message: 'getaddrinfo ENOTFOUND nope.invalid' } },
            ],
          },
        ],
      },
    ]);
    const matrix = section.locator('table.matrix');
    await matrix.waitFor({ timeout: 10_000 });
    expect(await texts(page, '[data-egress="trinity"] table.matrix thead th')).toEqual([
      'Node',
      'db.example.com:5432',
      'nope.invalid:443 (TLS)',
    ]);
    expect(await texts(page, '[data-egress="trinity"] [data-node="trinity-1"] > *')).toEqual([
      'trinity-1',
      'ok 12 ms10.0.0.5:5432',
      'dnsgetaddrinfo ENOTFOUND nope.invalid',
    ]);
    expect(await section.textContent()).not.toContain('waiting for the agent');
  });
});

// Retried once: wrangler dev's Node process has exited by itself during this test under load (an empty "[ERROR]",
// twice in about ten full runs, never elsewhere); the fixture restarts it on the same data (logged), and the retry
// then runs against it. A real failure fails both attempts.
describe('inference traffic', { timeout: 60_000, retry: 1 }, () => {
  it('says not reported yet before any call, then shows requests, errors and latency percentiles as they come', async () => {
    const { api, worker } = fx();
    // A retry starts from no backend (deleting one resets its metrics).
    expect([204, 404]).toContain((await api('DELETE', '/v1/inference/backends/triton')).status);
    expect((await api('POST', '/v1/inference/backends', { id: 'triton', upstreams: [{ url: triton?.urlOf('views') ?? '' }] })).status).toBe(
      201,
    );
    const page = await fx().open('inference');
    await page.locator('[data-backend="triton"]').waitFor();
    expect(await page.locator('[data-backend="triton"] td').last().textContent()).toBe('not reported yet');
    // The proxy's cached health probe of the fake Triton.
    await expect.poll(() => page.locator('[data-backend="triton"] [data-health]').getAttribute('data-health')).toBe('ready');
    expect(await page.locator('#metrics-table tbody').textContent()).toBe(
      'Not reported yet: no call has gone through the inference proxy.',
    );

    // Calls through the proxy (made elsewhere, with the admin token): two that Triton answers, one unknown model.
    for (const model of ['simple', 'simple', 'missing']) {
      const response = await worker.api('GET', `/inference/triton/v2/models/${model}`);
      expect(response.status).toBe(model === 'simple' ? 200 : 404);
    }
    const simple = page.locator('[data-metrics="triton/simple"] td');
    await simple.first().waitFor({ timeout: 10_000 });
    const cells = await simple.allTextContents();
    expect(cells.slice(0, 2)).toEqual(['triton', 'simple']);
    expect(cells[2]).toMatch(/^2\d/);
    expect(cells[3]).toBe('0 %');
    // A model Triton does not know (its 404) is counted as a server-level call, not as a model of its own.
    const server = await page.locator('[data-metrics="triton/"] td').allTextContents();
    expect(server[1]).toBe('(server calls)');
    expect(server[3]).toBe('100 %upstream_4xx 1');
    expect(await page.locator('[data-backend="triton"] td').last().textContent()).toBe('3 requests, 1 errors (33.3 %)');
    // The chart names its numbers for assistive technology, the same ones the metrics endpoint's histogram gives.
    const label = await page.locator('[data-metrics="triton/simple"] svg').getAttribute('aria-label');
    expect(label).toMatch(/^triton simple latency: p50 [\d.]+ ms, p95 [\d.]+ ms, p99 [\d.]+ ms$/);
    expect(await page.locator('[data-metrics="triton/simple"] svg rect').count()).toBe(3);

    // One more call shows without a reload, with a rate over the last interval.
    expect((await worker.api('GET', '/inference/triton/v2/models/simple')).status).toBe(200);
    await expect
      .poll(() => page.locator('[data-metrics="triton/simple"] td:nth-child(3)').textContent(), { timeout: 10_000 })
      .toMatch(/^3.*\/min \(last \d+ s\)/);
  });
});

describe('API tokens', { timeout: 60_000 }, () => {
  it('creates a token showing its secret once, refuses a bad one inline, lists and revokes', async () => {
    const { api, baseUrl } = fx();
    const page = await fx().open('tokens');
    await page.locator('#tokens-body table').waitFor();

    await page.getByLabel('Name', { exact: true }).fill('');
    await page.getByRole('button', { name: 'Create token' }).click();
    await expect.poll(() => page.locator('#token-error').textContent()).toContain('body.name');
    const before = (await api<{ items: Token[] }>('GET', '/v1/tokens?limit=500')).body.items.length;

    await page.getByLabel('Name', { exact: true }).fill('ci deploy');
    await page.getByLabel('Role').selectOption('editor');
    await page.getByLabel(/^Expires in days/).fill('30');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secretBox = page.locator('#token-secret-value');
    await expect.poll(() => secretBox.textContent()).not.toBe('');
    const secret = (await secretBox.textContent()) ?? '';
    expect(await page.locator('#token-error').textContent()).toBe('');
    const listed = (await api<{ items: Token[] }>('GET', '/v1/tokens?limit=500')).body.items;
    expect(listed).toHaveLength(before + 1);
    const created = listed.find((t) => t.name === 'ci deploy');
    expect(created?.role).toBe('editor');
    expect(created?.expiresAt).toBeTruthy();
    // The secret works, and the list never shows it.
    const use = await fetch(`${baseUrl}/v1/clusters`, { headers: { authorization: `Bearer ${secret}` } });
    expect(use.status).toBe(200);
    const row = page.locator(`[data-token="${created?.id ?? ''}"]`);
    await row.waitFor();
    expect(await page.locator('#tokens-body').textContent()).not.toContain(secret);
    await page.getByRole('button', { name: 'I have copied it' }).click();
    expect(await page.content()).not.toContain(secret);
    // Used once: the open list says when, without a reload.
    await expect.poll(() => row.locator('td:nth-child(5)').textContent(), { timeout: 10_000 }).not.toBe('never used');

    page.once('dialog', (dialog) => void dialog.accept());
    await row.getByRole('button', { name: 'Revoke token ci deploy' }).click();
    await row.waitFor({ state: 'detached' });
    expect((await fetch(`${baseUrl}/v1/clusters`, { headers: { authorization: `Bearer ${secret}` } })).status).toBe(401);
  });

  it('shows a token made elsewhere without a reload, and tells a viewer the list is the admin’s', async () => {
    const page = await fx().open('tokens');
    await page.locator('#tokens-body table').waitFor();
    const made = await fx().api<Token>('POST', '/v1/tokens', { name: 'made-by-cli', role: 'viewer' });
    await page.locator(`[data-token="${made.body.id}"]`).waitFor({ timeout: 10_000 });

    const viewer = await fx().open('tokens', await viewerToken());
    await expect.poll(() => viewer.locator('#tokens-body').textContent()).toMatch(/^Not shown: .*admin/);
  });
});

describe('agent re-registration', { timeout: 60_000 }, () => {
  // Before the admin's request below: a cluster whose re-registration is requested offers no button at all.
  it('offers an editor neither re-registration nor an install link (admin only), and says so', async () => {
    const created = await fx().api<{ secret: string; id: string }>('POST', '/v1/tokens', { name: `editor-${Date.now()}`, role: 'editor' });
    expect(created.status).toBe(201);
    const agents = await fx().open('agents', created.body.secret);
    const button = agents.getByRole('button', { name: 'Request re-registration of trinity' });
    await button.waitFor();
    expect(await button.isDisabled()).toBe(true);
    expect(await button.getAttribute('title')).toBe('needs an admin token');
    expect(await agents.locator('#whoami').textContent()).toBe(`token:${created.body.id} (editor)`);
    const install = await fx().open('install', created.body.secret);
    await expect.poll(() => install.locator('#install-role').textContent()).toBe('Installing a cluster needs an admin token.');
    expect(await install.getByRole('button', { name: 'Get install command' }).isDisabled()).toBe(true);
  });

  it('requests re-registration naming the current credential (admin), audited; a cluster with no agent offers none', async () => {
    const { api } = fx();
    const trinity = (await api<Cluster>('GET', '/v1/clusters/trinity')).body;
    expect(trinity.agentCredential).toBeTruthy();
    const page = await fx().open('agents');
    const row = page.locator('[data-registration="trinity"]');
    await row.waitFor();
    expect(await row.locator('td:nth-child(2)').textContent()).toBe(trinity.agentCredential);
    expect(await page.locator('[data-registration="oceanid"] td:nth-child(2)').textContent()).toBe('no agent registered yet');
    expect(await page.locator('[data-registration="oceanid"] button').count()).toBe(0);

    page.once('dialog', (dialog) => void dialog.accept());
    await row.getByRole('button', { name: 'Request re-registration of trinity' }).click();
    await expect.poll(() => row.locator('td:nth-child(4)').textContent()).toMatch(/^requested /);
    expect(await page.locator('#notice').textContent()).toContain('Re-registration of trinity requested');
    expect((await api<Cluster>('GET', '/v1/clusters/trinity')).body.reregistrationRequestedAt).toBeTruthy();
    const audit = await api<{ items: { action: string; actor: string }[] }>('GET', '/v1/audit?entityType=cluster&entityId=trinity&limit=5');
    expect(audit.body.items[0]).toEqual(expect.objectContaining({ actor: 'dev-admin', action: expect.stringMatching(/reregistration/) }));
  });
});

describe('plan preview with the cluster pre-flight', { timeout: 60_000 }, () => {
  it("shows what trinity's API server said of each object when the box is ticked (its agent answering), and nothing is written", async () => {
    const { worker, trinityAgent, api } = fx();
    // trinity's fake agent: the notify socket a real agent keeps open, then the dry run fetched and answered.
    const socket = new WebSocket(`${worker.url.replace('http', 'ws')}/agent/v1/notify`, {
      headers: { authorization: `Bearer ${trinityAgent}` },
    });
    const notified = new Promise<string>((resolve, reject) => {
      socket.on('message', (data: Buffer) => {
        const message = JSON.parse(data.toString()) as { dryRun?: string };
        if (message.dryRun) resolve(message.dryRun);
      });
      socket.once('error', reject);
    });
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    try {
      const page = await fx().open('tunnels');
      await page.locator('[data-tunnel="trinity"]').waitFor();
      await page.getByLabel('Tunnel', { exact: true }).selectOption('trinity');
      await page.getByLabel('Hostname', { exact: true }).fill('preflight.example.com');
      await page.getByLabel('Namespace', { exact: true }).fill('trinity');
      await page.getByLabel('Service name', { exact: true }).fill('trinity-api');
      await page.getByLabel('Port', { exact: true }).fill('8000');
      await page.getByLabel("with the cluster's pre-flight (its agent dry-runs the objects; up to 10 s)").check();
      await page.getByRole('button', { name: 'Preview plan' }).click();

      const id = await notified;
      const agentCall = (path: string, init: RequestInit = {}) =>
        fetch(`${worker.url}${path}`, {
          ...init,
          headers: { authorization: `Bearer ${trinityAgent}`, 'content-type': 'application/json' },
        });
      const { items } = (await (await agentCall('/agent/v1/dry-runs')).json()) as { items: AgentDryRunRequest[] };
      const request = items.find((i) => i.id === id);
      if (!request) throw new Error(`dry run ${id} not offered to the agent`);
      const result: AgentDryRunResult = {
        kubernetesVersion: 'v1.31.4+k3s1',
        objects: request.objects.map((o, i) => {
          const base = verdictBase(o);
          if (o.kind === 'Deployment')
            return { ...base, outcome: 'conflict' as const, conflicts: [{ field: '.spec.replicas', manager: 'kubectl-scale' }] };
          return i === 0
            ? { ...base, outcome: 'changed' as const, fields: ['.metadata.labels.team'] }
            : { ...base, outcome: 'unchanged' as const };
        }),
      };
      expect((await agentCall(`/agent/v1/dry-runs/${id}`, { method: 'POST', body: JSON.stringify(result) })).status).toBe(204);

      const preflight = page.locator('#plan-preview [data-dry-run="trinity"]');
      await preflight.waitFor({ timeout: 15_000 });
      expect(await preflight.locator('h5').textContent()).toMatch(/^Pre-flight \(server-side dry run\): completed .*1 changed.*1 conflict/);
      const deployment = result.objects.find((o) => o.kind === 'Deployment');
      expect(await preflight.locator('[data-outcome="conflict"]').textContent()).toBe(
        `conflict ${deployment?.key}: .spec.replicas owned by kubectl-scale`,
      );
      expect(await preflight.locator('[data-outcome="changed"]').textContent()).toContain(': .metadata.labels.team');
      expect(await preflight.locator('[data-outcome="unchanged"]').count()).toBe(0);
      // A preview writes nothing.
      expect((await api<{ items: unknown[] }>('GET', '/v1/routes?hostname=preflight.example.com')).body.items).toEqual([]);
    } finally {
      socket.close();
    }
  });
});

describe('live updates and keyboard focus', { timeout: 60_000 }, () => {
  it('keeps a keyboard user on the focused button across periodic redraws, while a change made through the API appears', async () => {
    const { api } = fx();
    const page = await fx().open('tunnels');
    const edit = page.getByRole('button', { name: /^Edit route / }).first();
    await edit.waitFor();
    const name = (await edit.getAttribute('aria-label')) ?? '';
    await edit.focus();
    // A route made elsewhere makes the tunnels view redraw its table on the next poll.
    const created = await api<{ id: string }>('POST', '/v1/routes', {
      tunnel: 'main',
      hostname: 'live.example.com',
      origin: { service: { namespace: 'apps', name: 'live', port: 80 } },
    });
    expect(created.status).toBe(201);
    await page.locator(`[data-route="${created.body.id}"]`).waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(name);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toMatch(/^Delete route /);
  });
});

describe('screenshots for the docs', { timeout: 60_000 }, () => {
  // Runs last, on the state the tests above left (a refused prune approved, a probe's matrix, inference traffic).
  // EDGEPLANE_UPDATE_SCREENSHOT=1 (npm run screenshots) writes them into docs/, where the README shows them.
  it.each([
    ['overview', '[data-cluster="trinity"]'],
    ['egress', '[data-egress="trinity"] table.matrix'],
    ['inference', '[data-metrics="triton/simple"] svg'],
    ['agents', '[data-prune="trinity"]'],
  ])('the %s view', async (view, ready) => {
    const page = await fx().open(view);
    await page.locator(ready).waitFor();
    await expect.poll(() => page.locator('#status').textContent()).toMatch(/^Updated /);
    const dir = process.env.EDGEPLANE_UPDATE_SCREENSHOT ? join(ROOT, 'docs') : join(ROOT, '.test-results');
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, `console-${view}.png`), fullPage: true });
  });
});
