// Issue 11: compiling 200 workloads stays within the spirit of the 20 ms compile budget, reported as a ratio to the
// 1,000-route compile (bench/compile.bench.ts's state) measured alternately in the same run.
// Run: `npm run bench workload-compile`.
import { pathToFileURL } from 'node:url';
import type { WorkloadSpec } from '../src/shared/api';
import { canonicalJson, compileClusterBundle, type DesiredCluster, type DesiredWorkload } from '../src/shared/compiler';
import { makeCluster } from '../test/unit/compiler/arbitraries';
import { benchmarkState } from './compile.bench';

const BUDGET_MS = 20;

/** 200 workloads over 10 namespaces: every fifth a database with a volume, env with plain and secret values, 1–3 ports. */
export function workloadState(count = 200): DesiredCluster {
  const workloads: DesiredWorkload[] = Array.from({ length: count }, (_, i) => {
    const database = i % 5 === 0;
    const spec: WorkloadSpec = {
      image: database ? 'postgres:16' : `ghcr.io/bench/app-${i}:1.0.${i}`,
      args: ['serve', '--port', String(8000 + (i % 3))],
      env: { LOG_LEVEL: 'info', DATABASE_URL: `postgres://db-${i % 10}:5432/app`, DB_PASSWORD: { secret: true }, FEATURE: String(i) },
      ports: Array.from({ length: 1 + (i % 3) }, (_, p) => 8000 + p),
      replicas: 1 + (i % 3),
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
      healthCheck: database ? null : { path: '/healthz' },
      volumes: database ? [{ name: 'data', mountPath: '/var/lib/postgresql/data', size: '10Gi', readOnly: false }] : [],
      stateful: null,
      serviceType: 'ClusterIP',
      labels: { team: `t${i % 4}` },
      annotations: {},
      route: null,
    };
    return { id: `w-${String(i).padStart(3, '0')}`, namespace: `ns-${i % 10}`, spec, secrets: { DB_PASSWORD: `pw-${i}` } };
  });
  return { cluster: makeCluster('oceanid'), tunnels: [], workloads: workloads.reverse() };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

/** Runs the benchmark, prints its figures and returns them. */
export function run(iterations = 200): { medianMs: number; routesMs: number; ratio: number; ok: boolean } {
  const workloads = workloadState();
  const routes = benchmarkState();
  const times = { w: [] as number[], r: [] as number[] };
  let objects = 0;
  for (let i = 0; i < iterations + 30; i++) {
    let start = performance.now();
    objects = compileClusterBundle(workloads).objects.length;
    const w = performance.now() - start;
    start = performance.now();
    compileClusterBundle(routes);
    const r = performance.now() - start;
    if (i >= 30) {
      times.w.push(w);
      times.r.push(r);
    }
  }
  const medianMs = median(times.w);
  const routesMs = median(times.r);
  const ratio = medianMs / routesMs;
  // Both compiles end in SHA-256 of the bundle's canonical JSON, so its size bounds the ratio from below.
  const kb = (state: DesiredCluster) => canonicalJson(compileClusterBundle(state).objects).length / 1024;
  const [wKb, rKb] = [kb(workloads), kb(routes)];
  console.log(`workload-compile: 200 workloads → ${objects} objects`);
  console.log(
    `workload-compile: bundle ${wKb.toFixed(0)} KB of canonical JSON vs ${rKb.toFixed(0)} KB for 1,000 routes (${(wKb / rKb).toFixed(2)}×)`,
  );
  console.log(
    `workload-compile: median ${medianMs.toFixed(2)} ms (budget ${BUDGET_MS} ms), 1,000-route bundle ${routesMs.toFixed(2)} ms, ratio ${ratio.toFixed(2)}`,
  );
  return { medianMs, routesMs, ratio, ok: medianMs <= BUDGET_MS };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = run();
  if (!result.ok) console.log(`workload-compile: over budget (${result.medianMs.toFixed(2)} ms > ${BUDGET_MS} ms)`);
}
