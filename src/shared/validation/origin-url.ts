import { parseOriginService } from '../cloudflared/origin-service';
import { type Checked, fail, ok } from './result';

/**
 * Checks an origin service as cloudflared does (src/shared/cloudflared: http/https/ws/wss URLs, TCP over WebSocket for
 * any other scheme, `unix:` / `unix+tls:`, `http_status:N`, `hello_world`, `socks-proxy`, `bastion`). The value is kept
 * as given so it compiles back byte for byte; surrounding spaces and one trailing "/" after the host (which cloudflared
 * would refuse as a path) are dropped, since no one means them.
 */
export function checkOriginService(input: string): Checked<string> {
  const raw = input.trim();
  if (raw === '') return fail('origin is empty; expected e.g. "http://10.0.0.5:8000", "ssh://localhost:22" or "http_status:404"');
  const candidate = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]+\/$/.test(raw) ? raw.slice(0, -1) : raw;
  const parsed = parseOriginService(candidate);
  if (!parsed.ok) return fail(`origin ${parsed.message}`);
  return ok(candidate);
}
