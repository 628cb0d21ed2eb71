import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { DEV_ADMIN_TOKEN, freePort, migrate, ROOT, tempDir, WorkerProcess } from '../support/worker';

// The CLI exactly as a user runs it (`node cli/bin.mjs`, i.e. the package's bin) against the Worker in workerd with a
// local D1. Every assertion reads the CLI's exit code and output, or the API afterwards.

const ACCOUNT = '0123456789abcdef0123456789abcdef';
const NODE = path.join(ROOT, 'node_modules/.bin/node');
let worker: WorkerProcess;
let dir: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion without blocking the test's event loop (its keep-alive sockets must see closes). */
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
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const write = (name: string, content: unknown): string => {
  const file = path.join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : stringify(content));
  return file;
};

const route = (hostname: string, port: number) => ({ hostname, origin: { service: { namespace: 'apps', name: 'web', port } } });

/** The file the tests start from: one cluster, one tunnel with three routes and a private network, a WARP entry. */
const baseState = () => ({
  clusters: [{ id: 'cli-c', name: 'CLI cluster', nodes: [{ name: 'gpu-1', role: 'gpu' }] }],
  tunnels: [
    {
      id: 'cli-t',
      cluster: 'cli-c',
      account: ACCOUNT,
      routes: [route('a.cli.example.com', 80), route('b.cli.example.com', 80), route('c.cli.example.com', 80)],
      privateNetworks: [{ cidr: '10.40.0.0/16', comment: 'lab' }],
    },
  ],
  splitTunnel: [{ mode: 'include', host: 'intranet.cli.example.com', description: 'intranet' }],
});

/** The file's one tunnel (the base state has exactly one). */
function mainTunnel(state: ReturnType<typeof baseState>) {
  const [first] = state.tunnels;
  if (!first) throw new Error('the base state has a tunnel');
  return first;
}

beforeAll(async () => {
  dir = tempDir('cli');
  migrate(dir);
  worker = new WorkerProcess(await freePort(), dir, { CLOUDFLARE_ACCOUNT_ID: ACCOUNT });
  await worker.start();
});

afterAll(async () => {
  await worker.stop();
});

describe('edgeplane CLI against the Worker', () => {
  it('prints the same JSON Schema the Worker serves at /schema/state.json', async () => {
    const served = (await (await fetch(`${worker.url}/schema/state.json`)).json()) as Record<string, unknown>;
    const printed = await cli(['schema']);
    expect(printed.code).toBe(0);
    expect(JSON.parse(printed.stdout)).toEqual(served);
    expect(served.properties).toHaveProperty('tunnels');
  });

  it('refuses a bad file with the path of the offending field, and changes nothing', async () => {
    const state = baseState();
    state.tunnels.push({ ...mainTunnel(state), id: 'cli-t2', routes: [route('single-label', 80)], privateNetworks: [] });
    const run = await cli(['plan', '-f', write('bad.yaml', state), '--detailed-exitcode']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('tunnels[1].routes[0].hostname');
    expect(await worker.apiOk<{ items: unknown[] }>('GET', '/v1/clusters')).toEqual({ items: [], nextCursor: null });
  });

  it('plans (exit 2), applies, re-plans as no change (exit 0), and export round-trips', async () => {
    const file = write('state.yaml', baseState());
    const planned = await cli(['plan', '-f', file, '--detailed-exitcode']);
    expect(planned.stderr).toBe('');
    expect(planned.code).toBe(2);
    expect(planned.stdout).toContain('+ create cluster cli-c');
    expect(planned.stdout).toContain('+ create route a.cli.example.com (tunnel cli-t)');
    expect(planned.stdout).toContain('Plan: 7 to create, 0 to update, 0 to delete.');

    const json = await cli(['plan', '-f', file, '--json']);
    const report = JSON.parse(json.stdout) as {
      changes: { op: string }[];
      server: {
        accepted: number;
        refused: number;
        tunnels: { id: string; status: string }[];
        clusters: { id: string; diff: { created: unknown[] } }[];
      };
    };
    expect(report.server).toMatchObject({ accepted: 7, refused: 0 });
    // The new cluster is reported against an empty one: its tunnel's config and connector objects are all created.
    expect(report.server.tunnels.map((t) => [t.id, t.status])).toEqual([['cli-t', 'created']]);
    expect(report.server.clusters.map((c) => c.id)).toEqual(['cli-c']);
    expect(report.server.clusters[0]?.diff.created.length).toBeGreaterThan(0);

    const applied = await cli(['apply', '-f', file, '--auto-approve']);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('Apply complete: 7 change(s) applied.');
    const again = await cli(['plan', '-f', file, '--detailed-exitcode']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('No changes');
    expect((await cli(['apply', '-f', file, '--auto-approve'])).code).toBe(0);

    const exported = await cli(['export']);
    expect(exported.code).toBe(0);
    const replan = await cli(['plan', '-f', write('exported.yaml', exported.stdout), '--detailed-exitcode', '--prune']);
    expect(replan.stdout).toContain('No changes');
    expect(replan.code).toBe(0);
    const exportedJson = await cli(['export', '--format', 'json']);
    expect(parse(exported.stdout)).toEqual(JSON.parse(exportedJson.stdout));
  });

  it('shows exactly an edited field as the change, applies it, then reports no change', async () => {
    const state = baseState();
    mainTunnel(state).routes[1] = route('b.cli.example.com', 8080);
    const file = write('edited.yaml', state);
    const planned = await cli(['plan', '-f', file, '--detailed-exitcode']);
    expect(planned.code).toBe(2);
    expect(planned.stdout).toContain('~ update route b.cli.example.com (tunnel cli-t)');
    expect(planned.stdout).toContain('Plan: 0 to create, 1 to update, 0 to delete.');
    expect(planned.stdout.match(/^\s{4}\w+: /gm)).toEqual(['    origin: ']);
    // The cluster pre-flight needs the cluster's agent; with none registered the plan says so instead of guessing.
    const preflight = await cli(['plan', '-f', file, '--cluster-dry-run', '--detailed-exitcode']);
    expect(preflight.code).toBe(2);
    expect(preflight.stdout).toMatch(/^ {2}cluster cli-c pre-flight \(server-side dry run\): no agent: .+/m);
    expect((await cli(['apply', '-f', file, '--auto-approve'])).code).toBe(0);
    expect((await cli(['plan', '-f', file, '--detailed-exitcode'])).code).toBe(0);
  });

  it('--prune deletes only what the file owns and no longer names', async () => {
    // Objects the file does not own: a cluster it does not list (with a tunnel and route), a foreign WARP entry.
    await worker.apiOk('POST', '/v1/clusters', { id: 'other-c', name: 'other' });
    await worker.apiOk('POST', '/v1/tunnels', { id: 'other-t', cluster: 'other-c', account: ACCOUNT });
    await worker.apiOk('POST', '/v1/routes', { tunnel: 'other-t', ...route('other.cli.example.com', 80) });
    // A workload's own route on the file's tunnel belongs to the workload (which the file names): neither exported as a
    // route nor pruned.
    const web = {
      id: 'web',
      cluster: 'cli-c',
      namespace: 'apps',
      image: 'nginx:1.27',
      ports: [80],
      route: { tunnel: 'cli-t', hostname: 'wl.cli.example.com' },
    };
    await worker.apiOk('POST', '/v1/workloads', web);
    const state = baseState();
    mainTunnel(state).routes = mainTunnel(state).routes.slice(0, 2);
    mainTunnel(state).routes[1] = route('b.cli.example.com', 8080);
    state.splitTunnel = [];
    const file = write('pruned.yaml', { ...state, workloads: [web] });

    const kept = await cli(['plan', '-f', file, '--detailed-exitcode']);
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain('not in the file, kept (--prune would delete): route c.cli.example.com (tunnel cli-t)');
    const planned = await cli(['plan', '-f', file, '--prune', '--detailed-exitcode']);
    expect(planned.code).toBe(2);
    expect(planned.stdout).toContain('- delete route c.cli.example.com (tunnel cli-t)');
    expect(planned.stdout).toContain('- delete split-tunnel include intranet.cli.example.com');
    expect(planned.stdout).toContain('Plan: 0 to create, 0 to update, 2 to delete.');
    expect(planned.stdout).not.toContain('other');
    expect((await cli(['apply', '-f', file, '--prune', '--auto-approve'])).code).toBe(0);

    const routes = await worker.apiOk<{ items: { hostname: string }[] }>('GET', '/v1/routes');
    expect(routes.items.map((r) => r.hostname).sort()).toEqual([
      'a.cli.example.com',
      'b.cli.example.com',
      'other.cli.example.com',
      'wl.cli.example.com',
    ]);
    expect((await cli(['export'])).stdout.match(/wl\.cli\.example\.com/g)).toHaveLength(1); // the workload's `route`
    expect((await worker.api('GET', '/v1/tunnels/other-t')).status).toBe(200);
    expect((await cli(['plan', '-f', file, '--prune', '--detailed-exitcode'])).code).toBe(0);
  });

  it('a stale If-Match stops apply mid-way and reports what was and was not applied', async () => {
    const state = baseState();
    mainTunnel(state).routes = [route('a.cli.example.com', 81), route('b.cli.example.com', 81), route('c.cli.example.com', 81)];
    state.splitTunnel = [];
    const file = write('stale.yaml', state);
    const saved = path.join(dir, 'plan.json');
    const planned = await cli(['plan', '-f', file, '--out', saved, '--detailed-exitcode']);
    expect(planned.code).toBe(2);
    expect(planned.stdout).toContain('Plan: 1 to create, 2 to update, 0 to delete.');
    // Someone changes route b between the plan and the apply.
    const b = (await worker.apiOk<{ items: { id: string; hostname: string }[] }>('GET', '/v1/routes?hostname=b.cli.example.com')).items[0];
    await worker.apiOk('PATCH', `/v1/routes/${b?.id ?? ''}`, { dns: false });

    const applied = await cli(['apply', '--plan', saved, '--auto-approve']);
    expect(applied.code).toBe(1);
    expect(applied.stdout).toContain('Apply stopped: update route b.cli.example.com (tunnel cli-t) failed (412 precondition_failed)');
    expect(applied.stdout).toMatch(/Applied \(1\):\n {4}update route a\.cli\.example\.com/);
    expect(applied.stdout).toMatch(
      /Not applied \(2\):\n {4}update route b\.cli\.example\.com \(tunnel cli-t\) \(failed\)\n {4}create route c\.cli/,
    );
    const after = await worker.apiOk<{ items: { hostname: string; dns: boolean; origin: { service: { port: number } } }[] }>(
      'GET',
      '/v1/routes?tunnel=cli-t',
    );
    const port = (h: string) => after.items.find((r) => r.hostname === h)?.origin.service.port;
    expect([port('a.cli.example.com'), port('b.cli.example.com'), port('c.cli.example.com')]).toEqual([81, 8080, undefined]);
    expect(after.items.find((r) => r.hostname === 'b.cli.example.com')?.dns).toBe(false);
  });

  it("does not apply anything the Worker's plan refuses, and says why", async () => {
    const state = baseState();
    mainTunnel(state).routes.push(route('other.cli.example.com', 80), route('d.cli.example.com', 80));
    const file = write('refused.yaml', state);
    const planned = await cli(['plan', '-f', file, '--detailed-exitcode']);
    expect(planned.code).toBe(1);
    expect(planned.stdout).toContain('refused (409 conflict): hostname "other.cli.example.com" is already routed through tunnel "other-t"');
    const applied = await cli(['apply', '-f', file, '--auto-approve']);
    expect(applied.code).toBe(1);
    expect(applied.stdout).toContain('Nothing applied');
    expect((await worker.apiOk<{ items: unknown[] }>('GET', '/v1/routes?hostname=d.cli.example.com')).items).toEqual([]);
  });

  it('login stores the URL and token readable by the user only; API errors show the envelope', async () => {
    const login = await cli(['login', worker.url], { EDGEPLANE_URL: '' });
    expect(login.code).toBe(0);
    const config = path.join(dir, 'config.json');
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(config, 'utf8'))).toEqual({ url: worker.url, token: DEV_ADMIN_TOKEN });
    const missing = await cli(['get', 'tunnel', 'no-such-tunnel'], { EDGEPLANE_URL: '' });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('(404 not_found)');
    const denied = await cli(['status'], { EDGEPLANE_TOKEN: 'wrong-token-0123456789' });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('401 unauthorized');
  });
});
