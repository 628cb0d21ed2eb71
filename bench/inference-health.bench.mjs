// Cached health with a slow upstream (issue 10): `/v2/health/ready` with the upstream 2 s slow; budget p99 under
// 50 ms from the cache. The same fake Triton (its `healthDelayMs` switch) and Workers as inference-proxy.bench.mjs
// (bench/inference-harness.mjs). Baselines in the same run, a few calls each (each takes the upstream's 2 s):
//   direct:    node → origin /v2/health/ready;
//   bare:      through a bare pass-through Worker, the platform's floor: it waits for the slow upstream every time.
// Then edgeplane's `/inference/<backend>/v2/health/ready` with an inference token: its first call waits for the one
// probe (reported apart, as "cold"), then calls one at a time for BENCH_SECONDS, long enough for the cached probe to
// go stale (2 s) several times so the answers include those given while a new probe runs after the response. The
// probes the origin received and the largest `x-edgeplane-health-age` seen are reported. Interleaved with those
// calls, edgeplane's own `/healthz` (no auth, no storage, no upstream) on its own socket: the floor of a Worker answer
// on this machine in the same moments, so a loaded machine's share of the p99 can be told apart.
// Run: `npm run bench inference-health`. Env: BENCH_SECONDS (10), BENCH_DELAY_MS (2000), BENCH_BASELINE_CALLS (3).
import { load, ms, oneSocket, quantile, send, withInferenceWorkers } from './inference-harness.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const DELAY_MS = Number(process.env.BENCH_DELAY_MS ?? 2000);
const BASELINE_CALLS = Number(process.env.BENCH_BASELINE_CALLS ?? 3);

await withInferenceWorkers(async ({ edgeplane, bare, admin, fake }) => {
  const origin = fake('health');
  await origin.set({ healthDelayMs: DELAY_MS });
  await admin('POST', '/v1/inference/backends', { id: 'gpu', upstreams: [{ url: origin.url }] });
  const { secret } = await admin('POST', '/v1/tokens', { name: 'ls', role: 'inference', scopes: ['health'] });
  const path = '/v2/health/ready';
  const baseline = {};
  for (const [name, url] of [
    ['direct', `${origin.url}${path}`],
    ['bare', `${bare}/i/health${path}`],
  ]) {
    const agent = oneSocket();
    baseline[name] = [];
    for (let i = 0; i < BASELINE_CALLS; i++) {
      const r = await send(agent, url);
      if (r.status !== 200) throw new Error(`${name}: answered ${r.status}`);
      baseline[name].push(r.elapsed);
    }
    agent.destroy();
  }

  const agent = oneSocket();
  const url = `${edgeplane}/inference/gpu${path}`;
  const headers = { authorization: `Bearer ${secret}` };
  const probesBefore = (await origin.received()).filter((r) => r.path === path).length;
  const cold = await send(agent, url, { headers });
  if (cold.status !== 200) throw new Error(`edgeplane cold call answered ${cold.status} ${cold.data.toString()}`);
  const floorAgent = oneSocket();
  const times = [];
  const floor = [];
  let maxAge = 0;
  const loadBefore = load();
  const until = performance.now() + SECONDS * 1000;
  while (performance.now() < until) {
    const r = await send(agent, url, { headers });
    if (r.status !== 200) throw new Error(`edgeplane answered ${r.status} ${r.data.toString()}`);
    times.push(r.elapsed);
    maxAge = Math.max(maxAge, Number(r.headers['x-edgeplane-health-age']));
    const f = await send(floorAgent, `${edgeplane}/healthz`);
    if (f.status !== 200) throw new Error(`/healthz answered ${f.status}`);
    floor.push(f.elapsed);
  }
  const loadAfter = load();
  agent.destroy();
  floorAgent.destroy();
  // A probe started near the end may still be running: wait for it so the count is complete.
  await new Promise((resolve) => setTimeout(resolve, DELAY_MS + 200));
  const probes = (await origin.received()).filter((r) => r.path === path).length - probesBefore;

  console.log(`/v2/health/ready with the upstream ${DELAY_MS} ms slow (load average ${loadBefore} → ${loadAfter}):`);
  for (const [name, t] of Object.entries(baseline)) {
    console.log(`  ${name.padEnd(16)} p50 ${ms(quantile(t, 0.5))}  max ${ms(Math.max(...t))}  (${t.length} calls)`);
  }
  console.log(`  edgeplane, cold  ${ms(cold.elapsed)} (the first call waits for the one probe)`);
  const p50 = quantile(times, 0.5);
  const p99 = quantile(times, 0.99);
  console.log(
    `  edgeplane, cached p50 ${ms(p50)}  p99 ${ms(p99)}  max ${ms(Math.max(...times))}  (${times.length} calls in ${SECONDS} s; ${probes} probes reached the origin; oldest answer ${maxAge.toFixed(3)} s)`,
  );
  console.log(`  edgeplane /healthz p50 ${ms(quantile(floor, 0.5))}  p99 ${ms(quantile(floor, 0.99))}  (the Worker floor, interleaved)`);
  console.log(
    `  budget p99 < 50 ms → ${p99 < 50 ? 'met' : 'not met'}; the bare Worker's p50 is ${(quantile(baseline.bare, 0.5) / p50).toFixed(0)}× edgeplane's cached p50`,
  );
});
