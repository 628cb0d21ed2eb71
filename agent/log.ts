/** Keys whose values are never written to a log line. */
const SECRET_KEY = /token|credential|secret|authorization|password|stringData|^data$/i;
/** Values that look like an edgeplane secret, whatever key they sit under. */
const SECRET_VALUE = /\b(ep[a-z]*[._][A-Za-z0-9._-]{16,})\b/g;

function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(SECRET_VALUE, '[redacted]');
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { error: redact(value.message), name: value.name };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1)]));
}

type Level = 'debug' | 'info' | 'warn' | 'error';

/** Structured JSON logs on stdout, one line per event; secrets are redacted by key and by shape. */
export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  if (level === 'debug' && process.env.EDGEPLANE_LOG_LEVEL !== 'debug') return;
  process.stdout.write(`${JSON.stringify({ ts: new Date().toISOString(), level, msg: redact(msg), ...(redact(fields) as object) })}\n`);
}
