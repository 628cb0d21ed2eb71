import { closestName, ORIGIN_REQUEST_KEYS, type OriginRequestKey } from '../compiler/origin-request';

// How cloudflared reads an `originRequest` mapping, which differs between its two config paths
// (config/configuration.go OriginRequestConfig, CustomDuration; ingress/config.go RemoteConfigJSON):
// - config.yml goes through gopkg.in/yaml.v3. A duration (CustomDuration.UnmarshalYAML → time.Duration) must be a Go
//   duration string ("30s", "1m30s"); a bare integer is refused ("cannot unmarshal !!int into time.Duration"). A
//   boolean field takes true/false, and — yaml.v3's YAML 1.1 courtesy for typed bools — y/yes/on and n/no/off in
//   their three spellings. Unknown keys are ignored by the decode and reported by cloudflared's strict re-parse, which
//   it only logs: a warning.
// - A remote config is JSON read by encoding/json: a duration (CustomDuration.UnmarshalJSON → strconv.ParseInt) must
//   be an integer number of seconds, a string is refused; booleans are JSON booleans; keys match case-insensitively
//   and unknown ones are silently ignored.
// The result is the API's form (durations in whole seconds, real booleans, canonical key spelling), which
// findOriginRequestProblem then checks like any route's originRequest.

/** Where a config came from: a config file (YAML) or a remote config (JSON). */
export type ConfigSource = 'yaml' | 'json';

/** A value cloudflared refuses, where below the originRequest it is, and why. */
export interface OriginRequestReadError {
  path: (string | number)[];
  message: string;
}

/** An originRequest as cloudflared reads it, in the API's form, with what a config file would warn about. */
export type OriginRequestRead = { ok: true; value: Record<string, unknown>; warnings: string[] } | ({ ok: false } & OriginRequestReadError);

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const TRUE = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON']);
const FALSE = new Set(['n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF']);
const ACCESS_KEYS = ['required', 'teamName', 'audTag', 'environment'] as const;
const IP_RULE_KEYS = ['prefix', 'ports', 'allow'] as const;
const GO_DURATION = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, μs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

class Refusal extends Error {
  constructor(
    readonly path: (string | number)[],
    message: string,
  ) {
    super(message);
  }
}

const shown = (v: unknown): string => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v));

/** Go's time.ParseDuration, in seconds; undefined when it would refuse the text. "0" alone is a valid duration. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0' || text === '+0' || text === '-0') return 0;
  const m = GO_DURATION.exec(text);
  if (!m) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/((?:\d+(?:\.\d*)?|\.\d+))(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(amount) * (UNIT_SECONDS[unit ?? 's'] ?? 1);
  }
  return m[1] === '-' ? -total : total;
}

/** The canonical spelling of `key` among `known` as cloudflared's decoder for `source` finds it; undefined if unknown. */
function canonicalKey<K extends string>(key: string, known: readonly K[], source: ConfigSource): K | undefined {
  return known.find((k) => k === key) ?? (source === 'json' ? known.find((k) => k.toLowerCase() === key.toLowerCase()) : undefined);
}

/** The mapping with keys canonically spelled; unknown keys warned about (YAML) or dropped silently (JSON). */
function knownKeys<K extends string>(
  value: Record<string, unknown>,
  known: readonly K[],
  source: ConfigSource,
  where: string,
  warnings: string[],
): Partial<Record<K, unknown>> {
  const out: Partial<Record<K, unknown>> = {};
  for (const [key, v] of Object.entries(value)) {
    const canonical = canonicalKey(key, known, source);
    if (canonical === undefined) {
      if (source === 'yaml') {
        const near = closestName(key, known);
        warnings.push(`${where}: unknown key "${key}" is ignored by cloudflared${near ? `; did you mean "${near}"?` : ''}`);
      }
      continue;
    }
    // encoding/json: with two spellings of one key, the later one wins, as it overwrites the field.
    if (!(canonical in out) || source === 'json') out[canonical] = v;
  }
  return out;
}

function readBool(value: unknown, source: ConfigSource, path: (string | number)[]): boolean {
  if (typeof value === 'boolean') return value;
  if (source === 'yaml' && typeof value === 'string') {
    if (TRUE.has(value)) return true;
    if (FALSE.has(value)) return false;
  }
  throw new Refusal(
    path,
    source === 'yaml'
      ? `expected a boolean (true/false, or yes/no, on/off as cloudflared's YAML reader takes them), got ${shown(value)}`
      : `expected a JSON boolean, got ${shown(value)}`,
  );
}

function readDuration(value: unknown, source: ConfigSource, path: (string | number)[], where: string, warnings: string[]): number {
  if (source === 'json') {
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    throw new Refusal(
      path,
      `a remote config takes durations as whole seconds (e.g. 30), got ${shown(value)}${typeof value === 'string' ? '; cloudflared refuses a duration string in JSON' : ''}`,
    );
  }
  if (typeof value !== 'string') {
    throw new Refusal(
      path,
      `a config file takes durations as Go durations such as "30s" or "1m30s", got ${shown(value)}${typeof value === 'number' ? '; cloudflared refuses a bare number here (write "30s" for 30 seconds)' : ''}`,
    );
  }
  const seconds = parseGoDuration(value);
  if (seconds === undefined) throw new Refusal(path, `"${value}" is not a Go duration; write e.g. "30s", "1m30s" or "500ms"`);
  if (Number.isInteger(seconds)) return seconds;
  // cloudflared would run the sub-second value; a route holds whole seconds, so the import says what it keeps.
  const kept = seconds > 0 ? Math.max(1, Math.round(seconds)) : Math.round(seconds);
  warnings.push(`${where}.${String(path.at(-1))}: "${value}" is kept as ${kept}s (edgeplane holds durations in whole seconds)`);
  return kept;
}

function readAccess(value: unknown, source: ConfigSource, where: string, warnings: string[]): unknown {
  if (!isRecord(value)) return value; // findOriginRequestProblem names the type
  const keys = knownKeys(value, ACCESS_KEYS, source, `${where}.access`, warnings);
  if (keys.required !== undefined) keys.required = readBool(keys.required, source, ['access', 'required']);
  return keys;
}

function readIpRules(value: unknown, source: ConfigSource, where: string, warnings: string[]): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((rule, i) => {
    if (!isRecord(rule)) return rule;
    const keys = knownKeys(rule, IP_RULE_KEYS, source, `${where}.ipRules[${i}]`, warnings);
    if (keys.allow !== undefined) keys.allow = readBool(keys.allow, source, ['ipRules', i, 'allow']);
    return keys;
  });
}

/**
 * Reads an `originRequest` mapping as cloudflared's reader for `source` does, into the API's form. `where` prefixes
 * warnings (e.g. "rule #2 originRequest"). Refusals are the values cloudflared's decoder refuses, which fail the load.
 */
export function readOriginRequestAs(value: unknown, source: ConfigSource, where: string): OriginRequestRead {
  if (value === undefined || value === null) return { ok: true, value: {}, warnings: [] };
  if (!isRecord(value)) return { ok: false, path: [], message: `originRequest must be a mapping, got ${shown(value)}` };
  const warnings: string[] = [];
  const known = Object.keys(ORIGIN_REQUEST_KEYS) as OriginRequestKey[];
  try {
    const keys = knownKeys(value, known, source, where, warnings);
    const out: Record<string, unknown> = {};
    for (const key of known) {
      const v = keys[key];
      if (v === undefined || v === null) continue;
      switch (ORIGIN_REQUEST_KEYS[key]) {
        case 'seconds':
          out[key] = readDuration(v, source, [key], where, warnings);
          break;
        case 'boolean':
          out[key] = readBool(v, source, [key]);
          break;
        case 'access':
          out[key] = readAccess(v, source, where, warnings);
          break;
        case 'ipRules':
          out[key] = readIpRules(v, source, where, warnings);
          break;
        default:
          out[key] = v;
      }
    }
    return { ok: true, value: out, warnings };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, path: error.path, message: error.message };
    throw error;
  }
}
