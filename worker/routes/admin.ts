import { adminPage } from '../admin/page';
import type { Router } from '../app';

/** A fresh CSP nonce: 16 random bytes, base64. */
function newNonce(): string {
  let binary = '';
  for (const byte of crypto.getRandomValues(new Uint8Array(16))) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * Mounts GET /admin: a static shell with no data in it, so it needs no auth itself; the page calls /v1 with the
 * operator's bearer token. In production Cloudflare Access must sit in front of it (see docs/admin.md).
 */
export function registerAdmin(app: Router): void {
  app.get('/admin', (c) => {
    const nonce = newNonce();
    return c.html(adminPage.replaceAll('__NONCE__', nonce), 200, {
      'content-security-policy': [
        "default-src 'none'",
        `script-src 'nonce-${nonce}'`,
        `style-src 'nonce-${nonce}'`,
        "connect-src 'self'",
        "img-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
      ].join('; '),
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
    });
  });
}
