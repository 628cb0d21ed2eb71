import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_ADMIN_TOKEN, freePort, migrate, ROOT, tempDir, WorkerProcess } from '../support/worker';

// `edgeplane trace` and `edgeplane install` as a user runs them (`node cli/bin.mjs`) against the Worker in workerd.

const ACCOUNT = '0123456789abcdef0123456789abcdef';
const NODE = path.join(ROOT, 'node_modules/.bin/node');
let worker: WorkerProcess;
let dir: string;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
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
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  dir = tempDir('cli-trace');
  migrate(dir);
  worker = new WorkerProcess(await freePort(), dir, { CLOUDFLARE_ACCOUNT_ID: ACCOUNT });
  await worker.start();
  await worker.apiOk('POST', '/v1/clusters', { id: 'trace-c', name: 'trace' });
  await worker.apiOk('POST', '/v1/tunnels', { id: 'trace-t', cluster: 'trace-c', account: ACCOUNT });
  await worker.apiOk('POST', '/v1/routes', {
    tunnel: 'trace-t',
    hostname: 'app.trace.example.com',
    path: '/api',
    origin: { service: { namespace: 'apps', name: 'web', port: 80 } },
  });
});

afterAll(async () => {
  await worker.stop();
});

describe('edgeplane trace', () => {
  it('prints the chain with the first broken link and exits 1 when a link is broken', async () => {
    const broken = await cli(['trace', 'https://app.trace.example.com/elsewhere']);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/rule\s+BROKEN\s+tunnel trace-t: no rule matches, the catch-all answers .*<- first broken link/);
    expect(broken.stdout).toContain('first broken link: rule');
  });

  it('exits 0 when nothing is broken (unknown links are said to be not known), and --json is the API answer', async () => {
    const run = await cli(['trace', 'https://app.trace.example.com/api/x']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/origin\s+not known\s+Service apps\/web:80: not reported yet by the agent/);
    expect(run.stdout).toContain('no broken link');
    const asJson = await cli(['trace', 'https://app.trace.example.com/api/x', '--json']);
    const api = await worker.apiOk('GET', `/v1/trace?url=${encodeURIComponent('https://app.trace.example.com/api/x')}`);
    expect(JSON.parse(asJson.stdout)).toEqual(api);
  });
});

describe('edgeplane install', () => {
  it('prints one kubectl line whose signed link serves the manifest without a token; the expiry goes to stderr', async () => {
    const run = await cli(['install', 'trace-c', '--expires-in', '120']);
    expect(run.code).toBe(0);
    const match = /^kubectl apply -f '([^']+)'\n$/.exec(run.stdout);
    expect(match, run.stdout).not.toBeNull();
    const url = match?.[1] ?? '';
    expect(url).toMatch(/\/install\/trace-c\.yaml\?e=\d+&n=[\w-]+&s=[\w-]+$/);
    expect(run.stderr).toMatch(/the link expires at \d{4}-\d\d-\d\dT/);
    const manifest = await fetch(url);
    expect(manifest.status).toBe(200);
    expect(await manifest.text()).toContain('kind: Deployment');
    const bad = await cli(['install', 'trace-c', '--expires-in', 'soon']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--expires-in takes whole seconds');
  });
});
