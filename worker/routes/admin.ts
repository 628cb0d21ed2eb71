import { accessRequiredPage, adminPage } from '../admin/page';
import type { Router } from '../app';
import { AppError } from '../errors';
import { ADMIN_ASSETS } from '../generated/admin-assets';
import { ACCESS_HEADER, accessConfigured, verifyAccess } from '../middleware/access';

/** A fresh CSP nonce: 16 random bytes, base64. */
function newNonce(): string {
  let binary = '';
  for (const byte of crypto.getRandomValues(new Uint8Array(16))) binary += String.fromCharCode(byte);
  return btoa(binary);
}

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

/** The per-request policy: the console's script and stylesheet only with this nonce, API calls to this origin only. */
const csp = (nonce: string) =>
  [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');

/**
 * Mounts GET /admin: the console's shell, which holds no data. With Cloudflare Access configured (ACCESS_TEAM_DOMAIN,
 * ACCESS_AUD) the request must carry a valid Access assertion and the console calls /v1 on it; otherwise, only in
 * development, the console offers the dev login (paste a token). In production without Access it is refused.
 */
export function registerAdmin(app: Router): void {
  // The console's script and stylesheet (scripts/build-admin.mjs): public, revalidated on every load (a deploy changes
  // them under the same name), 304 while unchanged.
  app.get('/admin/assets/:file', (c) => {
    const name = c.req.param('file');
    const file = Object.hasOwn(ADMIN_ASSETS, name) ? ADMIN_ASSETS[name] : undefined;
    if (!file) throw new AppError('not_found', `no console file /admin/assets/${name}; the console loads app.js and app.css`);
    const headers = {
      'cache-control': 'no-cache',
      etag: file.etag,
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    };
    if (c.req.header('if-none-match') === file.etag) return c.body(null, 304, headers);
    return c.body(file.body, 200, { ...headers, 'content-type': file.type });
  });

  app.get('/admin', async (c) => {
    const config = c.get('config');
    const refuse = (message: string) =>
      c.html(accessRequiredPage(message), 403, {
        ...SECURITY_HEADERS,
        'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      });
    const nonce = newNonce();
    const headers = { ...SECURITY_HEADERS, 'content-security-policy': csp(nonce) };
    if (accessConfigured(config)) {
      const result = await verifyAccess(config, c.req.header(ACCESS_HEADER), c.get('now')());
      if (!result.ok) return refuse(result.message);
      return c.html(adminPage({ nonce, auth: 'access', identity: result.identity.email }), 200, headers);
    }
    if (!config.development) {
      return refuse('Cloudflare Access is expected in front of /admin: set ACCESS_TEAM_DOMAIN and ACCESS_AUD (docs/admin.md → Login)');
    }
    return c.html(adminPage({ nonce, auth: 'token' }), 200, headers);
  });
}
