import { env, runInDurableObject } from 'cloudflare:test';
import { expect } from 'vitest';
import type { AccountWriter } from '../../worker/sync/account-writer';
import type { DrainReport } from '../../worker/sync/drain';
import type { DriftReport } from '../../worker/sync/drift';
import { tokenBudgetName } from '../../worker/sync/token-budget';
import { api, uid } from './helpers';

// The sync tests drive the account writer deterministically (no alarms, no sleeps) against the Cloudflare fake.
// Each test uses its own account, so tests and files sharing the fake never see each other's state or calls.

export interface FakeRecord {
  id: string;
  name: string;
  type: string;
  content: string;
  proxied: boolean;
  comment: string | null;
}
export interface FakeSnapshot {
  tunnels: { id: string; name: string; deleted_at: string | null; config_src: string }[];
  configs: Record<string, { version: number; config: { ingress: { hostname?: string; path?: string; service: string }[] } | null } | null>;
  routes: { id: string; network: string; tunnel_id: string; comment: string; deleted_at: string | null }[];
  zones: { id: string; name: string }[];
  records: FakeRecord[];
  splitTunnel: Record<string, { address?: string; host?: string; description: string }[]>;
}
export interface FakeCall {
  token: string;
  method: string;
  path: string;
  operationId: string;
  status: number;
}

const hex = (bytes: number): string =>
  [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');

/** A fresh Cloudflare account id for one test. */
export const newAccount = (): string => hex(16);

async function control<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${env.TEST_CLOUDFLARE_FAKE}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const envelope = (await response.json()) as { success: boolean; result: T };
  expect(envelope.success, `fake control ${method} ${path}`).toBe(true);
  return envelope.result;
}

export const fake = {
  zone: (account: string, name: string) => control<{ id: string; name: string }>('POST', '/__fake/zones', { account, name }),
  policy: (account: string, name: string) => control<{ policy_id: string }>('POST', '/__fake/policies', { account, name }),
  state: (account: string) => control<FakeSnapshot>('GET', `/__fake/state?account=${account}`),
  calls: async (account: string) => (await control<{ count: number; calls: FakeCall[] }>('GET', `/__fake/calls?account=${account}`)).calls,
  violations: (account: string) => control<unknown[]>('GET', `/__fake/violations?account=${account}`),
  /** Requests per token hash (first 16 hex digits of its SHA-256), across every account. */
  tokens: () => control<Record<string, number>>('GET', '/__fake/tokens'),
  fault: (fault: {
    account: string;
    method?: string;
    path?: string;
    status?: number;
    retryAfter?: number;
    hang?: boolean;
    times: number;
  }) => control('POST', '/__fake/faults', fault),
  /** The account's DNS batch policy in the fake: refused with a status (null serves batches again), records per batch. */
  batch: (account: string, policy: { refuse?: { status: number; code?: number } | null; limit?: number }) =>
    control('POST', '/__fake/batch', { account, ...policy }),
  clearFaults: (account: string) => control('DELETE', `/__fake/faults?account=${account}`),
  connect: (tunnelId: string) => control('POST', '/__fake/connections', { tunnelId }),
  /** Calls the Cloudflare API of the fake as the dashboard or another tool would (validated like any request). */
  async api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${env.CLOUDFLARE_API_BASE_URL}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${env.CLOUDFLARE_API_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const envelope = (await response.json()) as { success: boolean; result: T; errors: unknown[] };
    expect(envelope.success, `${method} ${path}: ${JSON.stringify(envelope.errors)}`).toBe(true);
    return envelope.result;
  },
};

// The class is typed with the Worker's Env; the tests' Cloudflare.Env adds test bindings, so the instance type is
// not assignable by name, only by what the tests call.
const asWriter = (instance: unknown): Pick<AccountWriter, 'drain' | 'driftCheck'> =>
  instance as Pick<AccountWriter, 'drain' | 'driftCheck'>;

const writer = (account: string) => env.ACCOUNT_WRITER.get(env.ACCOUNT_WRITER.idFromName(account));

/** Runs one drain of the account's outbox inside its Durable Object and returns its report. */
export const drain = (account: string): Promise<DrainReport> =>
  runInDurableObject(writer(account), (instance) => asWriter(instance).drain(account));

/** Runs the drift check of the account inside its Durable Object. */
export const driftCheck = (account: string): Promise<DriftReport> =>
  runInDurableObject(writer(account), (instance) => asWriter(instance).driftCheck(account));

/** Drains until nothing is due now (retries scheduled for later stay scheduled); at most `max` rounds. */
export async function drainAll(account: string, max = 5): Promise<DrainReport[]> {
  const reports: DrainReport[] = [];
  for (let i = 0; i < max; i++) {
    const report = await drain(account);
    reports.push(report);
    if (report.targets === 0) break;
  }
  return reports;
}

/** Makes every pending outbox row of the account due now (the test's stand-in for waiting out a backoff). */
export async function makeRetriesDue(account: string): Promise<void> {
  await env.DB.prepare(`UPDATE outbox SET next_attempt_at = NULL WHERE account = ? AND status = 'pending'`).bind(account).run();
}

/** Rows of the outbox of an account that are not done. */
export async function pendingRows(
  account: string,
): Promise<{ kind: string; target: string; attempts: number; last_error: string | null }[]> {
  const result = await env.DB.prepare(
    `SELECT kind, target, attempts, last_error FROM outbox WHERE account = ? AND status = 'pending' ORDER BY id`,
  )
    .bind(account)
    .all();
  return result.results as { kind: string; target: string; attempts: number; last_error: string | null }[];
}

/** A cluster and a tunnel of `account` through the API, and a zone for its hostnames in the fake. */
export async function setup(
  options: { driftPolicy?: 'alert' | 'revert' } = {},
): Promise<{ account: string; cluster: string; tunnel: string; zone: string }> {
  const account = newAccount();
  const zone = `${uid('z')}.example.com`;
  await fake.zone(account, zone);
  const cluster = uid('c');
  const tunnel = uid('t');
  expect((await api('POST', '/v1/clusters', { body: { id: cluster, name: cluster } })).status).toBe(201);
  const created = await api('POST', '/v1/tunnels', { body: { id: tunnel, cluster, account, driftPolicy: options.driftPolicy ?? 'alert' } });
  expect(created.status).toBe(201);
  return { account, cluster, tunnel, zone };
}

/** Creates a route through the API; returns its id and etag. */
export async function addRoute(
  tunnel: string,
  hostname: string,
  extra: Record<string, unknown> = {},
): Promise<{ id: string; etag: string }> {
  const response = await api('POST', '/v1/routes', {
    body: { tunnel, hostname, origin: { url: 'http://web.apps.svc.cluster.local:80' }, ...extra },
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as { id: string; etag: string };
}

/** The Cloudflare tunnel id D1 holds for a tunnel. */
export async function cloudflareTunnelId(tunnel: string): Promise<string> {
  const row = await env.DB.prepare('SELECT cloudflare_tunnel_id AS id FROM tunnels WHERE id = ?')
    .bind(tunnel)
    .first<{ id: string | null }>();
  expect(row?.id).toBeTruthy();
  return row?.id ?? '';
}

/** Asserts that the fake recorded no request that broke the Cloudflare contract for this account. */
export async function expectNoViolations(account: string): Promise<void> {
  expect(await fake.violations(account)).toEqual([]);
}

/** The shared rate budget of the API token every account of the tests uses (one token, one budget). */
export const tokenBudgetStub = async () =>
  env.TOKEN_BUDGET.get(env.TOKEN_BUDGET.idFromName(await tokenBudgetName(env.CLOUDFLARE_API_TOKEN)));

/** Clears the token's rate-limit memory: the test's stand-in for the retry-after period having passed. */
export async function forgetRateLimit(): Promise<void> {
  await (await tokenBudgetStub()).reset();
}

/** GET /v1/sync as a viewer. */
export async function syncStatus(): Promise<{
  accounts: { account: string; pending: number; waiting: string | null; rateLimitedUntil: string | null }[];
  targets: {
    account: string;
    kind: string;
    target: string;
    lastError: string | null;
    attempts: number;
    pending: number;
    remoteName: string | null;
    remoteVersion: number | null;
    conflict: string | null;
    drift: { summary: string; reverted: boolean } | null;
    lastSuccessAt: string | null;
  }[];
}> {
  const response = await api('GET', '/v1/sync', { role: 'viewer' });
  expect(response.status).toBe(200);
  return response.json();
}
