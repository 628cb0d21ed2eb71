const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** A sortable id: prefix, 10 characters of millisecond time, 12 of randomness (Crockford base32, lower case). */
export function newId(prefix: string, now: Date = new Date()): string {
  let time = now.getTime();
  let head = '';
  for (let i = 0; i < 10; i++) {
    head = (ALPHABET[time % 32] ?? '0') + head;
    time = Math.floor(time / 32);
  }
  const random = crypto.getRandomValues(new Uint8Array(12));
  let tail = '';
  for (const byte of random) tail += ALPHABET[byte % 32] ?? '0';
  return `${prefix}_${head}${tail}`;
}
