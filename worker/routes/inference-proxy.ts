import type { Context } from 'hono';
import type { AppEnv } from '../app-env';
import type { Router } from '../app';
import { openDb } from '../deps';
import { AppError } from '../errors';
import { authenticateInference, limitRate } from '../middleware/inference-auth';
import { loadDefaultInferenceBackend, loadInferenceBackend, upstreamAuthHeaders } from '../services/inference-backends';
import { classifyEndpoint } from '../services/inference-endpoints';
import { forward } from '../services/inference-forward';
import { cachedHealth } from '../services/inference-health-cache';

/** Bodies up to this size are read into memory so a failed attempt can be sent again; larger ones stream once. */
const REPLAYABLE_BODY_BYTES = 1024 * 1024;

/** Mounts the Triton (KServe v2) proxy: `/inference/:backend/v2/...` for any backend, `/v2/...` for the default one. */
export function registerInferenceProxy(app: Router): void {
  const byName = (c: Context<AppEnv>) => proxy(c, c.req.param('backend') ?? '', `/inference/${c.req.param('backend') ?? ''}`);
  const byDefault = (c: Context<AppEnv>) => proxy(c, undefined, '');
  app.all('/inference/:backend/v2', byName);
  app.all('/inference/:backend/v2/*', byName);
  app.all('/v2', byDefault);
  app.all('/v2/*', byDefault);
}

async function proxy(c: Context<AppEnv>, backendId: string | undefined, prefix: string): Promise<Response> {
  const url = new URL(c.req.url);
  const rest = url.pathname.slice(prefix.length + '/v2'.length);
  const method = c.req.method;
  const caller = await authenticateInference(c);
  const endpoint = classifyEndpoint(method, rest);
  if (endpoint.kind === 'blocked') throw new AppError('forbidden', `${method} /v2${rest}: ${endpoint.reason}`);
  if (endpoint.kind === 'unknown') throw new AppError('not_found', `${method} /v2${rest} is not a Triton endpoint edgeplane proxies`);
  if (!caller.scopes.has(endpoint.scope)) {
    throw new AppError(
      'forbidden',
      `${method} /v2${rest} needs the "${endpoint.scope}" scope; this token has ${[...caller.scopes].join(', ') || 'none'}`,
    );
  }
  await limitRate(c.env, caller);
  const db = openDb(c.env.DB);
  const backend = backendId === undefined ? await loadDefaultInferenceBackend({ db }) : await loadInferenceBackend({ db }, backendId);
  if (!backend)
    throw new AppError('not_found', 'no default inference backend: set "default": true on one, or call /inference/<backend>/v2/...');
  if (endpoint.model !== undefined && backend.models && !backend.models.includes(endpoint.model)) {
    throw new AppError('not_found', `model "${endpoint.model}" is not served by inference backend "${backend.id}"`);
  }

  const length = c.req.header('content-length');
  const declared = length === undefined ? undefined : Number(length);
  if (declared !== undefined && declared > backend.maxBodyBytes) {
    throw new AppError(
      'payload_too_large',
      `the request body is ${declared} bytes; backend "${backend.id}" accepts at most ${backend.maxBodyBytes}`,
    );
  }
  const raw = c.req.raw.body;
  const body =
    raw === null || method === 'GET' || method === 'HEAD'
      ? null
      : declared !== undefined && declared <= REPLAYABLE_BODY_BYTES
        ? await c.req.raw.arrayBuffer()
        : raw.pipeThrough(capped(backend.maxBodyBytes));

  const target = {
    upstreams: backend.upstreams,
    balance: backend.balance,
    timeouts: backend.timeouts,
    retry: backend.retry,
    authHeaders: await upstreamAuthHeaders(c.get('config').EDGEPLANE_ENCRYPTION_KEY, backend),
  };
  const call = {
    method,
    path: `/v2${rest}${url.search}`,
    headers: c.req.raw.headers,
    body,
    repeatable: endpoint.repeatable && !endpoint.stream,
  };
  const requestId = c.get('requestId');
  if (endpoint.health) {
    const answer = await cachedHealth(
      `${backend.id}:${backend.version}:${rest}`,
      async () => (await forward(target, { ...call, method: 'GET', body: null })).response,
      (work) => c.executionCtx.waitUntil(work),
    );
    answer.headers.set('x-request-id', requestId);
    return answer;
  }
  const { response } = await forward(target, call);
  const headers = new Headers(response.headers);
  headers.set('x-request-id', requestId);
  // encodeBody 'manual': the body is Triton's bytes as they came (gzip included), passed on without re-encoding.
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers, encodeBody: 'manual' });
}

/** Passes a body through and errors once it grows past `max` bytes (for bodies sent without Content-Length). */
function capped(max: number): TransformStream<Uint8Array, Uint8Array> {
  let seen = 0;
  return new TransformStream({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > max) controller.error(new AppError('payload_too_large', `the request body passed ${max} bytes`));
      else controller.enqueue(chunk);
    },
  });
}
