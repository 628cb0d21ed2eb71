import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { BATCH_OPERATION, batchHandler, checkBatchElements } from './batch';
import { checkRequest, loadContract, matchOperation } from './contract';
import { type HandlerContext, type Reply, fail, handlers, ok } from './handlers';
import { DEFAULT_BATCH_LIMIT, type Fault, FakeState } from './state';

// A stateful fake of the Cloudflare API v4 subset edgeplane calls, on 127.0.0.1 with an ephemeral port.
// Every request is checked against test/fixtures/cloudflare-api/openapi-subset.json; a request that does not conform
// is answered 400 in the Cloudflare envelope AND recorded, so tests can assert that no violation happened.
// Control endpoints under /__fake script faults, seed foreign objects and read state, calls and violations.

export const API_PREFIX = '/client/v4';
export const DEFAULT_TOKEN = 'fake-cloudflare-api-token';

export interface FakeCloudflare {
  /** e.g. http://127.0.0.1:41234/client/v4 — what CLOUDFLARE_API_BASE_URL should be. */
  baseUrl: string;
  /** http://127.0.0.1:41234 — the control endpoints live below /__fake. */
  origin: string;
  state: FakeState;
  close: () => Promise<void>;
}

export interface FakeOptions {
  port?: number;
  /** The API token the fake accepts; anything else is answered like Cloudflare answers a bad token. */
  token?: string;
}

/** The first 16 hex digits of the SHA-256 of a bearer token (the fake never keeps a token itself). */
export const tokenHash = (authorization: string): string =>
  createHash('sha256')
    .update(authorization.replace(/^Bearer /, ''))
    .digest('hex')
    .slice(0, 16);

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const send = (response: ServerResponse, reply: Reply, headers: Record<string, string> = {}): void => {
  response.writeHead(reply.status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(reply.body));
};

function takeFault(state: FakeState, account: string, method: string, pathname: string): Fault | undefined {
  const fault = state.faults.find(
    (f) =>
      f.times > 0 &&
      (f.account === undefined || f.account === account) &&
      (f.method === undefined || f.method === method) &&
      (f.path === undefined || new RegExp(f.path).test(pathname)),
  );
  if (fault) fault.times -= 1;
  state.faults = state.faults.filter((f) => f.times > 0);
  return fault;
}

/** The account a request is about: from its path, its zone, or the zones list's `account.id` filter. */
function accountOf(state: FakeState, params: Record<string, string>, query: Record<string, string>): string {
  if (params.account_id) return params.account_id;
  if (params.zone_id) return state.zones.get(params.zone_id)?.account.id ?? '';
  return query['account.id'] ?? '';
}

function control(state: FakeState, method: string, pathname: string, query: URLSearchParams, body: unknown): Reply {
  const account = query.get('account') ?? undefined;
  const input = (body ?? {}) as Record<string, unknown>;
  const str = (key: string): string => String(input[key] ?? '');
  switch (`${method} ${pathname}`) {
    case 'GET /__fake/health':
      return ok({ ok: true });
    case 'POST /__fake/reset':
      state.reset(account);
      return ok({});
    case 'GET /__fake/calls': {
      const calls = state.calls.filter((c) => account === undefined || c.account === account);
      return ok({ count: calls.length, calls });
    }
    case 'GET /__fake/tokens':
      // Requests per token (by hash), across every account: what Cloudflare's per-token rate limit counts.
      return ok(Object.fromEntries(state.tokenCounts));
    case 'GET /__fake/violations':
      return ok(state.violations.filter((v) => account === undefined || v.account === account));
    case 'GET /__fake/state':
      return ok(state.snapshot(account ?? ''));
    case 'POST /__fake/faults': {
      const fault: Fault = { times: Number(input.times ?? 1) };
      if (typeof input.account === 'string') fault.account = input.account;
      if (typeof input.method === 'string') fault.method = input.method.toUpperCase();
      if (typeof input.path === 'string') fault.path = input.path;
      if (typeof input.status === 'number') fault.status = input.status;
      if (typeof input.retryAfter === 'number') fault.retryAfter = input.retryAfter;
      if (input.hang === true) fault.hang = true;
      state.faults.push(fault);
      return ok(fault);
    }
    case 'DELETE /__fake/faults':
      state.faults = state.faults.filter((f) => account !== undefined && f.account !== account);
      return ok({});
    case 'POST /__fake/batch': {
      // The account's DNS batch policy: `refuse: {status, code}` answers every batch so (as for an account or token
      // the endpoint is not available to), `refuse: null` serves batches again; `limit` sets the records per batch.
      const current = state.batchPolicies.get(str('account')) ?? { limit: DEFAULT_BATCH_LIMIT };
      const refuse = input.refuse as { status?: unknown; code?: unknown } | null | undefined;
      if (refuse === null) delete current.refuse;
      else if (refuse !== undefined) current.refuse = { status: Number(refuse.status ?? 405), code: Number(refuse.code ?? 10405) };
      if (typeof input.limit === 'number') current.limit = input.limit;
      state.batchPolicies.set(str('account'), current);
      return ok(current);
    }
    case 'POST /__fake/zones':
      return ok(state.addZone(str('account'), str('name')));
    case 'POST /__fake/policies':
      return ok(state.addPolicy(str('account'), str('name')));
    case 'POST /__fake/connections': {
      const tunnel = state.tunnels.get(str('tunnelId'));
      if (!tunnel) return fail(404, 1003, 'Tunnel not found');
      tunnel.connections.push({
        id: crypto.randomUUID(),
        colo_name: 'ams01',
        client_id: crypto.randomUUID(),
        opened_at: new Date().toISOString(),
      });
      tunnel.status = 'healthy';
      return ok({ connections: tunnel.connections.length });
    }
    default:
      return fail(404, 7003, `no control endpoint ${method} ${pathname}`);
  }
}

/** A DNS PATCH without `type` is checked against the schema of the record's own type, as Cloudflare does. */
function bodyForCheck(state: FakeState, operationId: string, params: Record<string, string>, body: unknown): unknown {
  if (operationId !== 'dns-records-for-a-zone-patch-dns-record' || body === null || typeof body !== 'object' || Array.isArray(body))
    return body;
  const record = state.records.get(params.dns_record_id ?? '');
  return 'type' in body || !record ? body : { type: record.type, ...body };
}

/** Starts the fake; resolves once it listens. */
export async function startFakeCloudflare(options: FakeOptions = {}): Promise<FakeCloudflare> {
  const operations = loadContract();
  const state = new FakeState();
  const token = options.token ?? DEFAULT_TOKEN;
  const sockets = new Set<Socket>();

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://fake');
    const method = (request.method ?? 'GET').toUpperCase();
    const raw = await readBody(request);
    let body: unknown;
    let parseError: string | undefined;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        parseError = 'body: not valid JSON';
      }
    }
    if (url.pathname.startsWith('/__fake/')) return send(response, control(state, method, url.pathname, url.searchParams, body));

    const query = Object.fromEntries(url.searchParams);
    const pathname = url.pathname.startsWith(API_PREFIX) ? url.pathname.slice(API_PREFIX.length) : url.pathname;
    const match = url.pathname.startsWith(API_PREFIX) ? matchOperation(operations, method, pathname) : undefined;
    const account = match ? accountOf(state, match.params, query) : '';
    const caller = tokenHash(request.headers.authorization ?? '');
    state.tokenCounts.set(caller, (state.tokenCounts.get(caller) ?? 0) + 1);
    const record = (status: number) =>
      state.calls.push({ account, token: caller, method, path: pathname, operationId: match?.operation.operationId ?? '', status });

    if (!match) {
      state.violations.push({ account, method, path: url.pathname, problems: [`no operation ${method} ${url.pathname} in the contract`] });
      record(404);
      return send(response, fail(404, 7000, `No route for that URI: ${method} ${url.pathname}`));
    }
    const problems = parseError
      ? [parseError]
      : checkRequest(match, query, bodyForCheck(state, match.operation.operationId, match.params, body), raw.length > 0);
    if (!parseError && match.operation.operationId === BATCH_OPERATION) problems.push(...checkBatchElements(operations, state, body));
    const auth = request.headers.authorization ?? '';
    if (!/^Bearer \S+$/.test(auth)) problems.push('header: Authorization: Bearer <token> is required');
    if (problems.length > 0) {
      state.violations.push({ account, method, path: pathname, problems });
      record(400);
      return send(response, fail(400, 1001, `Invalid request: ${problems.join('; ')}`));
    }
    if (auth !== `Bearer ${token}`) {
      record(403);
      return send(response, fail(403, 10000, 'Authentication error'));
    }
    const fault = takeFault(state, account, method, pathname);
    if (fault?.hang) {
      record(0);
      return; // Never answered: the client's timeout must fire. The socket is destroyed when the fake closes.
    }
    if (fault?.status) {
      record(fault.status);
      const headers: Record<string, string> = fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {};
      const reply =
        fault.status === 429
          ? fail(429, 971, 'Please wait and consider throttling your request speed')
          : fail(fault.status, 10002, 'An unknown error has occurred');
      return send(response, reply, headers);
    }
    const handler = match.operation.operationId === BATCH_OPERATION ? batchHandler : handlers[match.operation.operationId];
    const context: HandlerContext = { state, account, params: match.params, query, body, now: () => new Date().toISOString() };
    const reply = handler ? handler(context) : fail(501, 10001, `the fake does not implement ${match.operation.operationId}`);
    record(reply.status);
    send(response, reply);
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      send(response, fail(500, 10002, `fake crashed: ${String(error)}`));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    baseUrl: `${origin}${API_PREFIX}`,
    state,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const socket of sockets) socket.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
