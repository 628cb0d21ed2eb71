// cloudflared's origin kinds, read from ingress/ingress.go validateIngress and ingress/origin_service.go. The checks run
// in cloudflared's order, so the first refusal is the one cloudflared would give.

/** The origin a rule's `service` names, typed per kind cloudflared runs. */
export type OriginKind =
  | { kind: 'http'; scheme: 'http' | 'https' | 'ws' | 'wss'; host: string }
  | { kind: 'tcp'; scheme: string; host: string; port: number | null; defaultPort: number | null }
  | { kind: 'unix'; path: string; tls: boolean }
  | { kind: 'http_status'; code: number }
  | { kind: 'hello_world' }
  | { kind: 'socks_proxy' }
  | { kind: 'bastion' };

/** The default ports cloudflared adds to a TCP-over-WebSocket origin without one (origin_service.go newTCPOverWSService). */
export const TCP_DEFAULT_PORTS: Readonly<Record<string, number>> = { ssh: 22, rdp: 3389, smb: 445, tcp: 7864 };

/** Parsing outcome: the typed origin, or cloudflared's reason for refusing it. */
export type OriginParse = { ok: true; origin: OriginKind } | { ok: false; message: string };

/** Go's strconv.Atoi: optional sign, ASCII digits only, no spaces. */
function atoi(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Scheme per Go's url.Parse: a letter then letters, digits, "+", "-", "." before the first ":". */
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/**
 * A minimal reading of Go's url.Parse for the `scheme://host[:port][/path]` forms cloudflared accepts: the scheme, the
 * host (brackets kept off an IPv6 literal), the port and the path. Undefined where Go's parser refuses the text
 * (a space or control character in the host, an unclosed "[").
 */
function parseUrl(text: string): { scheme: string; hostname: string; port: string; path: string; opaque: boolean } | undefined {
  const scheme = SCHEME.exec(text)?.[1];
  if (!scheme) return { scheme: '', hostname: '', port: '', path: text, opaque: false };
  const rest = text.slice(scheme.length + 1);
  if (!rest.startsWith('//')) return { scheme, hostname: '', port: '', path: rest, opaque: true };
  const afterSlashes = rest.slice(2);
  const end = afterSlashes.search(/[/?#]/);
  const authority = end < 0 ? afterSlashes : afterSlashes.slice(0, end);
  const path = end < 0 ? '' : afterSlashes.slice(end).replace(/[?#].*$/, '');
  const hostport = authority.includes('@') ? authority.slice(authority.lastIndexOf('@') + 1) : authority;
  // eslint-disable-next-line no-control-regex -- Go's url.Parse refuses spaces and control characters in a host
  if (/[\x00-\x20\x7f]/.test(hostport)) return undefined;
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close < 0) return undefined;
    const after = hostport.slice(close + 1);
    if (after !== '' && !/^:\d*$/.test(after)) return undefined;
    return { scheme, hostname: hostport.slice(1, close), port: after.slice(1), path, opaque: false };
  }
  const colon = hostport.lastIndexOf(':');
  if (colon >= 0 && !/^\d*$/.test(hostport.slice(colon + 1))) return undefined;
  return colon < 0
    ? { scheme, hostname: hostport, port: '', path, opaque: false }
    : { scheme, hostname: hostport.slice(0, colon), port: hostport.slice(colon + 1), path, opaque: false };
}

/**
 * Reads a rule's `service` exactly as cloudflared's validateIngress does: `unix:` / `unix+tls:` (no check on the path),
 * `http_status:N` (Go's Atoi, 100–999), `hello_world` / `hello-world`, `socks-proxy`, `bastion` or any service when
 * `bastionMode` is on (the service may then be empty), else a URL with a scheme and a host and no path: http, https, ws
 * and wss are HTTP origins, every other scheme is TCP over WebSocket.
 */
export function parseOriginService(service: string, bastionMode = false): OriginParse {
  if (service.startsWith('unix:')) return { ok: true, origin: { kind: 'unix', path: service.slice(5), tls: false } };
  if (service.startsWith('unix+tls:')) return { ok: true, origin: { kind: 'unix', path: service.slice(9), tls: true } };
  if (service.startsWith('http_status:')) {
    const text = service.slice('http_status:'.length);
    const code = atoi(text);
    if (code === undefined) return { ok: false, message: `invalid HTTP status code: "${text}" is not a number (e.g. http_status:404)` };
    if (code < 100 || code > 999) return { ok: false, message: `invalid HTTP status code: ${code} (cloudflared takes 100 to 999)` };
    return { ok: true, origin: { kind: 'http_status', code } };
  }
  if (service === 'hello_world' || service === 'hello-world') return { ok: true, origin: { kind: 'hello_world' } };
  if (service === 'socks-proxy') return { ok: true, origin: { kind: 'socks_proxy' } };
  if (service === 'bastion' || bastionMode) return { ok: true, origin: { kind: 'bastion' } };
  const url = parseUrl(service);
  if (!url) return { ok: false, message: `"${service}" is not a valid URL (a space or stray character in the host?)` };
  if (url.scheme === '' || url.hostname === '') {
    return {
      ok: false,
      message: `"${service}" is an invalid address, please make sure it has a scheme and a hostname (e.g. "http://${url.opaque ? service.replace(SCHEME, '$1:') : service}")`,
    };
  }
  if (url.path !== '') {
    return {
      ok: false,
      message: `"${service}" is an invalid address: ingress rules don't support proxying to a different path on the origin service (drop "${url.path}")`,
    };
  }
  const scheme = url.scheme.toLowerCase();
  if (scheme === 'http' || scheme === 'https' || scheme === 'ws' || scheme === 'wss') {
    return { ok: true, origin: { kind: 'http', scheme, host: url.hostname } };
  }
  const port = url.port === '' ? null : Number(url.port);
  return {
    ok: true,
    origin: { kind: 'tcp', scheme: url.scheme, host: url.hostname, port, defaultPort: TCP_DEFAULT_PORTS[url.scheme] ?? null },
  };
}

/** How cloudflared describes a parsed origin (its OriginService.String()), e.g. `ssh://localhost:22` with the default port added. */
export function describeOrigin(origin: OriginKind): string {
  switch (origin.kind) {
    case 'http':
      return `${origin.scheme}://${origin.host}`;
    case 'tcp': {
      const port = origin.port ?? origin.defaultPort;
      const host = origin.host.includes(':') ? `[${origin.host}]` : origin.host;
      return `${origin.scheme}://${host}${port === null ? '' : `:${port}`}`;
    }
    case 'unix':
      return `${origin.tls ? 'unix+tls' : 'unix'}:${origin.path}`;
    case 'http_status':
      return `HTTP ${origin.code}`;
    case 'hello_world':
      return 'Hello World test origin';
    case 'socks_proxy':
      return 'socks proxy';
    case 'bastion':
      return 'bastion';
  }
}
