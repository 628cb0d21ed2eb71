import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeAgentModule } from '../../scripts/build-agent.mjs';

// The Worker as a real process for the end-to-end tests, the browser tests and the benches: workerd under
// `wrangler dev --local` with a local D1. Waits are on events (a port answering, a predicate), never sleeps.

export const ROOT = process.env.EDGEPLANE_ROOT ?? path.resolve(import.meta.dirname, '../..');
const WRANGLER = path.join(ROOT, 'node_modules/.bin/wrangler');
export const DEV_ADMIN_TOKEN = 'e2e-dev-admin-token-0123456789';
const ENCRYPTION_KEY = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `read` until `ok` holds or the deadline passes; the error names what was awaited and the last value. */
export async function waitFor<T>(
  what: string,
  read: () => Promise<T> | T,
  ok: (value: T) => boolean,
  timeoutMs = 20_000,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await read();
      if (ok(last)) return last;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last)?.slice(0, 800)}${lastError ? `; last error: ${String(lastError)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const tempDir = (prefix: string): string => mkdtempSync(path.join(tmpdir(), `edgeplane-${prefix}-`));

/** Runs a wrangler command to completion; throws with its output when it fails. */
export function wrangler(args: string[]): void {
  const result = spawnSync(WRANGLER, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: '1' } });
  if (result.status !== 0) throw new Error(`wrangler ${args.slice(0, 3).join(' ')} failed: ${result.stderr || result.stdout}`);
}

/** Applies the D1 migrations to a local persistence directory (what `wrangler dev --persist-to` then uses). */
export function migrate(persistTo: string): void {
  wrangler(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persistTo]);
}

let agentModule: Promise<unknown> | undefined;

/** The Worker under `wrangler dev --local` on a fixed port and persistence directory, so it can be stopped and restarted. */
export class WorkerProcess {
  private child: ChildProcess | undefined;
  private stopping = false;
  output = '';

  /** `vars` are added to (or override) the defaults: development mode, the dev admin token, a test encryption key. */
  constructor(
    readonly port: number,
    readonly persistTo: string,
    private readonly vars: Record<string, string> = {},
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    // The Worker imports the agent bundle (its install manifest carries it): build it from the agent/ beside it.
    agentModule ??= writeAgentModule(ROOT);
    await agentModule;
    const inspector = await freePort();
    const args = [
      'dev',
      '--local',
      '--ip',
      '127.0.0.1',
      '--port',
      String(this.port),
      '--inspector-port',
      String(inspector),
      '--persist-to',
      this.persistTo,
      '--show-interactive-dev-session=false',
      '--log-level',
      'warn',
    ];
    const vars = {
      ENVIRONMENT: 'development',
      EDGEPLANE_DEV_ADMIN_TOKEN: DEV_ADMIN_TOKEN,
      EDGEPLANE_ENCRYPTION_KEY: ENCRYPTION_KEY,
      CLOUDFLARE_API_BASE_URL: 'http://127.0.0.1:9/client/v4',
      EDGEPLANE_SYNC_DEBOUNCE_MS: '3600000',
      ...this.vars,
    };
    for (const [name, value] of Object.entries(vars)) args.push('--var', `${name}:${value}`);
    const child = spawn(WRANGLER, args, {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CI: '1', WRANGLER_SEND_METRICS: 'false' },
    });
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    // A Worker that dies under a test turns every later call into "connection refused"; say why, once, where CI shows it.
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      console.error(
        `wrangler dev on ${this.url} exited by itself (code ${code}, signal ${signal}); its last output:\n${this.output.slice(-6000)}`,
      );
    });
    await waitFor(
      `the Worker on ${this.url} (wrangler output: ${this.output.slice(-500)})`,
      async () => {
        if (child.exitCode !== null) throw new Error(`wrangler exited: ${this.output.slice(-1000)}`);
        return (await fetch(`${this.url}/healthz`)).status;
      },
      (s) => s === 200,
      60_000,
      100,
    );
  }

  /** Stops wrangler and workerd (the whole process group this test started). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.stopping = true;
    process.kill(-child.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
    }, 5000);
    await exited;
    clearTimeout(timer);
    await waitFor(
      'the Worker port to close',
      () =>
        fetch(`${this.url}/healthz`).then(
          () => 'open',
          () => 'closed',
        ),
      (s) => s === 'closed',
      10_000,
    );
    this.child = undefined;
    this.stopping = false;
  }

  /** Calls the API as the dev admin. */
  async api(method: string, apiPath: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${this.url}${apiPath}`, {
      method,
      headers: {
        authorization: `Bearer ${DEV_ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  /** Calls the API and fails loudly on an unexpected status. */
  async apiOk<T>(method: string, apiPath: string, body?: unknown): Promise<T> {
    const response = await this.api(method, apiPath, body);
    if (!response.ok) throw new Error(`${method} ${apiPath} answered ${response.status}: ${await response.text()}`);
    return (response.status === 204 ? undefined : await response.json()) as T;
  }
}
