import { eq } from 'drizzle-orm';
import type { InstallLink } from '../../src/shared/api';
import { constantTimeEqual, secretHash, requireEncryptionKey } from '../crypto';
import { fingerprintOf } from '../db/mappers';
import { bootstrapTokens } from '../db/schema';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { BOOTSTRAP_TTL_HOURS, issueBootstrapToken } from './bootstrap-tokens';
import { loadCluster } from './clusters';

const encoder = new TextEncoder();

const base64url = (bytes: ArrayBuffer | Uint8Array): string =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/**
 * The install-link key: HKDF of EDGEPLANE_ENCRYPTION_KEY with its own label, so links need no second secret to
 * configure and a signature can never be confused with anything else the key does (rotating the key kills every link).
 */
async function linkKey(deps: Deps): Promise<CryptoKey> {
  const secret = requireEncryptionKey(deps.config, 'install links cannot be signed');
  const raw = Uint8Array.from(atob(secret), (c) => c.charCodeAt(0));
  const base = await crypto.subtle.importKey('raw', raw, 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: encoder.encode('edgeplane install-link v1') },
    base,
    { name: 'HMAC', hash: 'SHA-256', length: 256 },
    false,
    ['sign'],
  );
}

const mac = async (key: CryptoKey, text: string): Promise<string> => base64url(await crypto.subtle.sign('HMAC', key, encoder.encode(text)));

/** What the signature covers: purpose, cluster, expiry and nonce, each on its own line (no field can bleed into another). */
const signed = (cluster: string, expires: number, nonce: string) => `install-link\n${cluster}\n${expires}\n${nonce}`;

/**
 * The bootstrap token a link carries, derived from its nonce: the manifest can be served again from the link alone,
 * while D1 keeps only the token's hash (as for every bootstrap token).
 */
const linkToken = async (key: CryptoKey, cluster: string, nonce: string) =>
  `epb_${await mac(key, `bootstrap-token\n${cluster}\n${nonce}`)}`;

/** The query parameters of a link: expiry (unix seconds), nonce and signature. */
export interface LinkParams {
  e: string;
  n: string;
  s: string;
}

/**
 * Mints a link to the cluster's install manifest: issues the one-time bootstrap token the manifest will carry (refused
 * for a cluster whose agent registered, unless re-registration was requested) and signs cluster, expiry and nonce.
 */
export async function mintInstallLink(deps: Deps, clusterId: string, baseUrl: string, expiresInSeconds: number): Promise<InstallLink> {
  const key = await linkKey(deps);
  const nonce = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const expires = Math.floor(deps.now().getTime() / 1000) + expiresInSeconds;
  const token = await linkToken(key, clusterId, nonce);
  // The token outlives the link by the usual bootstrap lifetime: a manifest fetched just before expiry can still register.
  const issued = await issueBootstrapToken(deps, clusterId, BOOTSTRAP_TTL_HOURS + expiresInSeconds / 3600, token);
  const query = new URLSearchParams({ e: String(expires), n: nonce, s: await mac(key, signed(clusterId, expires, nonce)) });
  const url = `${baseUrl}/install/${encodeURIComponent(clusterId)}.yaml?${query.toString()}`;
  return {
    cluster: clusterId,
    url,
    command: `kubectl apply -f '${url}'`,
    expiresAt: new Date(expires * 1000).toISOString(),
    tokenId: issued.id,
    tokenExpiresAt: issued.expiresAt,
  };
}

const refused = (why: string) =>
  new AppError('forbidden', `this install link ${why}; mint a new one (POST /v1/clusters/{id}/install-link)`);

/**
 * Checks a link and returns the bootstrap token its manifest carries: the signature must cover this cluster, expiry
 * and nonce; the expiry must not have passed; the token must still be unused (an agent that registered with it, a
 * revocation or a re-registration ends the link before its expiry). Every refusal is a 403 that says which.
 */
export async function openInstallLink(
  deps: Deps,
  clusterId: string,
  params: Partial<LinkParams>,
): Promise<{ token: string; tokenExpiresAt: string; linkExpiresAt: string }> {
  const { e, n, s } = params;
  if (!e || !n || !s || !/^\d{1,12}$/.test(e) || !/^[A-Za-z0-9_-]{22}$/.test(n) || !/^[A-Za-z0-9_-]{43}$/.test(s))
    throw refused('is incomplete (it needs its e, n and s parameters as minted)');
  const key = await linkKey(deps);
  if (!constantTimeEqual(await mac(key, signed(clusterId, Number(e), n)), s))
    throw refused('is not valid: its signature does not match (altered, or minted for another cluster)');
  const expires = Number(e) * 1000;
  if (deps.now().getTime() >= expires) throw refused(`expired at ${new Date(expires).toISOString()}`);
  await loadCluster(deps, clusterId);
  const token = await linkToken(key, clusterId, n);
  const hash = secretHash(token);
  const row = await deps.db.query.bootstrapTokens.findFirst({ where: eq(bootstrapTokens.hash, hash) });
  if (!row || row.clusterId !== clusterId) throw refused(`carries bootstrap token ${fingerprintOf(hash)}, which was revoked`);
  if (row.usedAt) throw refused(`was used: an agent registered with its bootstrap token at ${row.usedAt}`);
  return { token, tokenExpiresAt: row.expiresAt, linkExpiresAt: new Date(expires).toISOString() };
}
