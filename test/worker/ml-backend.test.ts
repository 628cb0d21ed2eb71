import { describe, expect, it } from 'vitest';
import { api, expectError, uid } from './helpers';
import { call, createBackend, createToken, tritonInstance } from './inference-helpers';

// Requests shaped as Label Studio sends them to an ML backend (label_studio/ml/api_connector.py: /health, /setup,
// /predict with {tasks, project, label_config, params}, /webhook).

const SENTIMENT_CONFIG = `<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="Negative"/><Choice value="Neutral"/><Choice value="Positive"/>
  </Choices>
</View>`;

async function setup(ml: Record<string, unknown>) {
  const triton = tritonInstance();
  const backend = await createBackend({ id: uid('gpu'), upstreams: [{ url: triton.url }], retry: { attempts: 1, backoffMs: 1 } });
  const id = uid('ml');
  const created = await api('POST', '/v1/ml-backends', { body: { id, backend, ...ml } });
  expect(created.status, await created.clone().text()).toBe(201);
  const token = await createToken('inference', ['health', 'metadata', 'inference']);
  return { triton, id, token, basic: `Basic ${btoa(`ls:${token}`)}` };
}

const post = (path: string, auth: string, body: unknown) =>
  call(path, undefined, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { authorization: auth, 'content-type': 'application/json' },
  });

describe('Label Studio ML backend', () => {
  const sentiment = {
    model: 'text_cls',
    task: 'text-classification',
    input: { field: 'text', tensor: 'TEXT' },
    output: { tensor: 'LOGITS' },
    choices: ['negative', 'neutral', 'positive'],
  };

  it('answers health, setup and versions as Label Studio expects', async () => {
    const { id, basic } = await setup(sentiment);
    for (const path of [`/ml/${id}`, `/ml/${id}/health`]) {
      const response = await call(path, undefined, { headers: { authorization: basic } });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ status: 'UP', model_version: 'text_cls@latest' });
    }
    const setupResponse = await post(`/ml/${id}/setup`, basic, {
      project: '1.1700000000',
      schema: SENTIMENT_CONFIG,
      hostname: 'http://ls',
      access_token: 'x',
    });
    expect(await setupResponse.json()).toEqual({ model_version: 'text_cls@latest' });
    expect(await (await call(`/ml/${id}/versions`, undefined, { headers: { authorization: basic } })).json()).toMatchObject({
      versions: ['text_cls@latest'],
    });
    const webhook = await post(`/ml/${id}/webhook`, basic, { action: 'ANNOTATION_CREATED', project: { id: 1 } });
    expect(webhook.status).toBe(201);
    expect(await webhook.json()).toEqual({ status: 'ignored', action: 'ANNOTATION_CREATED' });
  });

  it('predicts 32 tasks in one batched infer call, one result per task in order, labels from label_config', async () => {
    const { triton, id, basic } = await setup(sentiment);
    const texts = Array.from({ length: 32 }, (_, i) => (i % 3 === 0 ? `great ${i}` : i % 3 === 1 ? `awful ${i}` : `so-so ${i}`));
    const tasks = texts.map((text, i) => ({ id: 100 + i, data: { text } }));
    const response = await post(`/ml/${id}/predict`, basic, {
      tasks,
      project: '1.1700000000',
      label_config: SENTIMENT_CONFIG,
      params: { login: null, password: null, context: null },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      results: {
        result: { from_name: string; to_name: string; type: string; value: { choices: string[] }; score: number }[];
        score: number;
        model_version: string;
      }[];
      model_version: string;
    };
    expect(body.model_version).toBe('text_cls@latest');
    expect(body.results).toHaveLength(32);
    expect(body.results.map((r) => r.result[0]?.value.choices[0])).toEqual(
      texts.map((t) => (t.startsWith('great') ? 'Positive' : t.startsWith('awful') ? 'Negative' : 'Neutral')),
    );
    expect(body.results[0]?.result[0]).toMatchObject({ from_name: 'sentiment', to_name: 'text', type: 'choices' });
    expect(body.results[0]?.score).toBeGreaterThan(0.8);
    expect(body.results[0]?.score).toBeLessThan(1);
    const infers = (await triton.received()).filter((r) => r.path.endsWith('/infer'));
    expect(infers).toHaveLength(1);
    expect(infers[0]?.path).toBe('/v2/models/text_cls/infer');
  });

  it('keeps a failing task in place with an empty result and uses the configured choices without a label_config', async () => {
    const { id, token } = await setup(sentiment);
    const tasks = [
      { id: 1, data: { text: 'good' } },
      { id: 2, data: { image: 'x' } },
      { id: 3, data: { text: 'this will fail' } },
      { id: 4, data: { text: 'bad' } },
    ];
    const response = await post(`/ml/${id}/predict`, `Bearer ${token}`, { tasks, project: '1.1', params: {} });
    const body = (await response.json()) as { results: { result: { value: { choices: string[] } }[] }[] };
    expect(body.results.map((r) => r.result[0]?.value.choices[0] ?? null)).toEqual(['positive', null, null, 'negative']);
  });

  it('gives every task an empty result when Triton fails, never a dropped task', async () => {
    const { triton, id, token } = await setup(sentiment);
    await triton.set({ busy: 5 });
    const response = await post(`/ml/${id}/predict`, `Bearer ${token}`, { tasks: [{ data: { text: 'a' } }, { data: { text: 'b' } }] });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { results: { result: unknown[] }[] }).results.map((r) => r.result)).toEqual([[], []]);
  });

  it('maps spans to labels with start, end and text', async () => {
    const config =
      '<View><Labels name="ner" toName="text"><Label value="Person"/><Label value="City"/></Labels><Text name="text" value="$text"/></View>';
    const { id, token } = await setup({
      model: 'ner',
      task: 'span-labeling',
      input: { field: 'text', tensor: 'TEXT' },
      output: { tensor: 'SPANS' },
    });
    const response = await post(`/ml/${id}/predict`, `Bearer ${token}`, {
      tasks: [{ data: { text: 'Alice went to Paris' } }, { data: { text: 'nobody' } }],
      label_config: config,
    });
    const body = (await response.json()) as { results: { result: unknown[] }[] };
    expect(body.results[0]?.result).toEqual([
      { from_name: 'ner', to_name: 'text', type: 'labels', value: { start: 0, end: 5, text: 'Alice', labels: ['Person'] } },
      { from_name: 'ner', to_name: 'text', type: 'labels', value: { start: 14, end: 19, text: 'Paris', labels: ['City'] } },
    ]);
    expect(body.results[1]?.result).toEqual([]);
  });

  it('maps [N, 6] boxes to rectanglelabels in percent of the image', async () => {
    const config =
      '<View><Image name="image" value="$image"/><RectangleLabels name="box" toName="image"><Label value="Cat"/><Label value="Dog"/></RectangleLabels></View>';
    const { id, token } = await setup({
      model: 'detector',
      task: 'object-detection',
      input: { field: 'image', tensor: 'IMAGE' },
      output: { tensor: 'BOXES' },
    });
    const response = await post(`/ml/${id}/predict`, `Bearer ${token}`, {
      tasks: [{ data: { image: '/data/upload/1/dog.jpg' } }],
      label_config: config,
    });
    const body = (await response.json()) as { results: { result: { value: Record<string, unknown>; score: number }[] }[] };
    const region = body.results[0]?.result[0];
    expect(region?.value.rectanglelabels).toEqual(['Dog']);
    expect(region?.value.x).toBeCloseTo(10, 4);
    expect(region?.value.y).toBeCloseTo(20, 4);
    expect(region?.value.width).toBeCloseTo(40, 4);
    expect(region?.value.height).toBeCloseTo(40, 4);
    expect(region?.score).toBeCloseTo(0.9, 4);
  });

  it('refuses calls without a token, with a token lacking the inference scope, and for an unknown ML backend', async () => {
    const { triton, id } = await setup(sentiment);
    await expectError(await call(`/ml/${id}/health`, undefined), 401, 'unauthorized');
    const healthOnly = await createToken('inference', ['health']);
    await expectError(await post(`/ml/${id}/predict`, `Bearer ${healthOnly}`, { tasks: [{ data: { text: 'x' } }] }), 403, 'forbidden');
    await expectError(await call(`/ml/nope/health`, healthOnly), 404, 'not_found');
    const token = await createToken('inference');
    await expectError(await post(`/ml/${id}/predict`, `Bearer ${token}`, { tasks: 'nope' }), 422, 'validation_failed');
    expect(await triton.received()).toEqual([]);
  });
});
