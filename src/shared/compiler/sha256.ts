// SHA-256 through @noble/hashes: synchronous (crypto.subtle is async only), so the compiler stays synchronous and runs
// unchanged in workerd, Node and the browser; about twice as fast as the hand-written one it replaced, which mattered
// once workload bundles (≈ 500 KB of canonical JSON for 200 workloads) were hashed on every compile.
// Checked against node:crypto in test/unit/compiler/sha256.test.ts.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

// One encoder for every call: constructing a TextEncoder per string cost more than encoding the short ones.
const encoder = new TextEncoder();

/** UTF-8 bytes of a string (TextEncoder, present in workerd, Node and browsers). */
export function utf8(text: string): Uint8Array {
  // Short ASCII strings (env values, names) are copied here: a call into TextEncoder costs more than the copy.
  if (text.length > 64) return encoder.encode(text);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return encoder.encode(text);
    bytes[i] = code;
  }
  return bytes;
}

/** SHA-256 of bytes or of a string's UTF-8 encoding, as 64 lower-case hex characters. */
export function sha256Hex(input: string | Uint8Array): string {
  return bytesToHex(sha256(typeof input === 'string' ? utf8(input) : input));
}
