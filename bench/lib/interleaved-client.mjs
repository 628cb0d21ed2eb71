// The timing client of the latency benches, run as its own process so that nothing else in the bench's process (Miniflare's
// Node side reading workerd's output, the set-up's garbage) lands in the measured tail. It reads one JSON job from
// argv[2]: { warmup, rounds, requests, series: [{ name, url, headers?, expect }] } and issues the series' requests
// interleaved, one at a time, each series over its own keep-alive socket (so the series see the same machine noise).
// It prints one JSON line: { [name]: { caller: number[][], inWorker: number[][] } } (per round), times in ms.
import http from 'node:http';

const job = JSON.parse(process.argv[2] ?? '{}');

function get(agent, url, headers) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    http
      .get(url, { agent, headers }, (response) => {
        response.resume();
        response.on('end', () => {
          const dur = /app;dur=([\d.]+)/.exec(response.headers['server-timing'] ?? '')?.[1];
          resolve({ elapsed: performance.now() - started, status: response.statusCode, inWorker: dur === undefined ? NaN : Number(dur) });
        });
      })
      .on('error', reject);
  });
}

const series = job.series.map((s) => ({ ...s, agent: new http.Agent({ keepAlive: true, maxSockets: 1 }) }));
const results = Object.fromEntries(series.map((s) => [s.name, { caller: [], inWorker: [] }]));

async function once(round) {
  for (const s of series) {
    const answer = await get(s.agent, s.url, s.headers ?? {});
    if (answer.status !== s.expect) throw new Error(`${s.name}: expected ${s.expect}, got ${answer.status}`);
    if (round === undefined) continue;
    results[s.name].caller[round].push(answer.elapsed);
    results[s.name].inWorker[round].push(answer.inWorker);
  }
}

for (let i = 0; i < job.warmup; i++) await once(undefined);
for (let r = 0; r < job.rounds; r++) {
  for (const s of series) {
    results[s.name].caller.push([]);
    results[s.name].inWorker.push([]);
  }
  for (let i = 0; i < job.requests; i++) await once(r);
}
for (const s of series) s.agent.destroy();
process.stdout.write(`${JSON.stringify(results)}\n`);
