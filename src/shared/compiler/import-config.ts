import { parseDocument } from 'yaml';
import { type Origin, type RouteCreate, routeCreate } from '../api/route';
import { checkHostname } from '../validation/hostname';
import { checkOriginService } from '../validation/origin-url';
import { checkPathPrefix } from '../validation/path-prefix';
import { adviseOrigin } from './origin-advice';
import { closestName, findOriginRequestProblem } from './origin-request';
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

/** A rule that a route cannot express (a regex path, a path without hostname), kept verbatim. */
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

const RULE_KEYS = ['hostname', 'path', 'service', 'originRequest'] as const;
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
  return readConfig(value, options);
}

function fail(index: number | null, path: string, message: string): ImportResult {
  return { ok: false, errors: [{ index, path, message }] };
}

function readConfig(config: Record<string, unknown>, options: ImportOptions): ImportResult {
  const errors: ImportError[] = [];
  const proposal: ImportProposal = { routes: [], unsupported: [], catchAll: null, originRequest: {}, warpRouting: null };
  if (config.originRequest !== undefined) {
    const checked = findOriginRequestProblem(config.originRequest);
    if (checked.ok) proposal.originRequest = checked.value;
    else errors.push({ index: null, path: ['originRequest', ...checked.path].join('.'), message: checked.message });
  }
  const warp = config['warp-routing'];
  if (warp !== undefined) {
    if (isRecord(warp) && (warp.enabled === undefined || typeof warp.enabled === 'boolean')) proposal.warpRouting = warp.enabled === true;
    else errors.push({ index: null, path: 'warp-routing', message: 'expected { enabled: true | false }' });
  }
  const rules = config.ingress;
  if (!Array.isArray(rules) || rules.length === 0) {
    const hint =
      typeof config.url === 'string' ? ` (this config uses the single-origin "url: ${config.url}"; write it as ingress rules)` : '';
    errors.push({ index: null, path: 'ingress', message: `expected a non-empty list of ingress rules ending with a catch-all${hint}` });
    return { ok: false, errors };
  }
  for (const [index, rule] of rules.entries()) readRule(rule, index, rules.length, proposal, errors, options);
  if (errors.length > 0) return { ok: false, errors };
  warnAboutReordering(proposal);
  return { ok: true, proposal };
}

function readRule(
  rule: unknown,
  index: number,
  total: number,
  proposal: ImportProposal,
  errors: ImportError[],
  options: ImportOptions,
): void {
  const where = `ingress[${index}]`;
  const error = (path: string, message: string) =>
    errors.push({ index, path: path ? `${where}.${path}` : where, message: `rule ${index}: ${message}` });
  if (!isRecord(rule)) return void error('', 'expected a mapping with "hostname", "path" and "service"');
  for (const key of Object.keys(rule)) {
    if (!(RULE_KEYS as readonly string[]).includes(key)) {
      const near = closestName(key, RULE_KEYS);
      return void error(key, `unknown key "${key}"${near ? `; did you mean "${near}"?` : `; a rule has ${RULE_KEYS.join(', ')}`}`);
    }
  }
  if (typeof rule.service !== 'string' || rule.service.trim() === '') {
    return void error(
      'service',
      'has no "service"; every rule needs one, e.g. "http://web.default.svc.cluster.local:80" or "http_status:404"',
    );
  }
  const service = checkOriginService(rule.service);
  if (!service.ok) return void error('service', service.message);
  for (const key of ['hostname', 'path'] as const) {
    if (rule[key] !== undefined && typeof rule[key] !== 'string') return void error(key, `"${key}" must be a string`);
  }
  let originRequest: Record<string, unknown> = {};
  if (rule.originRequest !== undefined) {
    const checked = findOriginRequestProblem(rule.originRequest);
    if (!checked.ok) return void error(['originRequest', ...checked.path].join('.'), checked.message);
    originRequest = checked.value;
  }
  const hostname = typeof rule.hostname === 'string' && rule.hostname !== '*' ? rule.hostname.trim() : '';
  const path = typeof rule.path === 'string' ? rule.path : '';
  const last = index === total - 1;
  if (hostname === '' && path === '') {
    if (!last)
      return void error(
        '',
        `matches every request but is not the last rule (cloudflared rejects this); move it to the end or give it a hostname`,
      );
    proposal.catchAll = { index, service: service.value };
    return;
  }
  if (last) return void error('', 'the last rule must be the catch-all, with neither hostname nor path (e.g. service: http_status:404)');
  const keep = (reason: string) => proposal.unsupported.push({ index, status: 'unsupported', rule: { ...rule }, reason });
  if (hostname === '') return void keep(`a rule without a hostname (path "${path}") cannot be a route: every route has a hostname`);
  const host = checkHostname(hostname);
  if (!host.ok) return void error('hostname', host.message);
  let prefix: string | undefined;
  if (path !== '') {
    const reading = readPathRegex(path);
    if (reading.kind === 'regex') {
      return void keep(
        `${reading.reason}; a route path is a prefix${reading.nearestPrefix ? `, the nearest is "${reading.nearestPrefix}"` : ''}`,
      );
    }
    if (reading.kind === 'prefix') {
      const checked = checkPathPrefix(reading.prefix);
      if (!checked.ok)
        return void keep(
          `path regex "${path}" reads as the prefix "${reading.prefix}", which is not a valid route path: ${checked.message}`,
        );
      prefix = checked.value;
    }
  }
  const duplicate = proposal.routes.find((p) => p.route.hostname === host.value && p.route.path === prefix);
  if (duplicate)
    return void keep(`unreachable: rule ${duplicate.index} has the same hostname and path and cloudflared always picks it first`);
  const advice = adviseOrigin(service.value, options.placement);
  const candidate = importedRoute.safeParse({
    hostname: host.value,
    ...(prefix ? { path: prefix } : {}),
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
    warnings: advice.warning ? [advice.warning] : [],
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

/** True when some path matches both prefixes (no prefix matches everything). */
function pathsOverlap(a: string | undefined, b: string | undefined): boolean {
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
      if (compareRoutes(b, a) < 0 && hostsOverlap(a.hostname, b.hostname) && pathsOverlap(earlier.route.path, later.route.path)) {
        later.warnings.push(
          `rule ${later.index} will now come before rule ${earlier.index} (more specific rules first); requests matching both went to rule ${earlier.index} before the import`,
        );
      }
    }
  }
}
