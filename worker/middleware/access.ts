import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Actor } from '../deps';
import type { AccessRoles, Config } from '../env';

/** The header Cloudflare Access adds to every request it lets through. */
export const ACCESS_HEADER = 'cf-access-jwt-assertion';

/** An operator signed in by Cloudflare Access. */
export interface AccessIdentity {
  actor: Actor;
  email: string;
}

export type AccessResult = { ok: true; identity: AccessIdentity } | { ok: false; message: string };

// One key set per team: jose caches the keys and refetches them (rate-limited) only for an unknown key id.
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
function keySetOf(teamDomain: string): ReturnType<typeof createRemoteJWKSet> {
  let keys = keySets.get(teamDomain);
  if (!keys) {
    keys = createRemoteJWKSet(new URL('/cdn-cgi/access/certs', teamDomain));
    keySets.set(teamDomain, keys);
  }
  return keys;
}

/** True when the Worker is configured to expect Cloudflare Access. */
export const accessConfigured = (config: Config): boolean => Boolean(config.ACCESS_TEAM_DOMAIN && config.ACCESS_AUD);

const ROLE_ORDER = ['admin', 'editor', 'viewer'] as const;

/** Does one ACCESS_ROLES entry name this identity: the email, `*@domain`, or a group? */
function entryMatches(entry: string, email: string, groups: string[]): boolean {
  const wanted = entry.toLowerCase();
  if (wanted.startsWith('*@')) return email.endsWith(wanted.slice(1));
  if (wanted.includes('@')) return email === wanted;
  return groups.some((g) => g.toLowerCase() === wanted);
}

/** The strongest role ACCESS_ROLES gives the identity, or undefined when it names it nowhere. */
export function roleOf(roles: AccessRoles | undefined, email: string, groups: string[]): Actor['role'] | undefined {
  const lower = email.toLowerCase();
  return ROLE_ORDER.find((role) => (roles?.[role] ?? []).some((entry) => entryMatches(entry, lower, groups)));
}

function groupsOf(payload: JWTPayload): string[] {
  const raw = payload.groups ?? (payload.custom as { groups?: unknown } | undefined)?.groups;
  return Array.isArray(raw) ? raw.filter((g): g is string => typeof g === 'string') : [];
}

/**
 * Verifies a Cloudflare Access assertion (signature against the team's JWKS, `aud`, `iss`, `exp`/`nbf`) and maps
 * its identity to a role through ACCESS_ROLES. Messages say what is wrong and that Access is expected.
 */
export async function verifyAccess(config: Config, assertion: string | undefined, now: Date): Promise<AccessResult> {
  const team = config.ACCESS_TEAM_DOMAIN;
  const aud = config.ACCESS_AUD;
  if (!team || !aud) return { ok: false, message: 'Cloudflare Access is not configured (ACCESS_TEAM_DOMAIN, ACCESS_AUD)' };
  if (!assertion) {
    return {
      ok: false,
      message: `Cloudflare Access is expected in front of edgeplane: the request carries no Cf-Access-Jwt-Assertion (sign in through ${team})`,
    };
  }
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(assertion, keySetOf(team), {
      issuer: team,
      audience: aud,
      algorithms: ['RS256'],
      currentDate: now,
      clockTolerance: 30,
    }));
  } catch (error) {
    return {
      ok: false,
      message: `Cloudflare Access is expected in front of edgeplane: the Cf-Access-Jwt-Assertion is not valid (${reasonOf(error)})`,
    };
  }
  const email = typeof payload.email === 'string' ? payload.email : '';
  if (!email)
    return { ok: false, message: 'the Access assertion names no email; edgeplane maps operators by email or group (ACCESS_ROLES)' };
  const role = roleOf(config.ACCESS_ROLES, email, groupsOf(payload));
  if (!role) return { ok: false, message: `the Access identity ${email} has no edgeplane role; add it to ACCESS_ROLES` };
  return { ok: true, identity: { email, actor: { id: `access:${email}`, role } } };
}

function reasonOf(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return `audience is not this application's ACCESS_AUD`;
    if (error.claim === 'iss') return 'issuer is not ACCESS_TEAM_DOMAIN';
    if (error.claim === 'nbf') return 'not valid yet';
    return `claim ${error.claim} ${error.reason}`;
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature does not verify against the team keys';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'signed by a key the team does not publish';
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JOSEError) return error.message;
  return 'unreadable token';
}
