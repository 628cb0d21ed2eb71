// Label Studio /predict with 32 text tasks (issue 10): one upstream call, and edgeplane's overhead over that call.
// The same fake Triton (test/fakes/triton) and Workers as inference-proxy.bench.mjs (bench/inference-harness.mjs);
// three ways, interleaved in one run:
//   direct:    node → origin, the very infer call edgeplane makes for 32 tasks (one BYTES input [32, 1]);
//   bare:      that infer call through a bare pass-through Worker, the platform's floor;
//   edgeplane: Label Studio's request (`{tasks, project, label_config, params}`, HTTP Basic with the inference token)
//              to `/ml/<id>/predict`, which builds that call, sends it through the proxy's forwarder and maps the
//              logits of each task to a `choices` prediction.
// The upstream call count is read from the fake (every request it received) after each block: exactly one infer per
// /predict is asserted, and the overhead is edgeplane's /predict minus the bare Worker's infer (p50 and p99).
// Run: `npm run bench ml-predict`. Env: BENCH_REQUESTS (1000), BENCH_WARMUP (200).
import { load, ms, oneSocket, quantile, send, withInferenceWorkers } from './inference-harness.mjs';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 1000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 200);
const TASKS = 32;

const LABEL_CONFIG = `<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="Negative"/><Choice value="Neutral"/><Choice value="Positive"/>
  </Choices>
</View>`;
const words = ['good', 'bad', 'fine', 'great', 'awful', 'okay', 'lovely', 'poor'];
const texts = Array.from(
  { length: TASKS },
  (_, i) => `review ${i}: the service was ${words[i % words.length]} and ${words[(i * 3) % words.length]}`,
);
// What Label Studio sends (label_studio_ml/api.py reads tasks, project, label_config and params).
const predictBody = JSON.stringify({
  tasks: texts.map((text, i) => ({ id: 1000 + i, data: { text }, meta: {}, annotations: [], predictions: [] })),
  project: '7.1700000000',
  label_config: LABEL_CONFIG,
  params: { login: null, password: null, context: null },
});
// The infer call edgeplane makes for those tasks (worker/services/ml-predict.ts inferBody).
const inferBody = JSON.stringify({
  inputs: [{ name: 'TEXT', datatype: 'BYTES', shape: [TASKS, 1], data: texts }],
  outputs: [{ name: 'LOGITS', parameters: { binary_data: false } }],
});

await withInferenceWorkers(async ({ edgeplane, bare, admin, fake }) => {
  const origin = fake('predict');
  await admin('POST', '/v1/inference/backends', { id: 'gpu', upstreams: [{ url: origin.url }] });
  await admin('POST', '/v1/ml-backends', {
    id: 'sentiment',
    backend: 'gpu',
    model: 'text_cls',
    task: 'text-classification',
    input: { field: 'text', tensor: 'TEXT' },
    output: { tensor: 'LOGITS' },
    choices: ['negative', 'neutral', 'positive'],
  });
  const { secret } = await admin('POST', '/v1/tokens', { name: 'ls', role: 'inference', scopes: ['health', 'metadata', 'inference'] });
  const basic = `Basic ${Buffer.from(`ls:${secret}`).toString('base64')}`;

  const ways = {
    direct: { url: `${origin.url}/v2/models/text_cls/infer`, body: inferBody, headers: {} },
    bare: { url: `${bare}/i/predict/v2/models/text_cls/infer`, body: inferBody, headers: {} },
    edgeplane: { url: `${edgeplane}/ml/sentiment/predict`, body: predictBody, headers: { authorization: basic } },
  };
  for (const way of Object.values(ways)) way.agent = oneSocket();

  // One /predict on its own first: its answer is checked and the calls it made upstream are counted.
  const before = (await origin.received()).length;
  const first = await send(ways.edgeplane.agent, ways.edgeplane.url, {
    method: 'POST',
    headers: { ...ways.edgeplane.headers, 'content-type': 'application/json' },
    body: predictBody,
  });
  const answer = JSON.parse(first.data.toString());
  const calls = (await origin.received()).slice(before);
  if (first.status !== 200 || answer.results?.length !== TASKS || answer.results.some((r) => r.result?.length !== 1)) {
    throw new Error(`/predict answered ${first.status}: ${first.data.toString().slice(0, 300)}`);
  }
  if (calls.length !== 1 || calls[0].path !== '/v2/models/text_cls/infer') {
    throw new Error(`/predict with ${TASKS} tasks made ${calls.length} upstream calls: ${calls.map((c) => c.path).join(', ')}`);
  }

  const times = { direct: [], bare: [], edgeplane: [] };
  const loadBefore = load();
  const counted = (await origin.received()).length;
  for (let i = 0; i < WARMUP + REQUESTS; i++) {
    for (const [name, way] of Object.entries(ways)) {
      const r = await send(way.agent, way.url, {
        method: 'POST',
        headers: { ...way.headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(way.body)) },
        body: way.body,
      });
      if (r.status !== 200) throw new Error(`${name}: answered ${r.status} ${r.data.toString().slice(0, 300)}`);
      if (i >= WARMUP) times[name].push(r.elapsed);
    }
  }
  const loadAfter = load();
  // Every iteration: one direct call, one through the bare Worker, and exactly one for edgeplane's /predict.
  const upstreamCalls = (await origin.received()).length - counted;
  const perPredict = (upstreamCalls - 2 * (WARMUP + REQUESTS)) / (WARMUP + REQUESTS);

  console.log(
    `Label Studio /predict, ${TASKS} text tasks: ${calls.length} upstream call (POST ${calls[0].path}, ${calls[0].bytes} bytes); ${perPredict} upstream call(s) per /predict over the timed run`,
  );
  console.log(`${REQUESTS} requests per way after ${WARMUP} warm-up, interleaved (load average ${loadBefore} → ${loadAfter}):`);
  const label = { direct: 'infer, direct', bare: 'infer, bare Worker', edgeplane: '/predict, edgeplane' };
  for (const name of Object.keys(times)) {
    console.log(`  ${label[name].padEnd(20)} p50 ${ms(quantile(times[name], 0.5))}  p99 ${ms(quantile(times[name], 0.99))}`);
  }
  const overP50 = quantile(times.edgeplane, 0.5) - quantile(times.bare, 0.5);
  const overP99 = quantile(times.edgeplane, 0.99) - quantile(times.bare, 0.99);
  console.log(
    `  /predict over the same infer call through the bare Worker: p50 +${ms(overP50)}, p99 +${ms(overP99)} (ratio p50 ${(quantile(times.edgeplane, 0.5) / quantile(times.bare, 0.5)).toFixed(2)}×); over the direct call p50 +${ms(quantile(times.edgeplane, 0.5) - quantile(times.direct, 0.5))}`,
  );
  for (const way of Object.values(ways)) way.agent.destroy();
});
