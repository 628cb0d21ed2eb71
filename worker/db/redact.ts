const SECRET_KEY = /token|secret|password|credential|apikey|api_key|authorization|ciphertext|hash/i;

/** Copies a value with every secret-looking field replaced by "[redacted]", for the audit log. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        SECRET_KEY.test(k) && v !== null && typeof v !== 'boolean' ? '[redacted]' : redactSecrets(v),
      ]),
    );
  }
  return value;
}
