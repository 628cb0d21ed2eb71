import { sha256Hex, utf8 } from './sha256';

/**
 * A Kubernetes object name (DNS-1123 subdomain, ≤ 253) built from parts: lower-cased, `*` spelled "wildcard",
 * anything else outside [a-z0-9.-] turned into "-"; a too-long name is cut and given a hash suffix so it stays unique.
 */
export function objectName(parts: readonly string[], limit = 253): string {
  const raw = parts
    .join('-')
    .toLowerCase()
    .replace(/\*/g, 'wildcard')
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  if (raw.length <= limit) return raw;
  const suffix = sha256Hex(raw).slice(0, 10);
  return `${raw.slice(0, limit - suffix.length - 1).replace(/[^a-z0-9]+$/, '')}-${suffix}`;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 of a string's UTF-8 bytes, as a Secret's `data` wants it. */
export function base64Utf8(text: string): string {
  const bytes = utf8(text);
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i] ?? 0;
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    const n = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    out += BASE64[(n >> 18) & 63] ?? '';
    out += BASE64[(n >> 12) & 63] ?? '';
    out += b === undefined ? '=' : (BASE64[(n >> 6) & 63] ?? '');
    out += c === undefined ? '=' : (BASE64[n & 63] ?? '');
  }
  return out;
}
