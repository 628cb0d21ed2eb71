import { type Checked, fail, ok } from './result';

const SCHEMES = ['http', 'https', 'tcp', 'ssh', 'rdp', 'unix', 'unix+tls', 'smb'] as const;

/**
 * Checks an origin service the way cloudflared does: `http_status:NNN` (100–599), `unix:` / `unix+tls:` with a path,
 * or a URL with one of cloudflared's schemes, a host and no path for http/https (cloudflared rejects a path there).
 */
export function checkOriginService(input: string): Checked<string> {
  const raw = input.trim();
  if (raw.startsWith('http_status:')) {
    const code = raw.slice('http_status:'.length);
    if (!/^\d{3}$/.test(code) || Number(code) < 100 || Number(code) > 599) {
      return fail(`origin "${raw}": http_status needs a status code from 100 to 599, e.g. "http_status:404"`);
    }
    return ok(raw);
  }
  if (raw === 'hello_world' || raw === 'bastion') return ok(raw);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(raw)?.[1]?.toLowerCase();
  if (!scheme) {
    return fail(`origin "${raw}" has no scheme; expected e.g. "http://${raw}" (one of ${SCHEMES.join(', ')}, or http_status:NNN)`);
  }
  if (!(SCHEMES as readonly string[]).includes(scheme)) {
    return fail(`origin "${raw}": scheme "${scheme}" is not supported by cloudflared; use one of ${SCHEMES.join(', ')}`);
  }
  if (scheme === 'unix' || scheme === 'unix+tls') {
    const path = raw.slice(scheme.length + 1).replace(/^\/\//, '');
    if (!path.startsWith('/')) return fail(`origin "${raw}": a unix socket origin needs an absolute path, e.g. "unix:/run/app.sock"`);
    return ok(raw);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail(`origin "${raw}" is not a valid URL, e.g. "http://10.0.0.5:8000"`);
  }
  if (url.hostname === '') return fail(`origin "${raw}" has no host, e.g. "${scheme}://10.0.0.5:8000"`);
  if ((scheme === 'http' || scheme === 'https') && url.pathname !== '/' && url.pathname !== '') {
    return fail(`origin "${raw}": cloudflared does not allow a path in an http(s) origin; use "${scheme}://${url.host}"`);
  }
  if (url.search || url.hash) return fail(`origin "${raw}" has a query or fragment; give only scheme, host and port`);
  return ok(raw.replace(/\/$/, ''));
}
