// Cloudflare sync benchmark: the real Worker under `wrangler dev` (local D1, the account writer Durable Object) against
// the Cloudflare API fake. Figures, each with a ratio against its baseline from the same run:
//   1. API calls of a sync where nothing changed          vs the budget of 1 per tunnel (and the anchors' ≈ 3 + 2 × zones)
//   2. API calls to publish a 100-route change             vs the naive count of one call per route (and 2 with DNS)
//   3. the calls of that change by kind                    vs the budget (issue 14): 1 config PUT per tunnel changed and
//                                                             1 DNS batch per zone per 200 records
//   4. time of the fake-backed sync of those 100 routes    vs a naive client against the same fake (PUT + CNAME per route)
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadFake } from '../test/fakes/cloudflare/load.mjs';

const ROUTES = 100;
const TUNNELS = 3;
const ROUNDS = Number(process.env.BENCH_SYNC_ROUNDS ?? 3);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const account = randomBytes(16).toString('hex');
const zone = 'bench.example.com';
const devToken = 'bench-dev-admin-token';
const port = 20_000 + Math.floor(Math.random() * 20_000);
const base = `http://127.0.0.1:${port}`;
const persist = mkdtempSync(path.join(tmpdir(), 'edgeplane-sync-bench-'));

const { startFakeCloudflare, DEFAULT_TOKEN } = await loadFake();
const fake = await startFakeCloudflare();
fake.state.addZone(account, zone);

const run = (args) => spawnSync('npx', args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, CI: 'true' } });
if (run(['wrangler', 'd1', 'migrations', 'apply', 'edgeplane', '--local', '--persist-to', persist]).status !== 0)
  throw new Error('migrations failed');

const vars = {
  ENVIRONMENT: 'development',
  EDGEPLANE_DEV_ADMIN_TOKEN: devToken,
  EDGEPLANE_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  CLOUDFLARE_API_BASE_URL: fake.baseUrl,
  CLOUDFLARE_API_TOKEN: DEFAULT_TOKEN,
  CLOUDFLARE_ACCOUNT_ID: account,
  // Syncs are started by POST /v1/sync here, so the measured run is exactly one drain.
  EDGEPLANE_SYNC_DEBOUNCE_MS: '600000',
};
const dev = spawn(
  'npx',
  [
    'wrangler',
    'dev',
    '--port',
    String(port),
    '--ip',
    '127.0.0.1',
    '--inspector-port',
    String(port + 1),
    '--persist-to',
    persist,
    ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]),
  ],
  { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], detached: true },
);

async function stop() {
  try {
    process.kill(-dev.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  await fake.close();
  rmSync(persist, { recursive: true, force: true });
}

async function api(method, url, body) {
  const response = await fetch(`${base}${url}`, {
    method,
    headers: { authorization: `Bearer ${devToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (response.status >= 400) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? null : response.json();
}

async function waitForHealth() {
  for (let i = 0; i < 400; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('wrangler dev did not start within 100 s');
}

/** Starts a sync and polls GET /v1/sync until the account has nothing pending (a bench may poll; tests may not). */
async function syncAndWait() {
  const started = performance.now();
  await api('POST', '/v1/sync', { account });
  for (;;) {
    const status = await api('GET', '/v1/sync');
    const mine = status.accounts.find((a) => a.account === account);
    const failed = status.targets.filter((t) => t.account === account && t.lastError);
    if (failed.length > 0) throw new Error(`sync failed: ${failed.map((t) => `${t.kind}:${t.target}: ${t.lastError}`).join('; ')}`);
    if (mine && mine.pending === 0 && mine.lastRunId) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const accountCalls = () => fake.state.calls.filter((c) => c.account === account);
const callCount = () => accountCalls().length;

const naiveHeaders = { authorization: `Bearer ${DEFAULT_TOKEN}`, 'content-type': 'application/json' };

/** A remotely managed tunnel for the naive client, made straight at the fake. */
async function naiveCreateTunnel() {
  const response = await fetch(`${fake.baseUrl}/accounts/${account}/cfd_tunnel`, {
    method: 'POST',
    headers: naiveHeaders,
    body: JSON.stringify({ name: 'naive', config_src: 'cloudflare' }),
  });
  return (await response.json()).result.id;
}

/** The naive client: every route edit PUTs the whole config and creates its CNAME, one after the other. */
async function naiveSync(cfTunnelId, round) {
  const headers = naiveHeaders;
  const zoneId = [...fake.state.zones.values()].find((z) => z.name === zone)?.id;
  const started = performance.now();
  const ingress = [];
  for (let i = 0; i < ROUTES; i++) {
    ingress.push({ hostname: `naive${round}-${i}.${zone}`, service: 'http://web.apps.svc.cluster.local:80' });
    await fetch(`${fake.baseUrl}/accounts/${account}/cfd_tunnel/${cfTunnelId}/configurations`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ config: { ingress: [...ingress, { service: 'http_status:404' }] } }),
    });
    await fetch(`${fake.baseUrl}/zones/${zoneId}/dns_records`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        type: 'CNAME',
        name: `naive${round}-${i}.${zone}`,
        content: `${cfTunnelId}.cfargotunnel.com`,
        proxied: true,
        ttl: 1,
      }),
    });
  }
  return performance.now() - started;
}

const ratio = (value, baseline) => (baseline === 0 ? 'n/a' : `${(value / baseline).toFixed(2)}×`);

try {
  await waitForHealth();
  await api('POST', '/v1/clusters', { id: 'bench', name: 'bench' });
  for (let t = 0; t < TUNNELS; t++) {
    await api('POST', '/v1/tunnels', { id: `t${t}`, cluster: 'bench', account });
    await api('POST', '/v1/routes', {
      tunnel: `t${t}`,
      hostname: `base${t}.${zone}`,
      origin: { url: 'http://web.apps.svc.cluster.local:80' },
    });
  }
  await syncAndWait();

  let before = callCount();
  await syncAndWait();
  const noopCalls = callCount() - before;

  // The naive client writes to a tunnel of its own, so it never touches edgeplane's configs.
  const naiveTunnel = await naiveCreateTunnel();
  // Rounds alternate edgeplane and the naive client, so load from elsewhere on the machine hits both alike. Each
  // edgeplane round adds 100 new routes to tunnel t0 and is measured; then they are deleted and synced unmeasured, so
  // every round is the same change (and a full sync stays under the drain's 500 rows). Each naive round starts a new
  // config of 100 rules.
  const syncTimes = [];
  const naiveTimes = [];
  const rounds = [];
  const cleanUp = async (created) => {
    for (const route of created) {
      const response = await fetch(`${base}/v1/routes/${route.id}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${devToken}`, 'if-match': route.etag },
      });
      if (response.status !== 204) throw new Error(`DELETE /v1/routes/${route.id}: ${response.status}`);
    }
    await syncAndWait();
  };
  for (let round = 0; round < ROUNDS; round++) {
    const created = [];
    for (let i = 0; i < ROUTES; i++) {
      created.push(
        await api('POST', '/v1/routes', {
          tunnel: 't0',
          hostname: `r${round}-${i}.${zone}`,
          origin: { url: 'http://web.apps.svc.cluster.local:80' },
        }),
      );
    }
    naiveTimes.push(await naiveSync(naiveTunnel, round));
    before = callCount();
    syncTimes.push(await syncAndWait());
    const byKind = {};
    for (const call of accountCalls().slice(before)) byKind[call.operationId] = (byKind[call.operationId] ?? 0) + 1;
    rounds.push({ calls: callCount() - before, byKind });
    if (round < ROUNDS - 1) await cleanUp(created);
  }
  const violations = fake.state.violations.filter((v) => v.account === account).length;
  // 100 new hostnames on one tunnel in one zone: the budget is 1 config PUT (one tunnel changed) + ceil(100 / 200) batches.
  const budgetCalls = 1 + Math.ceil(ROUTES / 200);
  const writesOf = (byKind) => ({
    configPuts: byKind['cloudflare-tunnel-configuration-put-configuration'] ?? 0,
    dnsBatches: byKind['dns-records-for-a-zone-batch-dns-records'] ?? 0,
    singles: ['create', 'patch', 'delete']
      .map((verb) => byKind[`dns-records-for-a-zone-${verb}-dns-record`] ?? 0)
      .reduce((a, b) => a + b, 0),
  });
  const met = rounds.every(({ byKind }) => {
    const w = writesOf(byKind);
    return w.configPuts <= 1 && w.dnsBatches <= Math.ceil(ROUTES / 200) && w.singles === 0;
  });
  const first = rounds[0] ?? { calls: 0, byKind: {} };
  const w = writesOf(first.byKind);
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const syncMs = median(syncTimes);
  const naiveMs = median(naiveTimes);

  console.log(
    `no-op sync, ${TUNNELS} tunnels: ${noopCalls} API calls (${(noopCalls / TUNNELS).toFixed(2)} per tunnel); ratio vs budget 1/tunnel: ${ratio(noopCalls, TUNNELS)}; vs anchors 3 + 2 × zones = 5: ${ratio(noopCalls, 5)}`,
  );
  console.log(
    `${ROUTES}-route change (DNS on): ${first.calls} API calls (rounds: ${rounds.map((r) => r.calls).join(', ')}); ratio vs naive 1 call/route (${ROUTES}): ${ratio(first.calls, ROUTES)}; vs naive PUT + CNAME per route (${2 * ROUTES}): ${ratio(first.calls, 2 * ROUTES)}`,
  );
  console.log(
    `${ROUTES}-route change by kind: ${JSON.stringify(first.byKind)}; writes: ${w.configPuts} config PUT + ${w.dnsBatches} DNS batch + ${w.singles} single DNS writes; ratio vs budget 1 PUT/tunnel + 1 batch/zone/200 records (${budgetCalls}): ${ratio(w.configPuts + w.dnsBatches + w.singles, budgetCalls)} (${met ? 'met' : 'NOT met'} in every round)`,
  );
  console.log(
    `${ROUTES}-route sync time (fake-backed, incl. API round trips of wrangler dev), median of ${ROUNDS} interleaved rounds: ${syncMs.toFixed(0)} ms [${syncTimes.map((t) => t.toFixed(0)).join(', ')}]; ratio vs naive client (${naiveMs.toFixed(0)} ms [${naiveTimes.map((t) => t.toFixed(0)).join(', ')}]): ${ratio(syncMs, naiveMs)} (budget 1.5×: ${syncMs <= 1.5 * naiveMs ? 'met' : 'NOT met'})`,
  );
  console.log(`schema violations recorded by the fake: ${violations}`);
} finally {
  await stop();
}
