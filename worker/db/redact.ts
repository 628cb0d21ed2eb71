// `identity` (a cluster's kube-system UID) is no secret, but knowing it was half of taking over a registered cluster
// before re-registration needed an admin's request, and the audit log is readable by viewers: it stays out.
const SECRET_KEY = /token|secret|password|credential|apikey|api_key|authorization|ciphertext|hash|identity/i;

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
