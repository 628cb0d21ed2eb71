// The inference proxy's budgets (issue 10), each against a baseline measured in the same run: the Triton-protocol
// origin (test/fakes/triton, spawned as its own process) called three ways —
//   direct:    node → origin;
//   bare:      node → a bare pass-through Worker (`return fetch(upstream + path, request)`) → origin, the platform's
//              floor, in the same workerd process as edgeplane;
//   edgeplane: node → edgeplane's `/inference/<backend>/v2/...` (token auth, scopes, rate limiter, metrics) → origin.
// Both Workers run from the `wrangler deploy --dry-run` bundle in Miniflare with wrangler.toml's bindings (the rate
// limiter's limit raised so the bench is never refused; it is still consulted on every call), each reached on its own
// direct socket from `node:http` with keep-alive, one request at a time.
//   1. latency of a small JSON infer (`simple`), p50 / p99 of each way, interleaved; budget: edgeplane ≤ bare + 0.2 ms
//      at p50 and ≤ bare + 1 ms at p99;
//   2. a 64 MiB binary tensor up and down (`echo`: Inference-Header-Content-Length + 64 MiB in, the same 64 MiB out),
//      throughput of each way; budget: edgeplane ≥ 80 % of bare; the workerd process's resident memory sampled every
//      10 ms during each way's block, its peak over the block's start reported (flat = far below 64 MiB).
// The machine's load average is printed: on a shared 2-core VM other processes move the p99s.
// Run: `npm run bench inference-proxy`. Env: BENCH_REQUESTS (2000), BENCH_WARMUP (300), BENCH_BIG_ROUNDS (4).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { load, ms, oneSocket, quantile, send, withInferenceWorkers } from './inference-harness.mjs';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 300);
const BIG_ROUNDS = Number(process.env.BENCH_BIG_ROUNDS ?? 4);
const BIG = 64 * 1024 * 1024;

const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Resident memory (bytes) of a process, from /proc. */
const rssOf = (pid) => {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb ?? 0) * 1024;
};

/** The workerd processes Miniflare started (children of this process). */
function workerdPids() {
  const out = spawnSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' }).stdout;
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([, comm]) => comm?.startsWith('workerd'))
    .map(([pid]) => Number(pid));
}

const agents = [];
try {
  await withInferenceWorkers(async ({ edgeplane, bare, admin, fake }) => {
    const upstream = fake('bench').url;
    await admin('POST', '/v1/inference/backends', { id: 'gpu', upstreams: [{ url: upstream }] });
    const { secret } = await admin('POST', '/v1/tokens', { name: 'bench', role: 'inference', scopes: ['health', 'metadata', 'inference'] });

    const ways = {
      direct: { base: `${upstream}/v2`, headers: {} },
      bare: { base: `${bare}/i/bench/v2`, headers: {} },
      edgeplane: { base: `${edgeplane}/inference/gpu/v2`, headers: { authorization: `Bearer ${secret}` } },
    };
    for (const way of Object.values(ways)) {
      way.agent = oneSocket();
      agents.push(way.agent);
    }

    // 1. Latency of a small JSON infer, interleaved.
    const small = JSON.stringify({
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i) },
        { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, () => 1) },
      ],
    });
    const times = { direct: [], bare: [], edgeplane: [] };
    const loadBefore = load();
    for (let i = 0; i < WARMUP + REQUESTS; i++) {
      for (const [name, way] of Object.entries(ways)) {
        const answer = await send(way.agent, `${way.base}/models/simple/infer`, {
          method: 'POST',
          headers: { ...way.headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(small)) },
          body: small,
        });
        if (answer.status !== 200) throw new Error(`${name}: infer answered ${answer.status}`);
        if (i >= WARMUP) times[name].push(answer.elapsed);
      }
    }
    const loadAfter = load();
    console.log(
      `small JSON infer, ${REQUESTS} requests per way after ${WARMUP} warm-up, interleaved (load average ${loadBefore} → ${loadAfter}):`,
    );
    for (const name of Object.keys(times)) {
      console.log(`  ${name.padEnd(9)} p50 ${ms(quantile(times[name], 0.5))}  p99 ${ms(quantile(times[name], 0.99))}`);
    }
    const addP50 = quantile(times.edgeplane, 0.5) - quantile(times.bare, 0.5);
    const addP99 = quantile(times.edgeplane, 0.99) - quantile(times.bare, 0.99);
    console.log(
      `  edgeplane over bare: p50 +${ms(addP50)} (budget +0.2 ms → ${addP50 <= 0.2 ? 'met' : 'not met'}), p99 +${ms(addP99)} (budget +1 ms → ${addP99 <= 1 ? 'met' : 'not met'}); bare over direct: p50 +${ms(quantile(times.bare, 0.5) - quantile(times.direct, 0.5))}`,
    );

    // 2. 64 MiB up and down, one block per way so the workerd memory peak belongs to one way.
    const payload = randomBytes(BIG);
    const head = Buffer.from(
      JSON.stringify({ inputs: [{ name: 'RAW', datatype: 'UINT8', shape: [BIG], parameters: { binary_data_size: BIG } }] }),
    );
    const body = Buffer.concat([head, payload]);
    const pids = workerdPids();
    const rss = () => pids.reduce((sum, pid) => sum + rssOf(pid), 0);
    const big = {};
    for (const [name, way] of Object.entries(ways)) {
      const start = rss();
      let peak = start;
      const sampler = setInterval(() => (peak = Math.max(peak, rss())), 10);
      const elapsed = [];
      for (let r = 0; r < BIG_ROUNDS + 1; r++) {
        const answer = await send(way.agent, `${way.base}/models/echo/infer`, {
          method: 'POST',
          headers: {
            ...way.headers,
            'content-type': 'application/octet-stream',
            'inference-header-content-length': String(head.length),
            'content-length': String(body.length),
          },
          body,
          discard: true,
        });
        if (answer.status !== 200 || answer.bytes < BIG) throw new Error(`${name}: echo answered ${answer.status}, ${answer.bytes} bytes`);
        if (r > 0) elapsed.push(answer.elapsed); // the first is warm-up
      }
      clearInterval(sampler);
      const median = quantile(elapsed, 0.5);
      big[name] = { throughput: (2 * BIG) / 1024 / 1024 / (median / 1000), peak: peak - start, median };
    }
    console.log(`64 MiB binary tensor up and 64 MiB down, median of ${BIG_ROUNDS} (workerd pids ${pids.join(', ') || 'not found'}):`);
    for (const [name, b] of Object.entries(big)) {
      console.log(
        `  ${name.padEnd(9)} ${ms(b.median)} per call, ${b.throughput.toFixed(0)} MiB/s${name === 'direct' ? '' : `, workerd RSS peak +${mib(b.peak)} over the block's start`}`,
      );
    }
    const share = big.edgeplane.throughput / big.bare.throughput;
    console.log(
      `  edgeplane at ${(share * 100).toFixed(0)} % of the bare Worker's throughput (budget ≥ 80 % → ${share >= 0.8 ? 'met' : 'not met'}); memory ${big.edgeplane.peak < BIG / 4 ? 'flat' : 'NOT flat'} (peak +${mib(big.edgeplane.peak)} for 128 MiB moved)`,
    );
  });
} finally {
  for (const agent of agents) agent.destroy();
}
