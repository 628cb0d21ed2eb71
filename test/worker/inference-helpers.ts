import { env, SELF } from 'cloudflare:test';
import { expect } from 'vitest';
import { api, uid } from './helpers';

/** What the fake Triton recorded of one request (test/fakes/triton/server.ts). */
export interface Received {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  bytes: number;
  sha256: string;
  responseSha256?: string;
}

/** A fresh instance of the fake Triton: its base URL and its control calls. */
export function tritonInstance(name = uid('t')) {
  const control = (action: string, body?: unknown) =>
    fetch(`${env.TEST_TRITON_FAKE}/__fake/${name}/${action}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
  return {
    name,
    url: `${env.TEST_TRITON_FAKE}/i/${name}`,
    received: async (): Promise<Received[]> => (await control('requests')).json(),
    set: async (switches: Record<string, unknown>) => void (await (await control('switch', switches)).text()),
    release: async () => void (await (await control('release', {})).text()),
  };
}

/** Creates an inference backend through the API and returns its id. */
export async function createBackend(body: Record<string, unknown>): Promise<string> {
  const response = await api('POST', '/v1/inference/backends', { body });
  expect(response.status, await response.clone().text()).toBe(201);
  return (body.id as string | undefined) ?? '';
}

/** Creates an API token through the API and returns its secret. */
export async function createToken(role: string, scopes: string[] = []): Promise<string> {
  const response = await api('POST', '/v1/tokens', { body: { name: uid('tok'), role, scopes } });
  expect(response.status).toBe(201);
  return ((await response.json()) as { secret: string }).secret;
}

/** Calls the Worker with a token and any body (bytes, stream or text). */
export const call = (path: string, token: string | undefined, init: RequestInit = {}) =>
  SELF.fetch(`https://edgeplane.test${path}`, {
    ...init,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string> | undefined) },
  });

/** SHA-256 of bytes, hex. */
export async function sha256(data: ArrayBuffer | Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', data);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** n random bytes (getRandomValues fills at most 64 KiB at a time). */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65536) crypto.getRandomValues(out.subarray(at, Math.min(n, at + 65536)));
  return out;
}
