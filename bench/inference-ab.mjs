// Not a budget bench (run.mjs runs only *.bench.mjs): compares the inference proxy's latency between builds of
// edgeplane, to tell a change of a few hundredths of a millisecond from noise. Each build is a source tree (say a git
// worktree of another commit: `git worktree add ../before HEAD~1`, with node_modules linked or installed), bundled
// with `wrangler deploy --dry-run` and run beside this tree's build and the bare pass-through Worker in one workerd
// on one D1 (bench/inference-harness.mjs). Every round calls each Worker once with the small JSON infer of
// inference-proxy.bench.mjs, in a shuffled order: in a fixed order a Worker's place in the round moved its p50 by up
// to ≈ 0.02 ms. Naming the same tree twice shows the noise of a run. docs/benchmarks.md → inference proxy.
// Run: `node bench/inference-ab.mjs before=../before [again=.]`. Env: BENCH_REQUESTS (3000), BENCH_WARMUP (300),
// BENCH_SEED (1).
import { load, ms, oneSocket, quantile, send, shuffler, withInferenceWorkers } from './inference-harness.mjs';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 300);

const builds = process.argv.slice(2).map((arg) => {
  const [name, tree] = arg.split('=');
  if (!name || !tree || !/^[a-z0-9-]+$/.test(name)) throw new Error(`"${arg}": give builds as name=path, name of [a-z0-9-]`);
  return { name, tree };
});
if (builds.length === 0) throw new Error('usage: node bench/inference-ab.mjs name=path [name=path ...]');

const agents = [];
try {
  await withInferenceWorkers(
    async ({ edgeplane, bare, admin, fake, builds: urls }) => {
      const upstream = fake('bench').url;
      await admin('POST', '/v1/inference/backends', { id: 'gpu', upstreams: [{ url: upstream }] });
      const { secret } = await admin('POST', '/v1/tokens', { name: 'bench', role: 'inference', scopes: ['inference'] });
      const auth = { authorization: `Bearer ${secret}` };
      const ways = { bare: { base: `${bare}/i/bench/v2`, headers: {} }, this: { base: `${edgeplane}/inference/gpu/v2`, headers: auth } };
      for (const [name, url] of Object.entries(urls)) ways[name] = { base: `${url}/inference/gpu/v2`, headers: auth };
      for (const way of Object.values(ways)) agents.push((way.agent = oneSocket()));
      const small = JSON.stringify({
        inputs: [
          { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i) },
          { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, () => 1) },
        ],
      });
      const shuffle = shuffler(Number(process.env.BENCH_SEED ?? 1));
      const times = Object.fromEntries(Object.keys(ways).map((name) => [name, []]));
      const loadBefore = load();
      for (let i = 0; i < WARMUP + REQUESTS; i++) {
        for (const [name, way] of shuffle(Object.entries(ways))) {
          const answer = await send(way.agent, `${way.base}/models/simple/infer`, {
            method: 'POST',
            headers: { ...way.headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(small)) },
            body: small,
          });
          if (answer.status !== 200) throw new Error(`${name}: infer answered ${answer.status}: ${answer.data}`);
          if (i >= WARMUP) times[name].push(answer.elapsed);
        }
      }
      console.log(
        `small JSON infer, ${REQUESTS} calls per Worker after ${WARMUP} warm-up, shuffled rounds (load ${loadBefore} → ${load()}):`,
      );
      const floor = (q) => quantile(times.bare, q);
      for (const [name, list] of Object.entries(times)) {
        const over =
          name === 'bare' ? '' : `  over bare: p50 +${ms(quantile(list, 0.5) - floor(0.5))}, p90 +${ms(quantile(list, 0.9) - floor(0.9))}`;
        console.log(`  ${name.padEnd(10)} p50 ${ms(quantile(list, 0.5))}  p99 ${ms(quantile(list, 0.99))}${over}`);
      }
    },
    { builds },
  );
} finally {
  for (const agent of agents) agent.destroy();
}
