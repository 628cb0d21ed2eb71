import { sha256Hex } from '../src/shared/compiler/sha256';
import { AppError } from './errors';

const encoder = new TextEncoder();

/** The configured encryption key, or a named 500 saying what cannot be done without it (`what`: "... cannot be ..."). */
export function requireEncryptionKey(config: { EDGEPLANE_ENCRYPTION_KEY?: string | undefined }, what: string): string {
  const key = config.EDGEPLANE_ENCRYPTION_KEY;
  if (!key) throw new AppError('internal_error', `EDGEPLANE_ENCRYPTION_KEY is not set, so ${what}`);
  return key;
}

/** In chunks: spreading a large array (an encrypted bundle of ~1 MB) into one call would overflow the stack. */
function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

const fromBase64 = (text: string): Uint8Array => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/**
 * SHA-256 of a secret, hex; tokens and agent credentials are stored only as this. Synchronous (@noble/hashes): every
 * inference call hashes its token, and crypto.subtle's promise plus the hex conversion cost more than the hash of a
 * few dozen bytes (profiled on the proxy path).
 */
export const secretHash = (secret: string): string => sha256Hex(secret);

/** Compares two strings in time that depends only on their length. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = encoder.encode(a);
  const right = encoder.encode(b);
  if (left.byteLength !== right.byteLength) return false;
  return crypto.subtle.timingSafeEqual(left, right);
}

/** A fresh random secret with a readable prefix, e.g. `ep_admin_…` (32 random bytes, base64url). */
export function newSecret(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `${prefix}_${toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
}

async function importKey(keyBase64: string): Promise<CryptoKey> {
  const raw = fromBase64(keyBase64);
  if (raw.byteLength !== 32) throw new Error('EDGEPLANE_ENCRYPTION_KEY must be 32 bytes, base64-encoded (openssl rand -base64 32)');
  return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

/** Encrypts a secret for storage with AES-GCM: `base64(iv).base64(ciphertext)`. */
export async function encryptSecret(keyBase64: string, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await importKey(keyBase64), encoder.encode(plaintext));
  return `${toBase64(iv)}.${toBase64(new Uint8Array(ciphertext))}`;
}

/** Decrypts what `encryptSecret` produced; throws if the key is wrong or the value was tampered with. */
export async function decryptSecret(keyBase64: string, stored: string): Promise<string> {
  const [iv = '', data = ''] = stored.split('.');
  const plaintext = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: fromBase64(iv) }, await importKey(keyBase64), fromBase64(data));
  return new TextDecoder().decode(plaintext);
}
