import { createHash } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { MODELS, type Tensor } from './models';

// A fake of Triton's HTTP/REST frontend (KServe v2) on 127.0.0.1, where edgeplane depends on it: empty-body health
// answers (400 when not ready), model metadata and config, infer with JSON and binary tensors (BYTES length
// prefixes, binary_data_output, Inference-Header-Content-Length), generate_stream SSE, gzip/deflate request and
// response bodies, 404 for an
// unknown model with Triton's {"error": "..."} body. Independent instances live under /i/<instance>/v2/... so test
// files share one server; switches under /__fake/<instance>/ make it busy (503), hang, drop connections or hold the
// last SSE event, and every request's method, path, headers and body hash is recorded.

/** What the fake saw of one request. */
export interface Received {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  bytes: number;
  sha256: string;
  /** Hash of the body the fake answered with. */
  responseSha256?: string;
}

/** Faults and states a test switches on for one instance. */
export interface Switches {
  /** The next n calls answer 503 {"error": "..."}. */
  busy?: number;
  /** The next n calls have their connection destroyed before any answer. */
  drop?: number;
  /** Calls never answer (until the switch is turned off). */
  hang?: boolean;
  /** Server and model readiness answer 400. */
  notReady?: boolean;
  /** Health answers wait this long. */
  healthDelayMs?: number;
  /** generate_stream holds its last event until POST /__fake/<instance>/release. */
  holdLast?: boolean;
}

interface Instance {
  received: Received[];
  switches: Switches;
  releases: (() => void)[];
}

export interface FakeTriton {
  origin: string;
  /** Base URL of an instance, what a backend's upstream URL is set to. */
  urlOf: (instance: string) => string;
  close: () => Promise<void>;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Triton's BYTES wire format: each element as a 4-byte little-endian length and its bytes. */
export function encodeBytes(items: string[]): Buffer {
  return Buffer.concat(
    items.flatMap((s) => {
      const data = Buffer.from(s);
      const len = Buffer.alloc(4);
      len.writeUInt32LE(data.length);
      return [len, data];
    }),
  );
}

function decodeBytes(data: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at + 4 <= data.length;) {
    const len = data.readUInt32LE(at);
    out.push(data.subarray(at + 4, at + 4 + len).toString());
    at += 4 + len;
  }
  return out;
}

function decodeBinary(datatype: string, data: Buffer): unknown[] {
  if (datatype === 'BYTES') return decodeBytes(data);
  if (datatype === 'INT32') return [...new Int32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length))];
  if (datatype === 'FP32') return [...new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length))];
  return [...data];
}

function encodeBinary(t: Tensor): Buffer {
  if (t.datatype === 'BYTES') return encodeBytes(t.data.map(String));
  if (t.datatype === 'INT32') return Buffer.from(new Int32Array(t.data.map(Number)).buffer);
  if (t.datatype === 'FP32') return Buffer.from(new Float32Array(t.data.map(Number)).buffer);
  return Buffer.from(t.data.map(Number));
}

interface InferRequest {
  id?: string;
  inputs?: (Omit<Tensor, 'data'> & { data?: unknown[]; parameters?: { binary_data_size?: number } })[];
  outputs?: { name: string; parameters?: { binary_data?: boolean } }[];
  parameters?: { binary_data_output?: boolean };
}

/** Starts the fake on an ephemeral loopback port. */
export async function startFakeTriton(): Promise<FakeTriton> {
  const instances = new Map<string, Instance>();
  const sockets = new Set<Socket>();
  const instanceOf = (name: string): Instance => {
    let i = instances.get(name);
    if (!i) {
      i = { received: [], switches: {}, releases: [] };
      instances.set(name, i);
    }
    return i;
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: String(error) }));
      }
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const json = (response: ServerResponse, status: number, body: unknown, record?: Received) => {
    const data = Buffer.from(JSON.stringify(body));
    if (record) record.responseSha256 = sha256(data);
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': String(data.length) });
    response.end(data);
  };
  const empty = (response: ServerResponse, status: number) => {
    response.writeHead(status, { 'content-length': '0' });
    response.end();
  };

  async function control(name: string, action: string, request: IncomingMessage, response: ServerResponse) {
    const instance = instanceOf(name);
    if (action === 'requests') return json(response, 200, instance.received);
    if (action === 'switch') {
      instance.switches = { ...instance.switches, ...(JSON.parse((await readBody(request)).toString() || '{}') as Switches) };
      return json(response, 200, instance.switches);
    }
    if (action === 'release') {
      for (const release of instance.releases.splice(0)) release();
      return json(response, 200, {});
    }
    return json(response, 404, { error: `no control ${action}` });
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const ctl = /^\/__fake\/([^/]+)\/(\w+)$/.exec(url.pathname);
    if (ctl) return control(ctl[1] ?? '', ctl[2] ?? '', request, response);
    const m = /^\/i\/([^/]+)(\/v2.*)$/.exec(url.pathname);
    if (!m) return json(response, 404, { error: 'Not Found' });
    const instance = instanceOf(m[1] ?? '');
    const path = m[2] ?? '';
    const body = await readBody(request);
    const record: Received = {
      method: request.method ?? '',
      path: path + url.search,
      headers: request.headers,
      bytes: body.length,
      sha256: sha256(body),
    };
    instance.received.push(record);
    const sw = instance.switches;
    if (sw.drop && sw.drop > 0) {
      sw.drop--;
      request.socket.destroy();
      return;
    }
    if (sw.hang) return; // never answers; the socket is destroyed at close()
    if (sw.busy && sw.busy > 0) {
      sw.busy--;
      return json(response, 503, { error: 'Server is busy, try again later' }, record);
    }
    await route(instance, request.method ?? 'GET', path, request, body, response, record);
  }

  async function route(
    instance: Instance,
    method: string,
    path: string,
    request: IncomingMessage,
    body: Buffer,
    response: ServerResponse,
    record: Received,
  ) {
    const sw = instance.switches;
    if (path === '/v2/health/live' || path === '/v2/health/ready') {
      if (sw.healthDelayMs) await new Promise((r) => setTimeout(r, sw.healthDelayMs));
      return empty(response, path.endsWith('ready') && sw.notReady ? 400 : 200);
    }
    if (path === '/v2' && method === 'GET')
      return json(
        response,
        200,
        { name: 'triton', version: '2.50.0', extensions: ['classification', 'binary_tensor_data', 'generate'] },
        record,
      );
    if (path === '/v2/repository/index' && method === 'POST')
      return json(
        response,
        200,
        MODELS.map((x) => ({ name: x.name, version: '1', state: 'READY' })),
        record,
      );
    const repo = /^\/v2\/repository\/models\/([^/]+)\/(load|unload)$/.exec(path);
    if (repo && method === 'POST') return empty(response, 200);
    if (path === '/v2/models/stats') return json(response, 200, { model_stats: [] }, record);
    const mm = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/[a-z_]+)?$/.exec(path);
    if (!mm) return json(response, 400, { error: 'Not Found' }, record);
    const model = MODELS.find((x) => x.name === mm[1]);
    if (!model) return json(response, 404, { error: `Request for unknown model: '${mm[1]}' is not found` }, record);
    const action = mm[3] ?? '';
    if (action === '/ready') return empty(response, sw.notReady ? 400 : 200);
    if (action === '' && method === 'GET')
      return json(
        response,
        200,
        { name: model.name, versions: ['1'], platform: 'fake', inputs: model.inputs, outputs: model.outputs },
        record,
      );
    if (action === '/config')
      return json(
        response,
        200,
        { name: model.name, max_batch_size: model.maxBatchSize, input: model.inputs, output: model.outputs },
        record,
      );
    if (action === '/stats') return json(response, 200, { model_stats: [{ name: model.name, inference_count: 0 }] }, record);
    if (action === '/infer' && method === 'POST') return infer(model.name, request, body, response, record);
    if (action === '/generate_stream' && method === 'POST') return generateStream(instance, model.name, body, response);
    if (action === '/generate' && method === 'POST') {
      const input = JSON.parse(body.toString()) as { text_input?: string };
      return json(response, 200, { model_name: model.name, model_version: '1', text_output: `echo: ${input.text_input ?? ''}` }, record);
    }
    return json(response, 400, { error: 'Not Found' }, record);
  }

  function infer(modelName: string, request: IncomingMessage, received: Buffer, response: ServerResponse, record: Received) {
    // Like Triton's HTTP frontend: a request body with Content-Encoding gzip or deflate (zlib) is decompressed first.
    const encoding = String(request.headers['content-encoding'] ?? '');
    let body: Buffer;
    try {
      body = encoding === 'gzip' ? gunzipSync(received) : encoding === 'deflate' ? inflateSync(received) : received;
    } catch {
      return json(response, 400, { error: `failed to decompress the ${encoding} request body` }, record);
    }
    const headerLength = Number(request.headers['inference-header-content-length'] ?? body.length);
    let header: InferRequest;
    try {
      header = JSON.parse(body.subarray(0, headerLength).toString()) as InferRequest;
    } catch {
      return json(response, 400, { error: 'failed to parse the request JSON buffer: Invalid value' }, record);
    }
    let at = headerLength;
    const inputs = new Map<string, Tensor | Buffer>();
    for (const input of header.inputs ?? []) {
      const size = input.parameters?.binary_data_size;
      if (size !== undefined) {
        const data = body.subarray(at, at + size);
        at += size;
        inputs.set(input.name, modelName === 'echo' ? data : { ...input, data: decodeBinary(input.datatype, data) });
      } else inputs.set(input.name, { ...input, data: (input.data ?? []).flat(Infinity) });
    }
    let outputs: Tensor[] = [];
    const raw = inputs.get('RAW');
    if (modelName === 'echo') {
      if (!Buffer.isBuffer(raw)) return json(response, 400, { error: "echo needs binary input 'RAW'" }, record);
      outputs = [{ name: 'RAW_OUT', datatype: 'UINT8', shape: [raw.length], data: [] }];
    } else {
      const result = MODELS.find((x) => x.name === modelName)?.run(inputs);
      if (!result || 'error' in result) return json(response, 400, { error: result?.error ?? 'no model' }, record);
      outputs = result.outputs;
    }
    const binaryAll = header.parameters?.binary_data_output === true || modelName === 'echo';
    const wantsBinary = (name: string) => header.outputs?.find((o) => o.name === name)?.parameters?.binary_data ?? binaryAll;
    const blobs: Buffer[] = [];
    const jsonOutputs = outputs.map((t) => {
      if (!wantsBinary(t.name)) return t;
      const data = modelName === 'echo' && Buffer.isBuffer(raw) ? raw : encodeBinary(t);
      blobs.push(data);
      return { name: t.name, datatype: t.datatype, shape: t.shape, parameters: { binary_data_size: data.length } };
    });
    const head = Buffer.from(
      JSON.stringify({ model_name: modelName, model_version: '1', ...(header.id ? { id: header.id } : {}), outputs: jsonOutputs }),
    );
    let out = Buffer.concat([head, ...blobs]);
    const headers: Record<string, string> = {};
    if (blobs.length > 0) {
      headers['inference-header-content-length'] = String(head.length);
      headers['content-type'] = 'application/octet-stream';
    } else headers['content-type'] = 'application/json';
    const accepts = String(request.headers['accept-encoding'] ?? '');
    if (/\bgzip\b/.test(accepts) && modelName !== 'echo') {
      out = gzipSync(out);
      headers['content-encoding'] = 'gzip';
    } else if (/\bdeflate\b/.test(accepts) && modelName !== 'echo') {
      out = deflateSync(out);
      headers['content-encoding'] = 'deflate';
    }
    record.responseSha256 = sha256(out);
    headers['content-length'] = String(out.length);
    response.writeHead(200, headers);
    response.end(out);
  }

  function generateStream(instance: Instance, modelName: string, body: Buffer, response: ServerResponse) {
    const input = JSON.parse(body.toString()) as { text_input?: string; parameters?: { max_tokens?: number } };
    const n = input.parameters?.max_tokens ?? 4;
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    const event = (i: number) => `data: ${JSON.stringify({ model_name: modelName, model_version: '1', text_output: `tok${i}` })}\n\n`;
    for (let i = 0; i < n - 1; i++) response.write(event(i));
    const last = () => response.end(event(n - 1));
    if (instance.switches.holdLast) instance.releases.push(last);
    else last();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    urlOf: (instance) => `${origin}/i/${instance}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
