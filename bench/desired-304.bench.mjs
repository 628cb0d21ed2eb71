// `GET /agent/v1/desired` answered 304 (If-None-Match matching), p99 ≤ 2.5 ms locally (issue 16: answered by the cluster's
// notifier Durable Object without D1, ADR 0011; DESIGN.md → Budgets had 5 ms with the D1 read), measured on
// the Worker itself rather than through `wrangler dev` and its proxy Worker: the bundle `wrangler deploy` would upload
// (`--dry-run --outdir`), run by Miniflare in workerd with wrangler.toml's bindings (unstable_getMiniflareWorkerOptions)
// and the local D1 `wrangler d1 migrations apply --local` migrated. The agent credential is obtained the normal way:
// install.yaml's bootstrap token → POST /agent/v1/register with a credential made as the agent makes it. Requests go to the Worker's own socket (Miniflare's direct
// socket, no router Worker in front) from `node:http` with keep-alive, one at a time. Figures:
//   1. the 304 at the caller, p50 / p99 over BENCH_ROUNDS × BENCH_REQUESTS requests after BENCH_WARMUP, vs 2.5 ms;
//   2. the same 304 inside the Worker (its `Server-Timing: app;dur=`; workerd's clock moves in whole ms, at I/O), vs 2.5 ms;
//   3. baseline: a bare `GET /healthz` (no auth, no D1) of the same Worker, timed the same way, interleaved with (1);
//   4. baseline: the floor of one local D1 query — a three-line Worker in the same workerd, bound to the same D1, that
//      runs `SELECT 1` — timed the same way (caller and Server-Timing), interleaved with (1);
//   5. baseline: the platform's floor — the same three-line Worker answering 204 at once (no app, no storage);
//   6. for reference, the 304 and /healthz through Miniflare's entry socket (its router Worker, which wrangler dev's
//      proxy forwards to).
// The machine's load average is printed with the figures: on a shared 2-core VM other processes move the p99s.
// Run: `node bench/desired-304.bench.mjs` (or `npm run bench desired-304`).
// Env: BENCH_REQUESTS (1000), BENCH_ROUNDS (3), BENCH_WARMUP (500).
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 500);
const BUDGET_MS = 2.5;
const execFileAsync = promisify(execFile);
const devToken = 'bench-dev-admin-token-0123456789';

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
};
const ms = (v) => `${v.toFixed(2)} ms`;
const ratio = (value, budget) => `${(value / budget).toFixed(3)}× of budget`;
const verdict = (value, budget) => (value <= budget ? 'met' : 'not met');
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

// The miniflare wrangler itself depends on (and so the workerd `npm start` runs), not whatever else is installed.
const requireFromWrangler = createRequire(createRequire(path.join(root, 'package.json')).resolve('wrangler/package.json'));
const miniflareEntry = requireFromWrangler.resolve('miniflare');
const { Miniflare, convertV4MiniflareOptions } = requireFromWrangler('miniflare');
const miniflareVersion = JSON.parse(readFileSync(path.join(path.dirname(miniflareEntry), '../../package.json'), 'utf8')).version;
const wrangler = await import('wrangler');

const work = mkdtempSync(path.join(tmpdir(), 'edgeplane-304-bench-'));
const persist = path.join(work, 'state');
const bundleDir = path.join(work, 'bundle');
const runWrangler = (args) => {
  const result = spawnSync('npx', ['wrangler', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, CI: '1', WRANGLER_SEND_METRICS: 'false' },
  });
  if (result.status !== 0) throw new Error(`wrangler ${args.join(' ')} failed: ${result.stderr || result.stdout}`);
};

/** Baseline 4: one D1 query and nothing else, timed like the handler times itself. */
const D1_FLOOR_WORKER = `export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname === '/empty') return new Response(null, { status: 204 });
    const started = performance.now();
    await env.DB.prepare('SELECT 1').first();
    return new Response(null, { status: 204, headers: { 'server-timing': 'app;dur=' + (performance.now() - started).toFixed(2) } });
  },
};`;

let mf;
try {
  runWrangler(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist]);
  runWrangler(['deploy', '--dry-run', '--outdir', bundleDir]);

  // wrangler.toml's bindings, Durable Objects and compatibility settings, in the flat (v4) option shape miniflare 5
  // converts. modulesRules only matter to unbundled sources: the dry-run output is one ES module.
  const { workerOptions } = wrangler.unstable_getMiniflareWorkerOptions(path.join(root, 'wrangler.toml'));
  delete workerOptions.modulesRules;
  mf = new Miniflare(
    convertV4MiniflareOptions({
      host: '127.0.0.1',
      port: 0,
      // The layout `wrangler … --persist-to` uses (<dir>/v3/d1, …), so the D1 migrated above is the one the Worker opens.
      resourcePersistencePath: path.join(persist, 'v3'),
      logRequests: false,
      cf: { colo: 'LOCAL', country: 'XX' },
      workers: [
        {
          ...workerOptions,
          name: 'edgeplane',
          // Module names are relative to rootPath and may not climb out of it.
          rootPath: bundleDir,
          modules: true,
          scriptPath: path.join(bundleDir, 'index.js'),
          unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
          bindings: {
            ...workerOptions.bindings,
            ENVIRONMENT: 'development',
            EDGEPLANE_DEV_ADMIN_TOKEN: devToken,
            EDGEPLANE_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
            // No Cloudflare sync while measuring (no API token here anyway).
            EDGEPLANE_SYNC_DEBOUNCE_MS: '3600000',
          },
        },
        {
          name: 'd1-floor',
          compatibilityDate: workerOptions.compatibilityDate,
          modules: true,
          script: D1_FLOOR_WORKER,
          d1Databases: workerOptions.d1Databases,
          unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
        },
      ],
    }),
  );
  const entry = (await mf.ready).href.replace(/\/$/, '');
  const direct = (await mf.unsafeGetDirectURL('edgeplane')).href.replace(/\/$/, '');
  const floor = (await mf.unsafeGetDirectURL('d1-floor')).href.replace(/\/$/, '');

  const api = async (method, url, body, token = devToken) => {
    const response = await fetch(`${direct}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (response.status >= 400) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
    return response;
  };

  // A cluster with a tunnel and 20 routes, its install manifest's bootstrap token, and a credential made as the agent
  // makes it and registered with that token.
  await api('POST', '/v1/clusters', { id: 'bench', name: 'bench' });
  await api('POST', '/v1/tunnels', {
    id: 'edge',
    cluster: 'bench',
    account: '0123456789abcdef0123456789abcdef',
    mode: { type: 'ingress' },
  });
  for (let i = 0; i < 20; i++) {
    await api('POST', '/v1/routes', {
      tunnel: 'edge',
      hostname: `r${i}.example.com`,
      origin: { service: { namespace: 'apps', name: 'web', port: 80 } },
      dns: false,
    });
  }
  const manifest = await (await api('GET', '/v1/clusters/bench/install.yaml')).text();
  const bootstrap = /token: (epb_\S+)/.exec(manifest)?.[1];
  if (!bootstrap) throw new Error('no bootstrap token in the install manifest');
  const credential = `epa.bench.${randomBytes(32).toString('base64url')}`;
  const registration = {
    clusterId: 'bench',
    credential,
    identity: 'bench-kube-system-uid',
    kubernetesVersion: 'v1.31.4+k3s1',
    nodeCount: 1,
    agentVersion: 'bench',
  };
  await api('POST', '/agent/v1/register', registration, bootstrap);
  const first = await api('GET', '/agent/v1/desired', undefined, credential);
  const etag = first.headers.get('etag');
  const bundle = await first.json();
  const conditional = { authorization: `Bearer ${credential}`, 'if-none-match': etag };

  /** Interleaved 304 / healthz (/ D1 floor) requests from the separate timing client, so every series sees the same
   * machine noise and none of this process's. */
  async function measure(base, rounds, withFloor) {
    const job = {
      warmup: WARMUP,
      rounds,
      requests: REQUESTS,
      series: [
        { name: 'caller', url: `${base}/agent/v1/desired`, headers: conditional, expect: 304 },
        { name: 'bare', url: `${base}/healthz`, expect: 200 },
        ...(withFloor
          ? [
              { name: 'floor', url: floor, expect: 204 },
              { name: 'empty', url: `${floor}/empty`, expect: 204 },
            ]
          : []),
      ],
    };
    const { stdout } = await execFileAsync(process.execPath, [path.join(root, 'bench/lib/interleaved-client.mjs'), JSON.stringify(job)], {
      maxBuffer: 64 * 1024 * 1024,
    });
    const measured = JSON.parse(stdout);
    const rows = (key) => {
      if (key === 'inWorker') return measured.caller.inWorker;
      if (key === 'floorInWorker') return measured.floor?.inWorker ?? [];
      return measured[key]?.caller ?? [];
    };
    const all = (key) => rows(key).flat();
    const perRound = (key) =>
      rows(key)
        .map((round) => quantile(round, 0.99).toFixed(2))
        .join(' / ');
    return { all, perRound };
  }

  console.log(
    `setup: the wrangler deploy --dry-run bundle (${(statSync(path.join(bundleDir, 'index.js')).size / 1024).toFixed(0)} KiB) in miniflare ${miniflareVersion} (${path.relative(root, miniflareEntry)}) with a local D1, no wrangler dev; bundle revision ${bundle.revision}, ${bundle.objects.length} objects; ${ROUNDS} × ${REQUESTS} requests of each kind after ${WARMUP} warm-up`,
  );
  const loadBefore = load();
  const own = await measure(direct, ROUNDS, true);
  const loadAfter = load();
  const viaEntry = await measure(entry, 1, false);

  const p99 = quantile(own.all('caller'), 0.99);
  const inP99 = quantile(own.all('inWorker'), 0.99);
  const bareP99 = quantile(own.all('bare'), 0.99);
  console.log(
    `GET /agent/v1/desired 304 p99 at the caller: ${ms(p99)} (${ratio(p99, BUDGET_MS)} ${BUDGET_MS} ms → ${verdict(p99, BUDGET_MS)}; p50 ${ms(quantile(own.all('caller'), 0.5))}; p99 per round ${own.perRound('caller')} ms; bare /healthz p99 ${ms(bareP99)} → ${(p99 / bareP99).toFixed(2)}× baseline; load average ${loadBefore} → ${loadAfter})`,
  );
  console.log(
    `GET /agent/v1/desired 304 p99 in the Worker (Server-Timing): ${ms(inP99)} (${ratio(inP99, BUDGET_MS)} ${BUDGET_MS} ms → ${verdict(inP99, BUDGET_MS)}; p50 ${ms(quantile(own.all('inWorker'), 0.5))}; p99 per round ${own.perRound('inWorker')} ms)`,
  );
  console.log(
    `baseline GET /healthz at the caller: p50 ${ms(quantile(own.all('bare'), 0.5))}, p99 ${ms(bareP99)} (${ratio(bareP99, BUDGET_MS)} ${BUDGET_MS} ms; p99 per round ${own.perRound('bare')} ms)`,
  );
  const floorP99 = quantile(own.all('floor'), 0.99);
  console.log(
    `baseline one local D1 query (SELECT 1, bare Worker, same D1): at the caller p50 ${ms(quantile(own.all('floor'), 0.5))}, p99 ${ms(floorP99)} (${ratio(floorP99, BUDGET_MS)} ${BUDGET_MS} ms; 304 p99 → ${(p99 / floorP99).toFixed(2)}× this); in the Worker p50 ${ms(quantile(own.all('floorInWorker'), 0.5))}, p99 ${ms(quantile(own.all('floorInWorker'), 0.99))}`,
  );
  const emptyP99 = quantile(own.all('empty'), 0.99);
  console.log(
    `baseline the platform's floor (a bare Worker answering 204, no app, no storage): at the caller p50 ${ms(quantile(own.all('empty'), 0.5))}, p99 ${ms(emptyP99)} (${ratio(emptyP99, BUDGET_MS)} ${BUDGET_MS} ms; 304 p99 → ${(p99 / emptyP99).toFixed(2)}× this)`,
  );
  const entryP99 = quantile(viaEntry.all('caller'), 0.99);
  const entryBareP99 = quantile(viaEntry.all('bare'), 0.99);
  console.log(
    `for reference, through miniflare's entry socket (its router Worker): 304 p50 ${ms(quantile(viaEntry.all('caller'), 0.5))} p99 ${ms(entryP99)} (${ratio(entryP99, BUDGET_MS)} ${BUDGET_MS} ms), /healthz p50 ${ms(quantile(viaEntry.all('bare'), 0.5))} p99 ${ms(entryBareP99)}`,
  );
} finally {
  await mf?.dispose();
  rmSync(work, { recursive: true, force: true });
}
