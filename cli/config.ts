import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/** Where `edgeplane login` keeps the URL and token: the user's config directory, readable by the user only. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.EDGEPLANE_CONFIG) return env.EDGEPLANE_CONFIG;
  const base =
    env.XDG_CONFIG_HOME ??
    (process.platform === 'win32' ? (env.APPDATA ?? path.join(homedir(), 'AppData', 'Roaming')) : path.join(homedir(), '.config'));
  return path.join(base, 'edgeplane', 'config.json');
}

export interface Credentials {
  url: string;
  token: string;
}

/** Stores the credentials with 0600 permissions (the directory 0700). */
export function saveCredentials(credentials: Credentials, file = configPath()): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/**
 * The Worker to talk to: EDGEPLANE_URL and EDGEPLANE_TOKEN from the environment (CI needs no login), else what
 * `edgeplane login` stored; `--url` overrides the URL.
 */
export function loadCredentials(urlFlag: string | undefined, env: NodeJS.ProcessEnv = process.env): Credentials {
  let stored: Partial<Credentials> = {};
  try {
    stored = JSON.parse(readFileSync(configPath(env), 'utf8')) as Partial<Credentials>;
  } catch {
    // No login yet: the environment must supply both.
  }
  const url = urlFlag || env.EDGEPLANE_URL || stored.url;
  const token = env.EDGEPLANE_TOKEN || stored.token;
  if (!url || !token) {
    throw new UsageError('not logged in: run `edgeplane login <url>`, or set EDGEPLANE_URL and EDGEPLANE_TOKEN');
  }
  return { url, token };
}

/** A mistake in how the CLI was called or configured (exit code 1, no stack trace). */
export class UsageError extends Error {}
