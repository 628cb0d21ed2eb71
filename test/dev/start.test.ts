import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// `npm start` as a user runs it: migrate a local D1, serve, seed through the API; a second start keeps the data.
const persistDir = mkdtempSync(path.join(tmpdir(), 'edgeplane-start-'));
const running: ChildProcess[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Runs scripts/start.mjs until it prints its banner; resolves with the banner line. */
async function start(port: number): Promise<{ child: ChildProcess; banner: string }> {
  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    env: { ...process.env, PORT: String(port), EDGEPLANE_PERSIST_DIR: persistDir, CLOUDFLARE_API_TOKEN: '' },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let output = '';
  const banner = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const line = output
        .split('\n')
        .slice(0, -1)
        .find((l) => l.startsWith('edgeplane is running'));
      if (line) resolve(line);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output.slice(-3000)}`)));
  });
  return { child, banner };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid, 'SIGTERM');
  await exited;
}

afterAll(async () => {
  for (const child of running) await stop(child).catch(() => undefined);
  rmSync(persistDir, { recursive: true, force: true });
});

const get = async (port: number, urlPath: string) =>
  fetch(`http://127.0.0.1:${port}${urlPath}`, { headers: { authorization: 'Bearer dev-admin-token' } });

const countOf = async (port: number, urlPath: string) => ((await (await get(port, urlPath)).json()) as { items: unknown[] }).items.length;

describe('npm start', () => {
  it('serves the API, the OpenAPI document and the seeded demo, and does not seed twice', async () => {
    const port = await freePort();
    const first = await start(port);
    expect(first.banner).toContain('demo data seeded');
    expect((await get(port, '/healthz')).status).toBe(200);
    expect(((await (await get(port, '/openapi.json')).json()) as { openapi: string }).openapi).toMatch(/^3\./);
    const clusters = ((await (await get(port, '/v1/clusters')).json()) as { items: { id: string; nodes: { role: string }[] }[] }).items;
    expect(clusters.map((c) => c.id)).toEqual(['oceanid', 'trinity']);
    expect(clusters[0]?.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker', 'worker', 'gpu']);
    const trinity = ((await (await get(port, '/v1/routes?tunnel=trinity')).json()) as { items: { path: string | null }[] }).items;
    expect(trinity.map((r) => r.path).sort()).toEqual(['/', '/admin', '/api', '/trinityai']);
    const routes = await countOf(port, '/v1/routes');
    const entries = await countOf(port, '/v1/split-tunnel');
    expect(entries).toBe(2);
    await stop(first.child);

    // No process started for it carries a secret on its command line, which every user of the machine can read.
    const key = readFileSync('.wrangler/dev-encryption-key', 'utf8').trim();
    const commandLines = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .map((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ');
        } catch {
          return '';
        }
      })
      .filter((line) => line.includes(persistDir));
    expect(commandLines.some((line) => line.includes('wrangler') && line.includes('dev'))).toBe(true);
    for (const line of commandLines) {
      expect(line).not.toContain(key);
      expect(line).not.toContain('dev-admin-token');
    }

    const second = await start(port);
    expect(second.banner).toContain('already present');
    expect(await countOf(port, '/v1/routes')).toBe(routes);
    expect(await countOf(port, '/v1/split-tunnel')).toBe(entries);
    await stop(second.child);
  });
});
