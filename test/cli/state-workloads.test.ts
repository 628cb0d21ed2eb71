import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { DEV_ADMIN_TOKEN, freePort, migrate, ROOT, tempDir, WorkerProcess } from '../support/worker';

// Workloads, inference backends and ML backends in the state file, and secrets given as references: the CLI as a user
// runs it against the Worker in workerd with a local D1. Secret values are checked through behaviour (the bundle hash
// the agent would get, the header an upstream receives), and every line the CLI prints is searched for them.

const ACCOUNT = '0123456789abcdef0123456789abcdef';
const NODE = path.join(ROOT, 'node_modules/.bin/node');
const DB_PASSWORD = 'db-pw-7f3a9c1e55';
const ROTATED = 'db-pw-rotated-0b8d2e';
const API_TOKEN = 'api-token-file-c41d88';
const TRITON_TOKEN = 'triton-bearer-9e77aa';
const SECRETS = [DB_PASSWORD, ROTATED, API_TOKEN, TRITON_TOKEN];

let worker: WorkerProcess;
let dir: string;
let upstream: Server;
let upstreamUrl: string;
/** Headers of each request the upstream (a stand-in Triton answering /v2/health/ready) received. */
const received: IncomingHttpHeaders[] = [];
/** Everything the CLI printed in this file, searched for secret values at the end. */
const printed: string[] = [];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(NODE, [path.join(ROOT, 'cli/bin.mjs'), ...args], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      EDGEPLANE_CONFIG: path.join(dir, 'config.json'),
      EDGEPLANE_URL: worker.url,
      EDGEPLANE_TOKEN: DEV_ADMIN_TOKEN,
      NO_COLOR: '1',
      ...env,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      printed.push(stdout, stderr);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The environment that holds the secrets the state file references. */
const SECRET_ENV = { APP_DB_PASSWORD: DB_PASSWORD, TRITON_TOKEN };

const write = (name: string, content: unknown): string => {
  const file = path.join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : stringify(content));
  return file;
};

/** One cluster with a tunnel, a workload with two secrets and a route, an inference backend with a token, an ML backend. */
const baseState = () => ({
  clusters: [{ id: 'wl-c', name: 'workloads' }],
  tunnels: [{ id: 'wl-t', cluster: 'wl-c', account: ACCOUNT }],
  workloads: [
    {
      id: 'web',
      cluster: 'wl-c',
      namespace: 'apps',
      image: 'nginx:1.27',
      ports: [80],
      replicas: 1,
      env: {
        MODE: 'production',
        DB_PASSWORD: { secret: { env: 'APP_DB_PASSWORD' } },
        API_TOKEN: { secret: { file: 'secrets/api-token.txt' } },
      },
      route: { tunnel: 'wl-t', hostname: 'web.wl.example.com' },
    },
  ],
  inferenceBackends: [{ id: 'gpu', upstreams: [{ url: upstreamUrl }], credentials: { type: 'bearer', token: { env: 'TRITON_TOKEN' } } }],
  mlBackends: [
    {
      id: 'sentiment',
      backend: 'gpu',
      model: 'sentiment',
      task: 'text-classification',
      input: { field: 'text', tensor: 'TEXT' },
      output: { tensor: 'LOGITS' },
    },
  ],
});

function first<T>(list: T[]): T {
  const item = list[0];
  if (item === undefined) throw new Error('expected an item');
  return item;
}

const bundleHash = async () => (await worker.apiOk<{ hash: string }>('GET', '/v1/clusters/wl-c/manifests')).hash;

beforeAll(async () => {
  dir = tempDir('cli-wl');
  migrate(dir);
  upstream = createServer((req, res) => {
    received.push(req.headers);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('');
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  worker = new WorkerProcess(await freePort(), dir, { CLOUDFLARE_ACCOUNT_ID: ACCOUNT });
  await worker.start();
  mkdirSync(path.join(dir, 'secrets'));
  write('secrets/api-token.txt', `${API_TOKEN}\n`);
});

afterAll(async () => {
  await worker.stop();
  await new Promise((resolve) => upstream.close(resolve));
});

describe('workloads, inference and ML backends in the state file', () => {
  it('refuses to plan while a referenced secret cannot be read, naming the field, and changes nothing', async () => {
    const file = write('state.yaml', baseState());
    const run = await cli(['plan', '-f', file, '--detailed-exitcode'], { APP_DB_PASSWORD: DB_PASSWORD });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('inferenceBackends[0].credentials.token: environment variable TRITON_TOKEN is not set');
    const missingFile = baseState();
    first(missingFile.workloads).env.API_TOKEN = { secret: { file: 'secrets/nope.txt' } };
    const other = await cli(['plan', '-f', write('missing.yaml', missingFile)], SECRET_ENV);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/workloads\[0\]\.env\.API_TOKEN\.secret: cannot read secret file \S+secrets\/nope\.txt \(ENOENT\)/);
    // A secret value written into the file is refused too (the name is stored as a secret).
    const inline = baseState() as { workloads: { env: Record<string, unknown> }[] };
    first(inline.workloads).env.DB_PASSWORD = 'in-the-file';
    const refused = await cli(['plan', '-f', write('inline.yaml', inline)], SECRET_ENV);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('workloads[0].env.DB_PASSWORD: DB_PASSWORD is stored as a secret');
    expect((await worker.apiOk<{ items: unknown[] }>('GET', '/v1/workloads')).items).toEqual([]);
  });

  it('plans and applies them with the secrets read from env and file, then plans no change', async () => {
    const file = write('state.yaml', baseState());
    const planned = await cli(['plan', '-f', file, '--detailed-exitcode'], SECRET_ENV);
    expect(planned.stderr).toBe('');
    expect(planned.code).toBe(2);
    expect(planned.stdout).toContain('+ create inference backend gpu');
    expect(planned.stdout).toContain('+ create workload web (cluster wl-c, namespace apps)');
    expect(planned.stdout).toContain('+ create ML backend sentiment (inference backend gpu)');
    expect(planned.stdout).toContain('Plan: 5 to create, 0 to update, 0 to delete.');
    // The server's plan saw the workload: its route's tunnel config and its objects in the new cluster.
    const json = JSON.parse((await cli(['plan', '-f', file, '--json'], SECRET_ENV)).stdout) as {
      server: { accepted: number; tunnels: { id: string; diff: { rules: { hostname: string | null }[] } }[] };
    };
    expect(json.server.accepted).toBe(5);
    expect(first(json.server.tunnels).diff.rules.map((r) => r.hostname)).toContain('web.wl.example.com');

    const applied = await cli(['apply', '-f', file, '--auto-approve'], SECRET_ENV);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('Apply complete: 5 change(s) applied.');
    const again = await cli(['plan', '-f', file, '--detailed-exitcode'], SECRET_ENV);
    expect(again.stdout).toContain('No changes');
    expect(again.code).toBe(0);

    // Stored as secrets: shown only as set, and the upstream receives the token read from the environment.
    const web = await worker.apiOk<{ env: Record<string, unknown>; routeId: string | null }>('GET', '/v1/workloads/web');
    expect(web.env).toEqual({ MODE: 'production', DB_PASSWORD: { secret: true }, API_TOKEN: { secret: true } });
    expect(web.routeId).not.toBeNull();
    expect((await worker.apiOk<{ credentials: unknown }>('GET', '/v1/inference/backends/gpu')).credentials).toEqual({ type: 'bearer' });
    const health = await worker.api('GET', '/inference/gpu/v2/health/ready');
    expect(health.status).toBe(200);
    expect(received.at(-1)?.authorization).toBe(`Bearer ${TRITON_TOKEN}`);
  });

  it('sends a changed secret value only with --update-secrets; the bundle the agent gets follows the value', async () => {
    const file = path.join(dir, 'state.yaml');
    const original = await bundleHash();
    const unseen = await cli(['plan', '-f', file, '--detailed-exitcode'], { ...SECRET_ENV, APP_DB_PASSWORD: ROTATED });
    expect(unseen.code).toBe(0);
    const rotate = await cli(['plan', '-f', file, '--update-secrets', '--detailed-exitcode'], { ...SECRET_ENV, APP_DB_PASSWORD: ROTATED });
    expect(rotate.code).toBe(2);
    expect(rotate.stdout).toContain('~ update workload web');
    expect(rotate.stdout).toContain('(secret from env APP_DB_PASSWORD)');
    expect(rotate.stdout).toContain('Plan: 0 to create, 2 to update, 0 to delete.');
    const applied = await cli(['apply', '-f', file, '--update-secrets', '--auto-approve'], { ...SECRET_ENV, APP_DB_PASSWORD: ROTATED });
    expect(applied.code).toBe(0);
    const rotated = await bundleHash();
    expect(rotated).not.toBe(original);
    // Back to the first value: exactly the first bundle again, so the value (not just "a change") is what was stored.
    expect((await cli(['apply', '-f', file, '--update-secrets', '--auto-approve'], SECRET_ENV)).code).toBe(0);
    expect(await bundleHash()).toBe(original);
  });

  it('exports without secret values (saying so), and the export plans as no change', async () => {
    const exported = await cli(['export']);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toContain('secret values are never exported');
    expect(exported.stderr).toContain('workloads[0].env.DB_PASSWORD.secret: (secret from env EDGEPLANE_SECRET_WEB_DB_PASSWORD)');
    const state = parse(exported.stdout) as {
      workloads: { env: Record<string, unknown> }[];
      inferenceBackends: { credentials: unknown }[];
    };
    expect(first(state.workloads).env).toEqual({
      MODE: 'production',
      DB_PASSWORD: { secret: { env: 'EDGEPLANE_SECRET_WEB_DB_PASSWORD' } },
      API_TOKEN: { secret: { env: 'EDGEPLANE_SECRET_WEB_API_TOKEN' } },
    });
    expect(first(state.inferenceBackends).credentials).toEqual({ type: 'bearer', token: { env: 'EDGEPLANE_SECRET_GPU_TOKEN' } });
    const placeholders = {
      EDGEPLANE_SECRET_WEB_DB_PASSWORD: DB_PASSWORD,
      EDGEPLANE_SECRET_WEB_API_TOKEN: API_TOKEN,
      EDGEPLANE_SECRET_GPU_TOKEN: TRITON_TOKEN,
    };
    const replan = await cli(['plan', '-f', write('exported.yaml', exported.stdout), '--prune', '--detailed-exitcode'], placeholders);
    expect(replan.stdout).toContain('No changes');
    expect(replan.code).toBe(0);
  });

  it('shows exactly an edited workload field as the change (exit 2), applies it, then plans no change', async () => {
    const state = baseState();
    first(state.workloads).replicas = 3;
    const file = write('edited.yaml', state);
    const planned = await cli(['plan', '-f', file, '--detailed-exitcode'], SECRET_ENV);
    expect(planned.code).toBe(2);
    expect(planned.stdout).toContain('~ update workload web (cluster wl-c, namespace apps)');
    expect(planned.stdout.match(/^\s{4}\w+: .*$/gm)).toEqual(['    replicas: 1 → 3']);
    expect(planned.stdout).toContain('Plan: 0 to create, 1 to update, 0 to delete.');
    const applied = await cli(['apply', '-f', file, '--auto-approve'], SECRET_ENV);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('✓ update workload web');
    expect((await worker.apiOk<{ replicas: number }>('GET', '/v1/workloads/web')).replicas).toBe(3);
    expect((await cli(['plan', '-f', file, '--detailed-exitcode'], SECRET_ENV)).code).toBe(0);
    // An env change sends the whole map again, secrets with their values: still set afterwards.
    first(state.workloads).env.MODE = 'staging';
    const envEdit = write('env-edit.yaml', state);
    const envPlan = await cli(['plan', '-f', envEdit, '--detailed-exitcode'], SECRET_ENV);
    expect(envPlan.code).toBe(2);
    expect(envPlan.stdout.match(/^\s{4}\w+: .*$/gm)?.map((l) => l.trim().split(':')[0])).toEqual(['env']);
    const before = await bundleHash();
    expect((await cli(['apply', '-f', envEdit, '--auto-approve'], SECRET_ENV)).code).toBe(0);
    expect(await bundleHash()).not.toBe(before);
    expect((await worker.apiOk<{ env: Record<string, unknown> }>('GET', '/v1/workloads/web')).env).toEqual({
      MODE: 'staging',
      DB_PASSWORD: { secret: true },
      API_TOKEN: { secret: true },
    });
    expect((await cli(['plan', '-f', envEdit, '--detailed-exitcode'], SECRET_ENV)).code).toBe(0);
  });

  it('--prune deletes only the workloads and backends the file owns and no longer names', async () => {
    // Owned but unnamed: a workload in the file's cluster, an ML backend (the file has an mlBackends list).
    await worker.apiOk('POST', '/v1/workloads', { id: 'extra', cluster: 'wl-c', namespace: 'apps', image: 'redis:7' });
    await worker.apiOk('POST', '/v1/ml-backends', {
      id: 'extra-ml',
      backend: 'gpu',
      model: 'ner',
      task: 'span-labeling',
      input: { field: 'text', tensor: 'TEXT' },
      output: { tensor: 'SPANS' },
    });
    // Not owned: a workload in a cluster the file does not list.
    await worker.apiOk('POST', '/v1/clusters', { id: 'other-c', name: 'other' });
    await worker.apiOk('POST', '/v1/workloads', { id: 'foreign', cluster: 'other-c', namespace: 'apps', image: 'redis:7' });
    const state = baseState();
    first(state.workloads).replicas = 3;
    first(state.workloads).env.MODE = 'staging';
    const file = write('prune.yaml', state);

    const kept = await cli(['plan', '-f', file, '--detailed-exitcode'], SECRET_ENV);
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain('not in the file, kept (--prune would delete): workload extra (cluster wl-c, namespace apps)');
    expect(kept.stdout).toContain('not in the file, kept (--prune would delete): ML backend extra-ml (inference backend gpu)');
    const planned = await cli(['plan', '-f', file, '--prune', '--detailed-exitcode'], SECRET_ENV);
    expect(planned.code).toBe(2);
    expect(planned.stdout).toContain('- delete workload extra (cluster wl-c, namespace apps)');
    expect(planned.stdout).toContain('- delete ML backend extra-ml (inference backend gpu)');
    expect(planned.stdout).toContain('Plan: 0 to create, 0 to update, 2 to delete.');
    expect(planned.stdout).not.toContain('foreign');
    expect((await cli(['apply', '-f', file, '--prune', '--auto-approve'], SECRET_ENV)).code).toBe(0);

    const workloads = await worker.apiOk<{ items: { id: string }[] }>('GET', '/v1/workloads');
    expect(workloads.items.map((w) => w.id).sort()).toEqual(['foreign', 'web']);
    const mls = await worker.apiOk<{ items: { id: string }[] }>('GET', '/v1/ml-backends');
    expect(mls.items.map((m) => m.id)).toEqual(['sentiment']);
    expect((await cli(['plan', '-f', file, '--prune', '--detailed-exitcode'], SECRET_ENV)).code).toBe(0);
  });

  it('never printed a secret value, in any command of this file', () => {
    expect(printed.length).toBeGreaterThan(20);
    for (const secret of SECRETS) expect(printed.filter((text) => text.includes(secret))).toEqual([]);
  });
});
