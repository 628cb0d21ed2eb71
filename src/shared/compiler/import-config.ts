import { parseDocument } from 'yaml';
import { type Origin, type RouteCreate, routeCreate } from '../api/route';
import { checkHostname } from '../validation/hostname';
import { type ConfigSource, checkReadIngress, isCatchAll, readIngress, ruleLabel, type ValidRule } from '../cloudflared';
import { checkPathPrefix } from '../validation/path-prefix';
import { adviseOrigin } from './origin-advice';
import { findOriginRequestProblem } from './origin-request';
import { readPathRegex } from './path-regex';
import { compareRoutes } from './rule-order';

/** A route an import would create: the `POST /v1/routes` body without `tunnel`. */
export type ImportedRoute = Omit<RouteCreate, 'tunnel'>;

/** A rule that becomes a route, with what may not work about it. */
export interface ProposedRoute {
  /** Index of the rule in the imported `ingress` list. */
  index: number;
  route: ImportedRoute;
  warnings: string[];
  /** The in-cluster origin to use instead of the imported one, when one can be named. */
  suggestedOrigin?: Origin;
}

/** A rule that a route cannot express (a path without hostname, a hostname edgeplane cannot own), kept verbatim. */
export interface UnsupportedRule {
  index: number;
  status: 'unsupported';
  rule: Record<string, unknown>;
  reason: string;
}

/** What an import would do. */
export interface ImportProposal {
  routes: ProposedRoute[];
  unsupported: UnsupportedRule[];
  /** The final no-hostname, no-path rule; it maps to the tunnel's `catchAll`. */
  catchAll: { index: number; service: string } | null;
  /** Top-level originRequest defaults (the tunnel's `originRequest`). */
  originRequest: Record<string, unknown>;
  /** `warp-routing.enabled` when the config says; null when it does not. */
  warpRouting: boolean | null;
  /** What cloudflared would ignore or what changes on import, not tied to one rule. */
  warnings: string[];
}

/** A malformed part of the input: where (`ingress[2].service`, `config.yml line 4`) and what is wrong. */
export interface ImportError {
  index: number | null;
  path: string;
  message: string;
}

/** Outcome of reading a cloudflared config: a proposal, or every error found. */
export type ImportResult = { ok: true; proposal: ImportProposal } | { ok: false; errors: ImportError[] };

/** Options of an import: where the tunnel's connector runs decides whether `localhost` can work. */
export interface ImportOptions {
  placement?: 'cluster' | 'node';
}

const importedRoute = routeCreate.omit({ tunnel: true });
const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Reads a cloudflared `config.yml` (YAML text) into an import proposal; YAML errors name the line. */
export function parseCloudflaredConfigYaml(text: string, options: ImportOptions = {}): ImportResult {
  if (text.trim() === '') return fail(null, 'config', "the config is empty; paste the contents of cloudflared's config.yml");
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => {
        const at = e.linePos?.[0];
        return {
          index: null,
          path: at ? `config.yml line ${at.line} column ${at.col}` : 'config.yml',
          message: `not valid YAML: ${(e.message.split('\n')[0] ?? e.code).replace(/ at line \d+, column \d+:?$/, '')}`,
        };
      }),
    };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return fail(null, 'config.yml', `cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!isRecord(value)) return fail(null, 'config.yml', 'expected a mapping with an "ingress" list at the top level');
  return readConfig(value, options);
}

/**
 * Reads a tunnel's remote config as Cloudflare returns it (`GET .../configurations`): the whole response envelope, its
 * `result`, or the bare `config` object are all accepted.
 */
export function parseRemoteConfig(json: unknown, options: ImportOptions = {}): ImportResult {
  let value: unknown = json;
  if (isRecord(value) && isRecord(value.result)) value = value.result;
  if (isRecord(value) && isRecord(value.config)) value = value.config;
  if (!isRecord(value))
    return fail(null, 'config', 'expected the remote config object { "ingress": [...] } (or Cloudflare\'s response containing it)');
  return readConfig(value, options, 'json');
}

function fail(index: number | null, path: string, message: string): ImportResult {
  return { ok: false, errors: [{ index, path, message }] };
}

function readConfig(config: Record<string, unknown>, options: ImportOptions, source: ConfigSource = 'yaml'): ImportResult {
  const errors: ImportError[] = [];
  const proposal: ImportProposal = { routes: [], unsupported: [], catchAll: null, originRequest: {}, warpRouting: null, warnings: [] };
  const read = readIngress(config, source);
  if (!read.ok) return { ok: false, errors: read.errors };
  const checked = checkReadIngress(read.value, source);
  if (!checked.ok) {
    const { index, field, message } = checked.problem;
    const path = index === null ? 'ingress' : field ? `ingress[${index}].${field}` : `ingress[${index}]`;
    return { ok: false, errors: [{ index, path, message }] };
  }
  const defaults = findOriginRequestProblem(read.value.defaultRequest);
  if (defaults.ok) proposal.originRequest = defaults.value;
  else errors.push({ index: null, path: ['originRequest', ...defaults.path].join('.'), message: defaults.message });
  const warp = config['warp-routing'];
  if (warp !== undefined) {
    if (isRecord(warp) && (warp.enabled === undefined || typeof warp.enabled === 'boolean')) proposal.warpRouting = warp.enabled === true;
    else errors.push({ index: null, path: 'warp-routing', message: 'expected { enabled: true | false }' });
  }
  const ruleWarnings = new Map<number, string[]>();
  for (const w of read.value.warnings) {
    if (w.index === null) proposal.warnings.push(w.message);
    else ruleWarnings.set(w.index, [...(ruleWarnings.get(w.index) ?? []), w.message]);
  }
  for (const [index, rule] of checked.rules.entries()) {
    const given = read.value.given[index] ?? {};
    const originRequest = read.value.originRequests[index] ?? {};
    readRule(rule, given, originRequest, index, proposal, errors, options, ruleWarnings.get(index) ?? []);
  }
  if (errors.length > 0) return { ok: false, errors };
  if (checked.rules.length === 0)
    proposal.warnings.push('the remote config has no ingress rules: cloudflared answers 503 to every request');
  warnAboutReordering(proposal);
  return { ok: true, proposal };
}

/**
 * Maps one rule cloudflared accepts to a route. Where edgeplane cannot manage it as a route (no hostname, a hostname
 * that is not a DNS name edgeplane can own) it is kept as an unsupported rule with
 * the reason, never refused: the config is valid, cloudflared would run it.
 */
function readRule(
  rule: ValidRule,
  given: Record<string, unknown>,
  readOriginRequest: Record<string, unknown>,
  index: number,
  proposal: ImportProposal,
  errors: ImportError[],
  options: ImportOptions,
  warnings: string[],
): void {
  const where = `ingress[${index}]`;
  const error = (path: string, message: string) =>
    errors.push({ index, path: path ? `${where}.${path}` : where, message: `${ruleLabel(index)}: ${message}` });
  // Read as cloudflared's reader for the source reads it (durations, booleans, key spelling); then checked as a route's.
  const checked = findOriginRequestProblem(readOriginRequest);
  if (!checked.ok) return void error(['originRequest', ...checked.path].join('.'), checked.message);
  const originRequest = checked.value;
  // validateIngress has already placed the only catch-all last.
  if (isCatchAll(rule)) {
    proposal.catchAll = { index, service: rule.service || 'bastion' };
    return;
  }
  const keep = (reason: string) => proposal.unsupported.push({ index, status: 'unsupported', rule: { ...given }, reason });
  const hostname = rule.hostname === '*' ? '' : rule.hostname;
  if (hostname === '') return void keep(`a rule without a hostname (path "${rule.path}") cannot be a route: every route has a hostname`);
  let host = checkHostname(hostname);
  if (!host.ok && rule.punycodeHostname) {
    const alias = checkHostname(rule.punycodeHostname);
    if (alias.ok) {
      warnings.push(`hostname "${hostname}" becomes "${alias.value}" (its punycode form, which cloudflared also matches)`);
      host = alias;
    }
  }
  if (!host.ok) return void keep(`cloudflared accepts this hostname, but a route needs a DNS name edgeplane can manage: ${host.message}`);
  // A path regex that means a whole-segment prefix becomes a prefix (edgeplane compiles it back to the same matching);
  // any other regex is kept as the route's pathRegex, byte for byte.
  let prefix: string | undefined;
  let pathRegex: string | undefined;
  if (rule.path !== '') {
    const reading = readPathRegex(rule.path);
    if (reading.kind === 'prefix') {
      const checked = checkPathPrefix(reading.prefix);
      if (checked.ok) prefix = checked.value;
      else pathRegex = rule.path;
    } else if (reading.kind === 'regex') {
      pathRegex = rule.path;
      warnings.push(
        `path regex "${rule.path}" is kept as the route's pathRegex (cloudflared's regex, unchanged); edgeplane puts regex routes before the prefix routes of their hostname`,
      );
    }
  }
  const duplicate = proposal.routes.find(
    (p) => p.route.hostname === host.value && p.route.path === prefix && p.route.pathRegex === pathRegex,
  );
  if (duplicate)
    return void keep(`unreachable: ${ruleLabel(duplicate.index)} has the same hostname and path and cloudflared always picks it first`);
  const service = rule.service === '' ? 'bastion' : rule.service;
  if (service !== rule.service) warnings.push('bastionMode without a service: the route keeps it as "service: bastion"');
  const advice = adviseOrigin(service, options.placement);
  const candidate = importedRoute.safeParse({
    hostname: host.value,
    ...(prefix ? { path: prefix } : {}),
    ...(pathRegex !== undefined ? { pathRegex } : {}),
    origin: advice.origin,
    originRequest,
    dns: true,
  });
  if (!candidate.success) {
    for (const issue of candidate.error.issues) error(issue.path.join('.'), issue.message);
    return;
  }
  proposal.routes.push({
    index,
    route: candidate.data,
    warnings: [...warnings, ...(advice.warning ? [advice.warning] : [])],
    ...(advice.suggestedOrigin ? { suggestedOrigin: advice.suggestedOrigin } : {}),
  });
}

/** True when some hostname matches both rule hostnames (cloudflared semantics: `*.x` matches names ending in `.x`). */
function hostsOverlap(a: string, b: string): boolean {
  const suffix = (h: string) => h.slice(1);
  if (a === b) return true;
  if (a.startsWith('*.') && (b.endsWith(suffix(a)) || (b.startsWith('*.') && suffix(b).endsWith(suffix(a))))) return true;
  return b.startsWith('*.') && a.endsWith(suffix(b));
}

/** True when some path may match both (no prefix matches everything; a regex may match anything, so it may overlap). */
function pathsOverlap(a: ImportedRoute, b: ImportedRoute): boolean {
  if (a.pathRegex !== undefined || b.pathRegex !== undefined) return true;
  return prefixesOverlap(a.path, b.path);
}

/** True when some path matches both prefixes (no prefix matches everything). */
function prefixesOverlap(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined || a === '/' || b === '/') return true;
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

/**
 * edgeplane orders rules most specific first; where the imported config had a less specific rule before a more specific
 * one that overlaps it, cloudflared used to send the shared requests to the earlier rule. Say so on the later one.
 */
function warnAboutReordering(proposal: ImportProposal): void {
  const routes = proposal.routes;
  for (const [j, later] of routes.entries()) {
    for (const earlier of routes.slice(0, j)) {
      const a = { ...earlier.route, id: String(earlier.index), path: earlier.route.path ?? null };
      const b = { ...later.route, id: String(later.index), path: later.route.path ?? null };
      if (compareRoutes(b, a) < 0 && hostsOverlap(a.hostname, b.hostname) && pathsOverlap(earlier.route, later.route)) {
        later.warnings.push(
          `rule ${later.index} will now come before rule ${earlier.index} (more specific rules first); requests matching both went to rule ${earlier.index} before the import`,
        );
      }
    }
  }
}
