import { z } from 'zod';
import { excerpt } from '../validation/excerpt';
import type { Checked } from '../validation/result';

// The originRequest keys cloudflared reads from a remote (dashboard/API-managed) config: the JSON tags of
// OriginRequestConfig in cloudflared's config package. Durations are whole seconds in the remote config (config.yml
// writes them as Go durations such as "30s"; those are accepted here and converted).

type Kind = 'seconds' | 'boolean' | 'count' | 'string' | 'port' | 'proxyType' | 'ipRules' | 'access';

/** Every key cloudflared accepts in `originRequest`, with the type it expects, in the order the compiler emits them. */
export const ORIGIN_REQUEST_KEYS = {
  connectTimeout: 'seconds',
  tlsTimeout: 'seconds',
  tcpKeepAlive: 'seconds',
  noHappyEyeballs: 'boolean',
  keepAliveConnections: 'count',
  keepAliveTimeout: 'seconds',
  httpHostHeader: 'string',
  originServerName: 'string',
  matchSNItoHost: 'boolean',
  caPool: 'string',
  noTLSVerify: 'boolean',
  disableChunkedEncoding: 'boolean',
  bastionMode: 'boolean',
  proxyAddress: 'string',
  proxyPort: 'port',
  proxyType: 'proxyType',
  ipRules: 'ipRules',
  http2Origin: 'boolean',
  access: 'access',
} as const satisfies Record<string, Kind>;

/** A key of cloudflared's originRequest. */
export type OriginRequestKey = keyof typeof ORIGIN_REQUEST_KEYS;

const KNOWN = Object.keys(ORIGIN_REQUEST_KEYS) as OriginRequestKey[];

/**
 * The longest value of each string setting, at its protocol's limit: a Host header is a hostname (253) and a port; an SNI
 * name and a proxy address are hostnames; a CA pool is a file path (Linux PATH_MAX).
 */
const STRING_LIMITS: Record<string, number> = {
  httpHostHeader: 253 + 6,
  originServerName: 253,
  proxyAddress: 253,
  caPool: 4096,
};
/** Access: a team name is a subdomain label; audience tags are 64 hex characters, a handful per application. */
const ACCESS_LIMITS = { teamName: 63, audTag: 64, audTags: 32, environment: 32 };
/** ipRules: a CIDR each, a list of ports each. */
const IP_RULE_LIMITS = { rules: 256, prefix: 64, ports: 256 };
const ACCESS_KEYS = ['required', 'teamName', 'audTag', 'environment'] as const;
const IP_RULE_KEYS = ['prefix', 'ports', 'allow'] as const;

/** Levenshtein distance, case-insensitive, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[y.length] ?? 0;
}

/**
 * The candidate closest to `word` by edit distance (ties: first in list), if it is plausibly a misspelling. The distance
 * is at least the difference in length, so a word much longer than every candidate is not compared at all: the cost
 * stays bounded by the candidates' length, whatever a request sends.
 */
export function closestName(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (Math.abs(word.length - candidate.length) > Math.max(2, Math.floor(candidate.length / 3))) continue;
    const d = editDistance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

/** A problem found in an originRequest value: where below it (key path) and what is wrong. */
export interface OriginRequestProblem {
  path: (string | number)[];
  message: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const typeName = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `${typeof v} ${excerpt(JSON.stringify(v))}`;

const GO_DURATION = /^(\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;
const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** Whole seconds from an integer or a Go duration string ("1m30s"); undefined when it is neither. */
function toSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string' || !GO_DURATION.test(value)) return undefined;
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g))
    total += Number(amount) * (UNIT_SECONDS[unit ?? 's'] ?? 1);
  const rounded = Math.round(total * 1e6) / 1e6;
  return Number.isInteger(rounded) ? rounded : undefined;
}

function checkValue(key: OriginRequestKey, value: unknown): { value: unknown } | OriginRequestProblem {
  const kind: Kind = ORIGIN_REQUEST_KEYS[key];
  const problem = (message: string, path: (string | number)[] = []): OriginRequestProblem => ({ path: [key, ...path], message });
  switch (kind) {
    case 'seconds': {
      const seconds = toSeconds(value);
      return seconds === undefined
        ? problem(`expected whole seconds, e.g. 30 (or a duration such as "30s"), got ${typeName(value)}`)
        : { value: seconds };
    }
    case 'boolean':
      return typeof value === 'boolean' ? { value } : problem(`expected true or false, got ${typeName(value)}`);
    case 'count':
      return Number.isInteger(value) && (value as number) >= 0 ? { value } : problem(`expected a whole number ≥ 0, got ${typeName(value)}`);
    case 'string': {
      if (typeof value !== 'string') return problem(`expected a string, got ${typeName(value)}`);
      const max = STRING_LIMITS[key] ?? 253;
      return value.length <= max ? { value } : problem(`is ${value.length} characters long; the limit is ${max}`);
    }
    case 'port':
      return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 65535
        ? { value }
        : problem(`expected a port number 0 to 65535, got ${typeName(value)}`);
    case 'proxyType':
      return value === '' || value === 'socks' ? { value } : problem(`expected "" (plain proxy) or "socks", got ${typeName(value)}`);
    case 'ipRules':
      return checkIpRules(value, problem);
    case 'access':
      return checkAccess(value, problem);
  }
}

function checkAccess(
  value: unknown,
  problem: (m: string, p?: (string | number)[]) => OriginRequestProblem,
): { value: unknown } | OriginRequestProblem {
  if (!isRecord(value)) return problem(`expected an object { required, teamName, audTag }, got ${typeName(value)}`);
  for (const k of Object.keys(value)) {
    if (!(ACCESS_KEYS as readonly string[]).includes(k)) {
      const near = closestName(k, ACCESS_KEYS);
      return problem(
        `unknown key "${excerpt(k)}" in access${near ? `; did you mean "${near}"?` : `; known keys: ${ACCESS_KEYS.join(', ')}`}`,
        [excerpt(k)],
      );
    }
  }
  if (value.required !== undefined && typeof value.required !== 'boolean')
    return problem(`expected true or false, got ${typeName(value.required)}`, ['required']);
  if (value.teamName !== undefined && typeof value.teamName !== 'string')
    return problem(`expected a string, got ${typeName(value.teamName)}`, ['teamName']);
  if (typeof value.teamName === 'string' && value.teamName.length > ACCESS_LIMITS.teamName)
    return problem(`a team name is at most ${ACCESS_LIMITS.teamName} characters`, ['teamName']);
  if (value.audTag !== undefined && (!Array.isArray(value.audTag) || !value.audTag.every((t) => typeof t === 'string'))) {
    return problem('audTag must be a list of Access application audience tags (strings)', ['audTag']);
  }
  if (Array.isArray(value.audTag) && value.audTag.length > ACCESS_LIMITS.audTags)
    return problem(`at most ${ACCESS_LIMITS.audTags} audience tags`, ['audTag']);
  if (Array.isArray(value.audTag) && value.audTag.some((t: string) => t.length > ACCESS_LIMITS.audTag))
    return problem(`an audience tag is at most ${ACCESS_LIMITS.audTag} characters`, ['audTag']);
  if (value.environment !== undefined && (typeof value.environment !== 'string' || value.environment.length > ACCESS_LIMITS.environment))
    return problem(`environment is a string of at most ${ACCESS_LIMITS.environment} characters, e.g. "fed"`, ['environment']);
  const audTag = (value.audTag ?? []) as string[];
  const teamName = (value.teamName ?? '') as string;
  // cloudflared's validateAccessConfiguration: only a required check is validated, and then only a teamName missing
  // beside audTags is an error (required with neither is an allowed first step; without required nothing is enforced).
  if (value.required === true && teamName === '' && audTag.length > 0) {
    return problem(
      'teamName cannot be blank when audTag is present and access is required: your Zero Trust team name (the "<team>" in <team>.cloudflareaccess.com)',
      ['teamName'],
    );
  }
  const environment = typeof value.environment === 'string' && value.environment !== '' ? { environment: value.environment } : {};
  return { value: { required: value.required ?? false, teamName, audTag: [...audTag], ...environment } };
}

function checkIpRules(
  value: unknown,
  problem: (m: string, p?: (string | number)[]) => OriginRequestProblem,
): { value: unknown } | OriginRequestProblem {
  if (!Array.isArray(value)) return problem(`expected a list of { prefix, ports, allow }, got ${typeName(value)}`);
  if (value.length > IP_RULE_LIMITS.rules) return problem(`at most ${IP_RULE_LIMITS.rules} rules`);
  const out: unknown[] = [];
  for (const [i, rule] of value.entries()) {
    if (!isRecord(rule)) return problem(`expected { prefix, ports, allow }, got ${typeName(rule)}`, [i]);
    for (const k of Object.keys(rule)) {
      if (!(IP_RULE_KEYS as readonly string[]).includes(k)) {
        const near = closestName(k, IP_RULE_KEYS);
        return problem(`unknown key "${excerpt(k)}"${near ? `; did you mean "${near}"?` : `; known keys: ${IP_RULE_KEYS.join(', ')}`}`, [
          i,
          excerpt(k),
        ]);
      }
    }
    if (typeof rule.prefix !== 'string' || rule.prefix === '' || rule.prefix.length > IP_RULE_LIMITS.prefix)
      return problem('prefix is required: a CIDR such as "10.0.0.0/8"', [i, 'prefix']);
    const ports = rule.ports ?? [];
    if (!Array.isArray(ports) || ports.length > IP_RULE_LIMITS.ports || !ports.every((p) => Number.isInteger(p) && p >= 1 && p <= 65535)) {
      return problem(`ports must be a list of at most ${IP_RULE_LIMITS.ports} port numbers 1 to 65535`, [i, 'ports']);
    }
    if (rule.allow !== undefined && typeof rule.allow !== 'boolean')
      return problem(`expected true or false, got ${typeName(rule.allow)}`, [i, 'allow']);
    out.push({ prefix: rule.prefix, ports: [...(ports as number[])], allow: rule.allow ?? false });
  }
  return { value: out };
}

/** Checks an originRequest object, returning it normalised (known keys in a fixed order, durations in seconds) or the first problem. */
export function findOriginRequestProblem(
  value: unknown,
): { ok: true; value: Record<string, unknown> } | ({ ok: false } & OriginRequestProblem) {
  if (!isRecord(value))
    return { ok: false, path: [], message: `originRequest must be an object of cloudflared settings, got ${typeName(value)}` };
  for (const key of Object.keys(value)) {
    if (!(key in ORIGIN_REQUEST_KEYS)) {
      const near = closestName(key, KNOWN);
      const hint = near ? `did you mean "${near}"?` : `known keys: ${KNOWN.join(', ')}`;
      // The path names the key (as an excerpt); the message does not repeat it.
      return { ok: false, path: [excerpt(key)], message: `not an originRequest setting cloudflared knows; ${hint}` };
    }
  }
  const out: Record<string, unknown> = {};
  for (const key of KNOWN) {
    if (value[key] === undefined) continue;
    const checked = checkValue(key, value[key]);
    if ('message' in checked) return { ok: false, ...checked };
    out[key] = checked.value;
  }
  return { ok: true, value: out };
}

/** Checks an originRequest object against cloudflared's keys and types; `where` prefixes the message (e.g. "route 3 originRequest"). */
export function checkOriginRequest(value: unknown, where: string): Checked<Record<string, unknown>> {
  const result = findOriginRequestProblem(value);
  if (result.ok) return { ok: true, value: result.value };
  const at = [where, ...result.path.map(String)].filter((p) => p !== '').join('.');
  return { ok: false, message: `${at}: ${result.message}` };
}

/** Zod schema of an originRequest object: unknown keys and wrong types are a validation issue at the offending key. */
export const originRequestSchema = z.record(z.string(), z.unknown()).transform((input, ctx) => {
  const result = findOriginRequestProblem(input);
  if (!result.ok) {
    ctx.addIssue({ code: 'custom', path: result.path, message: result.message, input });
    return z.NEVER;
  }
  return result.value;
});
