// How list, plan, tunnel config and agent bundle times grow with the number of routes (issue 16, "Every endpoint at
// scale"): one tunnel of N routes over N/4 hostnames (DNS on) for N = 100, 500, 1000, 2000, each in its own cluster
// with a registered agent. The Worker runs as `wrangler deploy --dry-run` builds it, in Miniflare with wrangler.toml's
// bindings and a local D1 migrated by `wrangler d1 migrations apply --local` (as bench/desired-304.bench.mjs does), and
// is called on its own socket from Node. Per N, the median of BENCH_REPEAT calls of:
//   create  POST /v1/routes (the median of the N creates that seed the tunnel)
//   list    every page of GET /v1/routes?tunnel=…&limit=500 (with each route's DNS state)
//   plan    POST /v1/plan with one route.update on the tunnel (compiles the cluster before and after)
//   config  GET /v1/tunnels/…/config
//   bundle  GET /agent/v1/desired as the cluster's agent (200, whole bundle)
// The baseline is N = 100 in the same run: each figure is printed with its ratio to it, beside the routes' own 20×.
// Run: `npm run bench scale`. Env: BENCH_REPEAT (15), BENCH_SIZES (100,500,1000,2000).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const REPEAT = Number(process.env.BENCH_REPEAT ?? 15);
const SIZES = (process.env.BENCH_SIZES ?? '100,500,1000,2000').split(',').map(Number);
const devToken = 'bench-dev-admin-token-0123456789';
const account = '0123456789abcdef0123456789abcdef';

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const requireFromWrangler = createRequire(createRequire(path.join(root, 'package.json')).resolve('wrangler/package.json'));
const { Miniflare, convertV4MiniflareOptions } = requireFromWrangler('miniflare');
const wrangler = await import('wrangler');

const work = mkdtempSync(path.join(tmpdir(), 'edgeplane-scale-bench-'));
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

let mf;
try {
  runWrangler(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist]);
  runWrangler(['deploy', '--dry-run', '--outdir', bundleDir]);
  const { workerOptions } = wrangler.unstable_getMiniflareWorkerOptions(path.join(root, 'wrangler.toml'));
  delete workerOptions.modulesRules;
  mf = new Miniflare(
    convertV4MiniflareOptions({
      host: '127.0.0.1',
      port: 0,
      resourcePersistencePath: path.join(persist, 'v3'),
      logRequests: false,
      workers: [
        {
          ...workerOptions,
          name: 'edgeplane',
          rootPath: bundleDir,
          modules: true,
          scriptPath: path.join(bundleDir, 'index.js'),
          unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
          bindings: {
            ...workerOptions.bindings,
            ENVIRONMENT: 'development',
            EDGEPLANE_DEV_ADMIN_TOKEN: devToken,
            EDGEPLANE_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
            // No Cloudflare sync while measuring (and no API token: the writer never calls out).
            EDGEPLANE_SYNC_DEBOUNCE_MS: '3600000',
          },
        },
      ],
    }),
  );
  await mf.ready;
  const direct = (await mf.unsafeGetDirectURL('edgeplane')).href.replace(/\/$/, '');
  const call = async (method, url, body, token = devToken) => {
    const started = performance.now();
    const response = await fetch(`${direct}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    const elapsed = performance.now() - started;
    if (response.status >= 400) throw new Error(`${method} ${url}: ${response.status} ${text.slice(0, 300)}`);
    return { elapsed, json: () => JSON.parse(text) };
  };

  const seeded = [];
  for (const size of SIZES) {
    const cluster = `scale-${size}`;
    const tunnel = `t-${size}`;
    await call('POST', '/v1/clusters', { id: cluster, name: cluster });
    await call('POST', '/v1/tunnels', { id: tunnel, cluster, account });
    const creates = [];
    let firstRoute = '';
    for (let i = 0; i < size; i++) {
      const created = await call('POST', '/v1/routes', {
        tunnel,
        hostname: `h${Math.floor(i / 4)}.s${size}.example.com`,
        ...(i % 4 ? { path: `/p${i % 4}` } : {}),
        origin: { service: { namespace: 'apps', name: `web${i % 7}`, port: 80 } },
      });
      creates.push(created.elapsed);
      if (i === 0) firstRoute = created.json().id;
    }
    const yaml = await fetch(`${direct}/v1/clusters/${cluster}/install.yaml`, { headers: { authorization: `Bearer ${devToken}` } }).then(
      (r) => r.text(),
    );
    const bootstrap = /token: (epb_\S+)/.exec(yaml)?.[1];
    if (!bootstrap) throw new Error('no bootstrap token in the install manifest');
    const credential = `epa.${cluster}.${randomBytes(32).toString('base64url')}`;
    await call(
      'POST',
      '/agent/v1/register',
      {
        clusterId: cluster,
        credential,
        identity: `uid-${cluster}`,
        kubernetesVersion: 'v1.31.4+k3s1',
        nodeCount: 1,
        agentVersion: 'bench',
      },
      bootstrap,
    );
    seeded.push({ size, tunnel, credential, firstRoute, create: median(creates), list: [], plan: [], config: [], bundle: [] });
  }

  // Rounds interleave the sizes, so every size sees the same machine noise; the first WARMUP rounds are not counted.
  const WARMUP = 2;
  for (let r = 0; r < REPEAT + WARMUP; r++) {
    for (const s of seeded) {
      const keep = r >= WARMUP;
      let listed = 0;
      const started = performance.now();
      let cursor = null;
      do {
        const page = (
          await call('GET', `/v1/routes?tunnel=${s.tunnel}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
        ).json();
        listed += page.items.length;
        cursor = page.nextCursor;
      } while (cursor);
      const list = performance.now() - started;
      if (listed !== s.size) throw new Error(`listed ${listed} routes, expected ${s.size}`);
      const change = { action: 'route.update', id: s.firstRoute, route: { originRequest: { connectTimeout: r + 1 } } };
      const plan = (await call('POST', '/v1/plan', { changes: [change] })).elapsed;
      const config = (await call('GET', `/v1/tunnels/${s.tunnel}/config`)).elapsed;
      const bundle = (await call('GET', '/agent/v1/desired', undefined, s.credential)).elapsed;
      if (!keep) continue;
      s.list.push(list);
      s.plan.push(plan);
      s.config.push(config);
      s.bundle.push(bundle);
    }
  }
  const results = seeded.map((s) => ({
    size: s.size,
    create: s.create,
    list: median(s.list),
    plan: median(s.plan),
    config: median(s.config),
    bundle: median(s.bundle),
  }));

  const base = results[0];
  console.log(
    `scale: one tunnel of N routes over N/4 hostnames; median of ${REPEAT} calls (create: of the N creates); load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log('routes   create ms      list ms         plan ms         config ms       bundle ms');
  const cell = (value, baseline) => `${value.toFixed(1).padStart(7)} (${(value / baseline).toFixed(2)}×)`.padEnd(16);
  for (const r of results) {
    console.log(
      `${String(r.size).padEnd(8)} ${cell(r.create, base.create)}${cell(r.list, base.list)}${cell(r.plan, base.plan)}${cell(r.config, base.config)}${cell(r.bundle, base.bundle)}`,
    );
  }
  console.log(`ratios are against N = ${base.size} in this run; the routes grow ${(results.at(-1).size / base.size).toFixed(0)}×`);
} finally {
  await mf?.dispose();
  rmSync(work, { recursive: true, force: true });
}
