import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SecretRef, StateFile } from '../src/shared/state/schema';
import { type FileProblem, StateFileError } from './state-file';

/**
 * A secret in a request body before it is sent: where its value comes from and the state-file path that named it. Plans
 * (shown, saved with --out, printed with --json) carry these, never values; `resolveSecrets` puts the values in just
 * before a request leaves. `$secret` cannot be an env or header name, so it never collides with a body's own keys.
 */
export interface SecretMarker {
  $secret: SecretRef;
  at: string;
}

const isMarker = (value: unknown): value is SecretMarker =>
  typeof value === 'object' && value !== null && '$secret' in value && 'at' in value;

/** A reference of the file at `at`, with a relative file path made absolute against the state file's directory. */
export function markSecret(ref: SecretRef, at: string, baseDir: string): SecretMarker {
  return { $secret: 'file' in ref ? { file: path.resolve(baseDir, ref.file) } : { env: ref.env }, at };
}

/** How a secret shows in a plan: where it comes from, never what it is. */
export const describeSecret = (value: SecretMarker): string =>
  'env' in value.$secret ? `(secret from env ${value.$secret.env})` : `(secret from file ${value.$secret.file})`;

/** Reads one secret, or says what is missing. */
function read(ref: SecretRef): { value: string } | { problem: string } {
  if ('env' in ref) {
    const value = process.env[ref.env];
    return value === undefined || value === ''
      ? { problem: `environment variable ${ref.env} is not set (it holds this secret value)` }
      : { value };
  }
  try {
    // A trailing newline (what `echo` and editors add) is not part of the secret.
    const value = readFileSync(ref.file, 'utf8').replace(/\r?\n$/, '');
    return value === '' ? { problem: `secret file ${ref.file} is empty` } : { value };
  } catch (error) {
    const code = (error as { code?: string }).code;
    return { problem: `cannot read secret file ${ref.file}${code ? ` (${code})` : ''}` };
  }
}

/** `value` with every marker replaced by its secret; a missing one fails with the state-file path that named it. */
export function resolveSecrets<T>(value: T, file: string): T {
  const problems: FileProblem[] = [];
  const walk = (v: unknown): unknown => {
    if (isMarker(v)) {
      const got = read(v.$secret);
      if ('value' in got) return got.value;
      problems.push({ path: v.at, message: got.problem });
      return '';
    }
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  const out = walk(value) as T;
  if (problems.length > 0) throw new StateFileError(file, problems);
  return out;
}

/** Every secret reference of a state file with its path. */
export function secretsOf(state: StateFile, baseDir: string): SecretMarker[] {
  const found: SecretMarker[] = [];
  for (const [i, w] of state.workloads.entries()) {
    for (const [name, value] of Object.entries(w.env)) {
      if (typeof value === 'object' && 'secret' in value)
        found.push(markSecret(value.secret, `workloads[${i}].env.${name}.secret`, baseDir));
    }
  }
  for (const [i, b] of state.inferenceBackends.entries()) {
    const at = `inferenceBackends[${i}].credentials`;
    const c = b.credentials;
    if (!c) continue;
    if (c.type === 'bearer') found.push(markSecret(c.token, `${at}.token`, baseDir));
    if (c.type === 'access') {
      if (typeof c.clientId !== 'string') found.push(markSecret(c.clientId, `${at}.clientId`, baseDir));
      found.push(markSecret(c.clientSecret, `${at}.clientSecret`, baseDir));
    }
    if (c.type === 'headers') for (const [h, ref] of Object.entries(c.headers)) found.push(markSecret(ref, `${at}.headers.${h}`, baseDir));
  }
  return found;
}

/** Checks that every secret the file references can be read now, listing each one that cannot with its path. */
export function checkSecrets(state: StateFile, file: string, baseDir: string): void {
  resolveSecrets(secretsOf(state, baseDir), file);
}
