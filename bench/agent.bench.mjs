// Agent budgets (DESIGN.md → Budgets), measured with the Worker in workerd (wrangler dev, local D1), the agent as a
// real process (bundled file, default intervals: notify socket + 120 s resync, 30 s polling without it) and the fake
// kube-apiserver:
//   1. change accepted by the API → applied on the apiserver, p50 ≤ 1 s, p99 ≤ 3 s over 100 changes, beside a 30 s
//      polling baseline (a uniformly random point in a 30 s interval: p50 15 s, p99 29.7 s);
//   2. idle: apiserver writes per hour (budget 0) and Worker requests per hour (≤ 60); measured over real resync passes
//      run at a 2 s interval, then scaled to the default 120 s resync (simulated time);
//   3. agent resident memory at 500 objects, steady state (≤ 64 MB; Flux kustomize-controller requests 64 MiB);
//   (the fourth agent budget, GET /agent/v1/desired answered 304 at p99 ≤ 5 ms, is bench/desired-304.bench.mjs: it
//   times the Worker itself, without wrangler dev's proxy in front).
// Run: `node bench/agent.bench.mjs` (or `npm run bench agent`). Env: BENCH_CHANGES (100), BENCH_OBJECTS (500).
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const CHANGES = Number(process.env.BENCH_CHANGES ?? 100);
const OBJECTS = Number(process.env.BENCH_OBJECTS ?? 500);
const DEFAULT_RESYNC_S = 120;

/** The Node flags (ENTRYPOINT) and environment (ENV) agent/Dockerfile runs the agent with, read from the file itself. */
function dockerfileRuntime() {
  const text = readFileSync(path.join(root, 'agent/Dockerfile'), 'utf8');
  const stage = text.slice(text.lastIndexOf('\nFROM '));
  const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(stage)?.[1] ?? '[]');
  const flags = entrypoint.filter((arg) => arg.startsWith('--'));
  const env = Object.fromEntries([...stage.matchAll(/^ENV (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
  if (flags.length === 0) throw new Error('agent/Dockerfile: no Node flags found in the ENTRYPOINT');
  return { flags, env };
}
const RUNTIME = dockerfileRuntime();

// The harness and the fake are TypeScript; bundle them (dependencies stay external) and import the result.
// The bundle sits under node_modules/.cache so its external imports resolve; the harness finds the repo by EDGEPLANE_ROOT.
process.env.EDGEPLANE_ROOT = root;
const cache = path.join(root, 'node_modules/.cache');
mkdirSync(cache, { recursive: true });
const out = mkdtempSync(path.join(cache, 'edgeplane-bench-'));
const entry = path.join(out, 'entry.ts');
writeFileSync(
  entry,
  `export * from ${JSON.stringify(path.join(root, 'test/agent/harness.ts'))};\nexport * from ${JSON.stringify(path.join(root, 'test/support/worker.ts'))};\nexport { FakeKubeApiserver } from ${JSON.stringify(path.join(root, 'test/fakes/kube-apiserver/server.ts'))};\n`,
);
await build({
  entryPoints: [entry],
  bundle: true,
  platform: 'node',
  format: 'esm',
  packages: 'external',
  outfile: path.join(out, 'harness.mjs'),
  logLevel: 'error',
  absWorkingDir: root,
});
const { AgentProcess, FakeKubeApiserver, freePort, migrate, removeAgentBundle, tempDir, waitFor, WorkerProcess, writeFile } = await import(
  pathToFileURL(path.join(out, 'harness.mjs')).href
);

/** A process's peak resident set (VmHWM) in MB, where /proc exists. */
function peakRss(pid) {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
};
const ms = (v) => `${v.toFixed(v < 10 ? 2 : 0)} ms`;
const ratio = (value, budget) => `${(value / budget).toFixed(3)}× of budget`;

const dir = tempDir('bench');
migrate(dir);
const worker = new WorkerProcess(await freePort(), dir);
const fake = await new FakeKubeApiserver({ controllerDelayMs: 10 }).start();
const kubeconfig = writeFile(dir, 'kubeconfig', fake.kubeconfig());
let agent;
try {
  await worker.start();
  fake.applyAs('helm', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps' } });
  fake.applyAs('helm', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'apps' },
    spec: { ports: [{ port: 80 }] },
  });
  fake.applyAs('helm', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'traefik', namespace: 'kube-system' },
    spec: { ports: [{ port: 80 }] },
  });
  await worker.apiOk('POST', '/v1/clusters', { id: 'bench', name: 'bench' });
  await worker.apiOk('POST', '/v1/tunnels', {
    id: 'edge',
    cluster: 'bench',
    account: '0123456789abcdef0123456789abcdef',
    mode: { type: 'ingress' },
  });
  const manifest = await (await worker.api('GET', '/v1/clusters/bench/install.yaml')).text();
  const token = /token: (epb_\S+)/.exec(manifest)?.[1];
  if (!token) throw new Error('no bootstrap token in the install manifest');
  fake.applyAs('kubectl', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'edgeplane-system' } });
  writeFile(dir, 'token', token);

  const agentPort = await freePort();
  const startAgent = (env) =>
    AgentProcess.start({
      workerUrl: worker.url,
      clusterId: 'bench',
      kubeconfigPath: kubeconfig,
      bootstrapTokenPath: path.join(dir, 'token'),
      port: agentPort,
      env: { ...RUNTIME.env, ...env },
      nodeArgs: RUNTIME.flags,
    });
  agent = await startAgent({ EDGEPLANE_POLL_INTERVAL_SECONDS: '30', EDGEPLANE_RESYNC_INTERVAL_SECONDS: String(DEFAULT_RESYNC_S) });
  await waitFor(
    'the notify socket',
    () => agent.metrics(),
    (m) => m.edgeplane_agent_notify_connected === 1,
    30_000,
  );

  // 1. Change → applied. "Applied" is the moment the fake stores the route's Ingress.
  const seen = new Map();
  const previous = fake.store.onChange;
  fake.store.onChange = (type, object) => {
    previous(type, object);
    if (type.kind === 'Ingress' && !seen.has(object.metadata.name)) seen.set(object.metadata.name, performance.now());
  };
  const latencies = [];
  for (let i = 0; i < CHANGES; i++) {
    const hostname = `c${i}.example.com`;
    const response = await worker.api('POST', '/v1/routes', {
      tunnel: 'edge',
      hostname,
      origin: { service: { namespace: 'apps', name: 'web', port: 80 } },
      dns: false,
    });
    const accepted = performance.now();
    if (response.status !== 201) throw new Error(`route ${i}: ${response.status} ${await response.text()}`);
    const name = `edgeplane-edge-${hostname}`;
    const applied = await waitFor(
      `Ingress ${name}`,
      () => seen.get(name),
      (t) => t !== undefined,
      30_000,
      1,
    );
    latencies.push(Math.max(0, applied - accepted));
  }
  const p50 = quantile(latencies, 0.5);
  const p99 = quantile(latencies, 0.99);
  console.log(
    `change → applied p50: ${ms(p50)} (${ratio(p50, 1000)} 1 s; 30 s polling baseline p50 15000 ms → ${(p50 / 15000).toFixed(4)}×)`,
  );
  console.log(
    `change → applied p99: ${ms(p99)} (${ratio(p99, 3000)} 3 s; 30 s polling baseline p99 29700 ms → ${(p99 / 29700).toFixed(4)}×)`,
  );

  // 3. Grow the bundle to OBJECTS objects (4 connector objects + one Ingress per route), then measure steady RSS.
  const connectorObjects = 4;
  for (let i = CHANGES; i < OBJECTS - connectorObjects; i++) {
    await worker.apiOk('POST', '/v1/routes', {
      tunnel: 'edge',
      hostname: `c${i}.example.com`,
      origin: { service: { namespace: 'apps', name: 'web', port: 80 } },
      dns: false,
    });
  }
  const credentialSecret = fake.objects('Secret', 'edgeplane-system').find((s) => s.metadata.name === 'edgeplane-agent-credential');
  const credential = Buffer.from(credentialSecret.data.credential, 'base64').toString('utf8');
  const desired = await (await fetch(`${worker.url}/agent/v1/desired`, { headers: { authorization: `Bearer ${credential}` } })).json();
  await waitFor(
    `${desired.objects.length} objects applied`,
    () => fake.objects('Ingress', 'apps').length,
    (n) => n === OBJECTS - connectorObjects,
    120_000,
    50,
  );

  // Peak resident memory (VmHWM, Linux) of the agent that applied every change and grew the bundle to OBJECTS objects.
  const growthPeak = peakRss(agent.child.pid);

  // 2 + 3. Idle at OBJECTS objects: restart the agent with a 2 s resync so real passes happen quickly.
  await agent.kill('SIGTERM');
  agent = await startAgent({ EDGEPLANE_POLL_INTERVAL_SECONDS: '2', EDGEPLANE_RESYNC_INTERVAL_SECONDS: '2' });
  await waitFor(
    'the first pass after restart',
    () => agent.metrics(),
    (m) => (m['edgeplane_agent_syncs_total{result="ok"}'] ?? 0) >= 2,
    60_000,
    50,
  );
  const m0 = await agent.metrics();
  const writes0 = fake.writes;
  const passes = 10;
  // Resident memory is sampled at every scrape (every 50 ms) across the idle passes, not read once.
  const rssSamples = [];
  const m1 = await waitFor(
    'idle passes',
    async () => {
      const m = await agent.metrics();
      rssSamples.push(m.edgeplane_agent_resident_memory_bytes / 1024 / 1024);
      return m;
    },
    (m) => (m['edgeplane_agent_syncs_total{result="ok"}'] ?? 0) >= (m0['edgeplane_agent_syncs_total{result="ok"}'] ?? 0) + passes,
    120_000,
    50,
  );
  const donePasses = m1['edgeplane_agent_syncs_total{result="ok"}'] - m0['edgeplane_agent_syncs_total{result="ok"}'];
  const writesPerPass = (fake.writes - writes0) / donePasses;
  const requestsPerPass = (m1.edgeplane_agent_worker_requests_total - m0.edgeplane_agent_worker_requests_total) / donePasses;
  const passesPerHour = 3600 / DEFAULT_RESYNC_S;
  const writesPerHour = writesPerPass * passesPerHour;
  const requestsPerHour = requestsPerPass * passesPerHour;
  console.log(
    `idle apiserver writes/hour: ${writesPerHour.toFixed(1)} (budget 0 → ${writesPerHour === 0 ? 'met' : `${writesPerHour.toFixed(1)} over`}; ${donePasses} passes at ${OBJECTS} objects, scaled to a ${DEFAULT_RESYNC_S} s resync)`,
  );
  console.log(
    `idle Worker requests/hour: ${requestsPerHour.toFixed(1)} (${ratio(requestsPerHour, 60)} 60; ${requestsPerPass.toFixed(2)} per pass × ${passesPerHour} passes; 30 s polling without notify would be ${(requestsPerPass * 120).toFixed(0)})`,
  );
  const rss = Math.max(...rssSamples);
  const restartPeak = peakRss(agent.child.pid);
  console.log(
    `agent RSS at ${desired.objects.length} objects, highest of ${rssSamples.length} samples over ${donePasses} idle passes: ${rss.toFixed(1)} MB (${ratio(rss, 64)} 64 MB; median ${quantile(rssSamples, 0.5).toFixed(1)} MB; Flux kustomize-controller request 64 MiB; runtime ${RUNTIME.flags.join(' ')} ${Object.entries(
      RUNTIME.env,
    )
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')})`,
  );
  console.log(
    `  (peak RSS, VmHWM: ${growthPeak?.toFixed(1) ?? 'n/a'} MB while applying ${CHANGES} changes and growing to ${OBJECTS} objects; ${restartPeak?.toFixed(1) ?? 'n/a'} MB for a restart that reads and compares all ${OBJECTS})`,
  );
} finally {
  await agent?.kill('SIGKILL');
  await worker.stop();
  await fake.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
  removeAgentBundle();
}
