import { closestName } from '../compiler/origin-request';
import { parseDocument } from 'yaml';
import { type IngressCheck, type RawRule, type RuleOriginRequest, ruleLabel, type ValidRule, validateIngress } from './ingress';
import { type ConfigSource, readOriginRequestAs } from './origin-request-read';

// How cloudflared reads the ingress part of a config before validating it. A config.yml goes through yaml.v3 and then a
// strict re-parse whose unknown-key errors cloudflared only logs as warnings; a remote config is JSON read with Go's
// encoding/json, which ignores unknown keys and matches keys case-insensitively, and may have no rules at all.

/** A problem with a config as read: where (`ingress[2].service`) and what. */
export interface ConfigIssue {
  index: number | null;
  path: string;
  message: string;
}

/** The ingress of a config as cloudflared reads it: rules with keys in their canonical spelling, defaults, warnings. */
export interface ReadIngress {
  rules: RawRule[];
  /** Each rule as given, with only the four rule keys, canonically spelled. */
  given: Record<string, unknown>[];
  defaults: RuleOriginRequest;
  /** Each rule's originRequest as cloudflared's reader for the source reads it, in the API's form. */
  originRequests: Record<string, unknown>[];
  /** The top-level originRequest, likewise. */
  defaultRequest: Record<string, unknown>;
  warnings: ConfigIssue[];
}

const RULE_KEYS = ['hostname', 'path', 'service', 'originRequest'] as const;
const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Go's encoding/json key matching: exact first, else the first case-insensitive match. */
function jsonKey(record: Record<string, unknown>, key: string): unknown {
  if (key in record) return record[key];
  const found = Object.keys(record).find((k) => k.toLowerCase() === key.toLowerCase());
  return found === undefined ? undefined : record[found];
}

/** The originRequest fields cloudflared's validation reads, from an originRequest in the API's (canonical) form. */
export function ruleOriginRequestOf(value: unknown): RuleOriginRequest {
  if (!isRecord(value)) return {};
  const out: RuleOriginRequest = {};
  const bastion = value.bastionMode;
  if (typeof bastion === 'boolean') out.bastionMode = bastion;
  const access = value.access;
  if (isRecord(access)) {
    out.access = {
      ...(typeof access.required === 'boolean' ? { required: access.required } : {}),
      ...(typeof access.teamName === 'string' ? { teamName: access.teamName } : {}),
      ...(Array.isArray(access.audTag) ? { audTag: access.audTag.filter((t): t is string => typeof t === 'string') } : {}),
    };
  }
  if (Array.isArray(value.ipRules)) {
    out.ipRules = value.ipRules.filter(isRecord).map((r) => ({
      ...(typeof r.prefix === 'string' ? { prefix: r.prefix } : {}),
      ...(Array.isArray(r.ports) ? { ports: r.ports.filter((p): p is number => typeof p === 'number') } : {}),
      ...(typeof r.allow === 'boolean' ? { allow: r.allow } : {}),
    }));
  }
  return out;
}

/**
 * Reads the ingress rules of a config (the parsed YAML or JSON object) as cloudflared does, or says which part has the
 * wrong type (cloudflared refuses the whole config then). Unknown keys: warnings for a config file, ignored in JSON.
 */
export function readIngress(
  config: Record<string, unknown>,
  source: ConfigSource,
): { ok: true; value: ReadIngress } | { ok: false; errors: ConfigIssue[] } {
  const get = (record: Record<string, unknown>, key: string): unknown => (source === 'json' ? jsonKey(record, key) : record[key]);
  const warnings: ConfigIssue[] = [];
  const errors: ConfigIssue[] = [];
  const list = get(config, 'ingress') ?? [];
  if (!Array.isArray(list)) return { ok: false, errors: [{ index: null, path: 'ingress', message: 'expected a list of ingress rules' }] };
  const rules: RawRule[] = [];
  const given: Record<string, unknown>[] = [];
  const originRequests: Record<string, unknown>[] = [];
  for (const [index, rule] of list.entries()) {
    const where = `ingress[${index}]`;
    if (!isRecord(rule)) {
      errors.push({ index, path: where, message: `rule #${index + 1}: expected a mapping with "hostname", "path" and "service"` });
      continue;
    }
    const canonical: Record<string, unknown> = {};
    for (const key of Object.keys(rule)) {
      const known = RULE_KEYS.find((k) => k === key || (source === 'json' && k.toLowerCase() === key.toLowerCase()));
      if (known) {
        if (!(known in canonical)) canonical[known] = rule[key];
      } else if (source === 'yaml') {
        const near = closestName(key, RULE_KEYS);
        warnings.push({
          index,
          path: `${where}.${key}`,
          message: `rule #${index + 1}: unknown key "${key}" is ignored by cloudflared${near ? `; did you mean "${near}"?` : ''}`,
        });
      }
    }
    const strings: Partial<Record<'hostname' | 'path' | 'service', string>> = {};
    for (const key of ['hostname', 'path', 'service'] as const) {
      const value = canonical[key];
      if (value === undefined || value === null) continue;
      if (typeof value !== 'string') {
        errors.push({ index, path: `${where}.${key}`, message: `rule #${index + 1}: "${key}" must be a string` });
        continue;
      }
      strings[key] = value;
    }
    const read = readOriginRequestAs(canonical.originRequest, source, `${ruleLabel(index)} originRequest`);
    if (!read.ok) {
      const at = ['originRequest', ...read.path].join('.');
      errors.push({ index, path: `${where}.${at}`, message: `${ruleLabel(index)}: ${at}: ${read.message}` });
    } else warnings.push(...read.warnings.map((message) => ({ index, path: `${where}.originRequest`, message })));
    const originRequest = read.ok ? read.value : {};
    given.push(canonical);
    originRequests.push(originRequest);
    rules.push({
      hostname: strings.hostname ?? '',
      path: strings.path ?? '',
      service: strings.service ?? '',
      originRequest: ruleOriginRequestOf(originRequest),
    });
  }
  const defaults = readOriginRequestAs(get(config, 'originRequest'), source, 'originRequest');
  if (!defaults.ok) {
    const at = ['originRequest', ...defaults.path].join('.');
    errors.push({ index: null, path: at, message: `${at}: ${defaults.message}` });
  }
  if (errors.length > 0 || !defaults.ok) return { ok: false, errors };
  warnings.push(...defaults.warnings.map((message) => ({ index: null, path: 'originRequest', message })));
  return {
    ok: true,
    value: { rules, given, defaults: ruleOriginRequestOf(defaults.value), originRequests, defaultRequest: defaults.value, warnings },
  };
}

/**
 * Validates a read ingress as cloudflared does at load. A remote config with no rules is valid: cloudflared then
 * answers 503 to every request.
 */
export function checkReadIngress(read: ReadIngress, source: ConfigSource): IngressCheck {
  if (read.rules.length === 0 && source === 'json') return { ok: true, rules: [] };
  return validateIngress(read.rules, read.defaults);
}

/** A config as cloudflared would load it: its validated rules and what it would warn about, or its refusal. */
export type ConfigCheck =
  { ok: true; rules: ValidRule[]; warnings: ConfigIssue[] } | { ok: false; index: number | null; path: string; message: string };

/**
 * Loads a config as cloudflared would: text is a config.yml (YAML), an object is a remote config (JSON; Cloudflare's
 * response envelope and its `result` are unwrapped). Refusals carry the rule index and the field.
 */
export function loadConfig(input: string | Record<string, unknown>): ConfigCheck {
  let config: unknown = input;
  const source: ConfigSource = typeof input === 'string' ? 'yaml' : 'json';
  if (typeof input === 'string') {
    const doc = parseDocument(input, { uniqueKeys: true });
    const first = doc.errors[0];
    if (first) return { ok: false, index: null, path: 'config', message: `not valid YAML: ${first.message.split('\n')[0] ?? first.code}` };
    config = doc.toJS({ maxAliasCount: 100 });
  } else {
    if (isRecord(config) && isRecord(config.result)) config = config.result;
    if (isRecord(config) && isRecord(config.config)) config = config.config;
  }
  if (!isRecord(config)) return { ok: false, index: null, path: 'config', message: "the config doesn't contain any ingress rules" };
  const read = readIngress(config, source);
  if (!read.ok) {
    const first = read.errors[0];
    return { ok: false, index: first?.index ?? null, path: first?.path ?? 'ingress', message: first?.message ?? 'unreadable' };
  }
  const checked = checkReadIngress(read.value, source);
  if (!checked.ok) {
    const { index, field, message } = checked.problem;
    return { ok: false, index, path: index === null ? 'ingress' : `ingress[${index}]${field ? `.${field}` : ''}`, message };
  }
  return { ok: true, rules: checked.rules, warnings: read.value.warnings };
}
