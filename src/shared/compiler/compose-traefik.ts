/** What a Traefik router rule means as tunnel routes: hostnames and an optional path prefix, or why it cannot be one. */
export type TraefikRule = { ok: true; hosts: string[]; pathPrefix: string | null } | { ok: false; reason: string };

/** One matcher call such as Host(`a`, `b`). */
const CALL = /^\s*([A-Za-z]+)\s*\(\s*((?:`[^`]*`|"[^"]*"|'[^']*')(?:\s*,\s*(?:`[^`]*`|"[^"]*"|'[^']*'))*)\s*\)\s*$/;

const args = (list: string): string[] => [...list.matchAll(/`([^`]*)`|"([^"]*)"|'([^']*)'/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');

/**
 * Reads a Traefik router rule made of `Host(...)` and `PathPrefix(...)` joined by `&&` (Traefik v2 and v3 syntax). Anything
 * else — `||`, `!`, parentheses, `Path`, `HostRegexp`, `Headers`, `Method`, `Query`, two path matchers — is reported
 * with the reason, never guessed: a tunnel route is exactly one hostname plus a path prefix.
 */
export function readTraefikRule(rule: string): TraefikRule {
  if (/\|\|/.test(rule)) return { ok: false, reason: 'uses "||"; split it into one router per alternative' };
  if (/!\s*[A-Za-z(]/.test(rule)) return { ok: false, reason: 'uses negation ("!"), which a tunnel route cannot express' };
  const parts = rule.split('&&');
  let hosts: string[] | null = null;
  let pathPrefix: string | null = null;
  for (const part of parts) {
    const m = CALL.exec(part);
    if (!m?.[1] || m[2] === undefined) {
      return { ok: false, reason: `"${part.trim()}" is not a Host(...) or PathPrefix(...) matcher that can be translated` };
    }
    const matcher = m[1];
    const values = args(m[2]);
    if (matcher === 'Host') {
      if (hosts) return { ok: false, reason: 'has two Host(...) matchers' };
      hosts = values.map((h) => h.toLowerCase());
    } else if (matcher === 'PathPrefix') {
      if (pathPrefix !== null || values.length !== 1)
        return { ok: false, reason: 'has more than one path prefix; use one router per prefix' };
      const value = values[0] ?? '';
      if (/[{}]/.test(value)) return { ok: false, reason: `PathPrefix("${value}") uses a regular expression` };
      pathPrefix = value;
    } else {
      return {
        ok: false,
        reason: `the matcher ${matcher}(...) has no tunnel-route equivalent (routes match a hostname and a path prefix)`,
      };
    }
  }
  return { ok: true, hosts: hosts ?? [], pathPrefix };
}

/** A router declared through `traefik.http.routers.<name>.*` labels of one compose service. */
export interface TraefikRouter {
  name: string;
  rule?: string;
  service?: string;
  middlewares?: string;
}

/** The Traefik part of a service's labels: whether it is enabled, its routers, and its services' ports. */
export interface TraefikLabels {
  enabled: boolean | null;
  routers: TraefikRouter[];
  ports: Record<string, number>;
}

/** Collects routers and `loadbalancer.server.port`s from a service's labels (already interpolated). */
export function readTraefikLabels(labels: Record<string, string>): TraefikLabels {
  const routers = new Map<string, TraefikRouter>();
  const ports: Record<string, number> = {};
  let enabled: boolean | null = null;
  for (const key of Object.keys(labels).sort()) {
    const value = labels[key] ?? '';
    if (key === 'traefik.enable') enabled = value.trim().toLowerCase() === 'true';
    const router = /^traefik\.http\.routers\.([^.]+)\.(rule|service|middlewares)$/.exec(key);
    if (router?.[1] && router[2]) {
      const entry = routers.get(router[1]) ?? { name: router[1] };
      entry[router[2] as 'rule' | 'service' | 'middlewares'] = value;
      routers.set(router[1], entry);
    }
    const port = /^traefik\.http\.services\.([^.]+)\.loadbalancer\.server\.port$/.exec(key);
    if (port?.[1] && /^\d+$/.test(value.trim())) ports[port[1]] = Number(value.trim());
  }
  return { enabled, routers: [...routers.values()], ports };
}
