// Budget (DESIGN.md): compile 1,000 routes over 50 hostnames into tunnel config + cluster manifests in ≤ 20 ms median.
// Baseline in the same run: a JSON round-trip (stringify + parse) of the same desired state, the cheapest thing that
// touches all of it. Run: `npx tsx bench/compile.bench.ts` (bench/run.mjs runs every bench/*.bench.* file).
import { pathToFileURL } from 'node:url';
import type { Route, Tunnel } from '../src/shared/api';
import { compileClusterBundle, compileTunnelConfig, type DesiredCluster } from '../src/shared/compiler';
import { makeCluster } from '../test/unit/compiler/arbitraries';

const BUDGET_MS = 20;
const meta = { etag: '"1.0"', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' };

/** 1,000 routes over 50 hostnames (10 of them wildcards), 20 path prefixes each, Service origins in 5 namespaces, ingress mode. */
export function benchmarkState(routeCount = 1000, hostnameCount = 50): DesiredCluster {
  const tunnel: Tunnel = {
    id: 'edge',
    cluster: 'oceanid',
    account: '0123456789abcdef0123456789abcdef',
    name: 'oceanid-edge',
    cloudflareTunnelId: null,
    placement: { type: 'cluster', replicas: 2 },
    mode: { type: 'ingress', className: 'traefik', controller: { namespace: 'kube-system', name: 'traefik', port: 80 } },
    originRequest: { connectTimeout: 30 },
    catchAll: 'http_status:404',
    driftPolicy: 'alert',
    warpRouting: true,
    hasToken: true,
    ...meta,
  };
  const routes: Route[] = Array.from({ length: routeCount }, (_, i) => {
    const h = i % hostnameCount;
    const hostname = h % 5 === 0 ? `*.zone${h}.example.com` : `app${h}.example.com`;
    const depth = Math.floor(i / hostnameCount);
    return {
      id: `rt_${String(i).padStart(5, '0')}`,
      tunnel: 'edge',
      hostname,
      path: depth === 0 ? null : `/api/v${depth}/items.${depth}`,
      pathRegex: null,
      originKind: 'http',
      origin: { service: { namespace: `ns${h % 5}`, name: `svc-${h}-${depth % 4}`, port: 8000 + (depth % 4) } },
      originRequest: depth % 3 === 0 ? { noTLSVerify: true } : {},
      dns: true,
      access: depth % 10 === 1 ? { required: true, teamName: 'oceanid', audTag: ['aud'] } : null,
      ...meta,
    };
  });
  // Reverse so the compiler really has to sort.
  routes.reverse();
  return {
    cluster: makeCluster('oceanid'),
    tunnels: [{ tunnel, routes, privateNetworks: [], connectorToken: 'eyJhIjoiMDEyMyIsInQiOiJlZGdlIiwicyI6InNlY3JldCJ9' }],
  };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

/** Times `a` and `b` alternately, so both see the same machine load; returns their samples in ms. */
function measurePair(iterations: number, a: () => unknown, b: () => unknown): { a: number[]; b: number[] } {
  const times = { a: [] as number[], b: [] as number[] };
  let sink = 0;
  for (let i = 0; i < iterations; i++) {
    for (const [fn, into] of [
      [a, times.a],
      [b, times.b],
    ] as const) {
      const start = performance.now();
      const out = fn();
      into.push(performance.now() - start);
      sink += out === undefined ? 0 : 1;
    }
  }
  if (sink < 0) console.log(sink); // keeps the results observable so nothing is optimised away
  return times;
}

/** Runs the benchmark, prints its figures and returns them; `ok` is false when the median is over budget. */
export function run(iterations = 200): { medianMs: number; baselineMs: number; ratio: number; ok: boolean } {
  const state = benchmarkState();
  const desiredTunnel = state.tunnels[0];
  if (!desiredTunnel) throw new Error('benchmark state has no tunnel');
  const compile = () => {
    const config = compileTunnelConfig(desiredTunnel);
    const bundle = compileClusterBundle(state);
    return config.ingress.length + bundle.objects.length;
  };
  const baseline = () => JSON.parse(JSON.stringify(state)) as unknown;
  measurePair(30, compile, baseline); // warm-up: let the JIT settle
  const samples = measurePair(iterations, compile, baseline);
  const medianMs = median(samples.a);
  const baselineMs = median(samples.b);
  const ratio = medianMs / baselineMs;
  const bundle = compileClusterBundle(state);
  const config = compileTunnelConfig(desiredTunnel);
  console.log(`compile: ${desiredTunnel.routes.length} routes → ${config.ingress.length} rules + ${bundle.objects.length} objects`);
  console.log(
    `compile: median ${medianMs.toFixed(2)} ms (budget ${BUDGET_MS} ms), baseline ${baselineMs.toFixed(2)} ms, ratio ${ratio.toFixed(1)}`,
  );
  return { medianMs, baselineMs, ratio, ok: medianMs <= BUDGET_MS };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = run();
  if (!result.ok) console.log(`compile: over budget (${result.medianMs.toFixed(2)} ms > ${BUDGET_MS} ms)`);
}
