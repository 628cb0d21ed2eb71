// Shared by the browser tests: the real Worker under `wrangler dev` (its [build] bundles the console first), Debian's
// Chromium through playwright-core, and a fake agent that registers and reports like the real one.
import { randomBytes } from 'node:crypto';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { parseAllDocuments } from 'yaml';
import type { AgentStatus, DesiredBundle } from '../../src/shared/api/agent';
import { WorkerProcess } from '../support/worker';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const launchChromium = (): Promise<Browser> => chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });

/** Collects what must never happen on a page: script errors and CSP violations. */
export function watchPage(page: Page, problems: string[]): void {
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) problems.push(`CSP: ${message.text()}`);
  });
}

export async function newContext(
  browser: Browser,
  contexts: BrowserContext[],
  headers: Record<string, string> = {},
): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, extraHTTPHeaders: headers });
  context.setDefaultTimeout(20_000);
  contexts.push(context);
  return context;
}

export interface FakeReport {
  /** Origins (by Service name) the fake agent reports as missing, with its suggestion. */
  broken: Record<string, string>;
  conflicts: AgentStatus['conflicts'];
  pruneRefused?: string;
  /** The identity keys of the refused prune (what an approval of the revision covers). */
  pruneRefusedObjects?: string[];
  connectors: { desired: number; ready: number };
  /** Pod-level health per workload, as an agent with pod reads reports it. */
  workloads?: NonNullable<AgentStatus['health']['workloads']>;
}

/**
 * Registers a fake agent for the cluster (install manifest → bootstrap token → POST /agent/v1/register) and posts one
 * status report for its current desired bundle, checking every Service origin the bundle asks it to check. Answers the
 * agent's credential (for postAgentStatus).
 */
export async function reportAsAgent(worker: WorkerProcess, cluster: string, fake: FakeReport): Promise<string> {
  const manifest = await (await worker.api('GET', `/v1/clusters/${cluster}/install.yaml`)).text();
  const secret = parseAllDocuments(manifest)
    .map((d) => d.toJSON() as { kind?: string; stringData?: { token?: string } })
    .find((d) => d.kind === 'Secret')?.stringData?.token;
  if (!secret) throw new Error(`no bootstrap token in the install manifest of ${cluster}`);
  const credential = `epa.${cluster}.${randomBytes(32).toString('base64url')}`;
  const registered = await fetch(`${worker.url}/agent/v1/register`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      clusterId: cluster,
      credential,
      identity: `uid-${cluster}`,
      kubernetesVersion: 'v1.31.4+k3s1',
      nodeCount: 1,
      agentVersion: '0.1.0',
    }),
  });
  if (registered.status !== 201) throw new Error(`register answered ${registered.status}: ${await registered.text()}`);
  const agent = { authorization: `Bearer ${credential}` };
  const desired = (await (await fetch(`${worker.url}/agent/v1/desired`, { headers: agent })).json()) as DesiredBundle;
  const status: AgentStatus = {
    revision: desired.revision,
    hash: desired.hash,
    applied: fake.conflicts.length === 0,
    durationMs: 120,
    results: [],
    conflicts: fake.conflicts,
    pruned: [],
    ...(fake.pruneRefused ? { pruneRefused: fake.pruneRefused } : {}),
    ...(fake.pruneRefusedObjects ? { pruneRefusedObjects: fake.pruneRefusedObjects } : {}),
    health: {
      status: Object.keys(fake.broken).length ? 'Failed' : 'Current',
      objects: [],
      connectors: fake.connectors,
      ...(fake.workloads ? { workloads: fake.workloads } : {}),
      origins: desired.origins.map((o) => {
        const suggestion = fake.broken[o.name];
        return {
          route: o.route,
          hostname: o.hostname,
          service: `${o.namespace}/${o.name}:${o.port}`,
          ok: suggestion === undefined,
          message: suggestion ?? `Service ${o.namespace}/${o.name} has port ${o.port}`,
        };
      }),
    },
    agentVersion: '0.1.0',
  };
  const posted = await fetch(`${worker.url}/agent/v1/status`, {
    method: 'POST',
    headers: { ...agent, 'content-type': 'application/json' },
    body: JSON.stringify(status),
  });
  if (posted.status >= 300) throw new Error(`status answered ${posted.status}: ${await posted.text()}`);
  return credential;
}

/** The registered fake agent's current bundle (what it would apply next). */
export async function agentDesired(worker: WorkerProcess, credential: string): Promise<DesiredBundle> {
  const response = await fetch(`${worker.url}/agent/v1/desired`, { headers: { authorization: `Bearer ${credential}` } });
  if (response.status !== 200) throw new Error(`desired answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as DesiredBundle;
}

/** Posts one more status report as the registered fake agent. */
export async function postAgentStatus(worker: WorkerProcess, credential: string, status: AgentStatus): Promise<void> {
  const posted = await fetch(`${worker.url}/agent/v1/status`, {
    method: 'POST',
    headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
    body: JSON.stringify(status),
  });
  if (posted.status >= 300) throw new Error(`status answered ${posted.status}: ${await posted.text()}`);
}
