import { env, SELF } from 'cloudflare:test';
import { expect } from 'vitest';
import { type Actor, type Deps, openDb } from '../../worker/deps';
import { parseConfig } from '../../worker/env';

export const TOKENS = {
  admin: 'test-admin-token-0123456789',
  editor: 'test-editor-token-0123456789',
  viewer: 'test-viewer-token-0123456789',
  inference: 'test-inference-token-0123456789',
} as const;
export type Role = keyof typeof TOKENS;

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Inserts one API token per role (idempotent), as an operator would have created them. */
export async function seedTokens(): Promise<void> {
  for (const [role, secret] of Object.entries(TOKENS)) {
    await env.DB.prepare(`INSERT OR IGNORE INTO api_tokens (id, name, hash, role, scopes, created_at) VALUES (?, ?, ?, ?, '[]', ?)`)
      .bind(`tok_test_${role}`, `test ${role}`, await sha256(secret), role, new Date().toISOString())
      .run();
  }
}

/** Calls the Worker with a role's token (or none) and a JSON body. */
export async function api(
  method: string,
  path: string,
  options: { role?: Role | null; body?: unknown; headers?: Record<string, string>; token?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token ?? (options.role === null ? undefined : TOKENS[options.role ?? 'admin']);
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  return SELF.fetch(`https://edgeplane.test${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
  });
}

export interface Envelope {
  error: { code: string; message: string; details?: { path: string; message: string }[]; requestId: string };
}

/** Asserts the one error envelope with a given status and code; returns it for further checks. */
export async function expectError(response: Response, status: number, code: string): Promise<Envelope> {
  const body = (await response.json()) as Envelope;
  expect({ status: response.status, code: body.error?.code }).toEqual({ status, code });
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(body.error.requestId).toBe(response.headers.get('x-request-id'));
  return body;
}

/** Counts rows of a table, for "nothing changed" assertions. */
export async function count(table: string, where = '1=1'): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${where}`).first<{ n: number }>();
  return row?.n ?? 0;
}

/** A snapshot of every table that a failed write must leave untouched. */
export async function storeSnapshot(): Promise<Record<string, unknown[]>> {
  const tables = [
    'clusters',
    'tunnels',
    'routes',
    'private_networks',
    'split_tunnel_entries',
    'workloads',
    'inference_backends',
    'ml_backends',
    'audit',
    'outbox',
  ];
  const snapshot: Record<string, unknown[]> = {};
  for (const t of tables) snapshot[t] = (await env.DB.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()).results;
  return snapshot;
}

let counter = 0;
/** A unique DNS-1123 id for a test's resources. */
export const uid = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

/** Deps for calling a service function directly, as a request would build them. */
export const serviceDeps = (actor: Actor = { id: 'test', role: 'admin' }): Deps => ({
  db: openDb(env.DB),
  config: parseConfig(env as unknown as Record<string, unknown>),
  env,
  now: () => new Date(),
  requestId: 'test-request',
  actor,
  defer: () => undefined,
});
