import { errorEnvelope } from '../app';
import { systemClock } from '../clock';
import { configOf } from '../env';
import { AppError, notFound } from '../errors';
import type { InferenceRoute } from '../inference-path';
import { authenticateInference, type InferenceRequest, inferenceCacheDeps, limitRate } from '../middleware/inference-auth';
import { requestIdOf } from '../middleware/request-id';
import { cachedBackend } from '../services/inference-cache';
import { classifyEndpoint } from '../services/inference-endpoints';
import { forward } from '../services/inference-forward';
import { cachedHealth } from '../services/inference-health-cache';
import { type OutgoingBody, outgoingBody } from '../services/inference-body';
import { type InferenceSample, recordInferenceCall } from '../services/inference-metrics';
import type { InferenceErrorClass } from '../../src/shared/api/inference-metrics';

/**
 * Serves the Triton (KServe v2) proxy: `/inference/:backend/v2/...` for any backend, `/v2/...` for the default one.
 * The Worker's fetch calls it directly for those paths (worker/inference-path.ts), without the API's Hono app: a
 * proxied call pays for no router or middleware it does not use (measured: docs/benchmarks.md → inference proxy).
 * The answers edgeplane makes (errors in the API's envelope, cached health, counted streams) carry x-request-id;
 * Triton's answers with Content-Length are returned as they came.
 */
export async function serveInference(request: Request, env: Env, ctx: ExecutionContext, route: InferenceRoute): Promise<Response> {
  const requestId = requestIdOf(request.headers.get('x-request-id'));
  try {
    const r: InferenceRequest = {
      request,
      env,
      config: configOf(env),
      now: systemClock,
      requestId,
      defer: (work) => ctx.waitUntil(work),
    };
    return await proxy(r, route);
  } catch (error) {
    const { status, body, headers } = errorEnvelope(error, requestId, request.headers.get('content-type') ?? undefined);
    const response = Response.json(body, { status, headers });
    response.headers.set('x-request-id', requestId);
    return response;
  }
}

async function proxy(r: InferenceRequest, { backend: backendId, rest }: InferenceRoute): Promise<Response> {
  const { request } = r;
  const method = request.method;
  // Latency counts from here: performance.now() advances with I/O in workerd, which is what a proxy's latency is made of.
  const started = performance.now();
  const caller = await authenticateInference(r);
  const endpoint = classifyEndpoint(method, rest);
  if (endpoint.kind === 'blocked') throw new AppError('forbidden', `${method} /v2${rest}: ${endpoint.reason}`);
  if (endpoint.kind === 'unknown') throw new AppError('not_found', `${method} /v2${rest} is not a Triton endpoint edgeplane proxies`);
  if (!caller.scopes.has(endpoint.scope)) {
    throw new AppError(
      'forbidden',
      `${method} /v2${rest} needs the "${endpoint.scope}" scope; this token has ${[...caller.scopes].join(', ') || 'none'}`,
    );
  }
  await limitRate(r, caller);
  // Backend rows, like tokens, come from the per-isolate cache (ADR 0014): no storage read on a call in steady use.
  const cached = await cachedBackend(inferenceCacheDeps(r), backendId);
  if (!cached) {
    if (backendId !== undefined) throw notFound('inference backend', backendId);
    throw new AppError('not_found', 'no default inference backend: set "default": true on one, or call /inference/<backend>/v2/...');
  }
  const backend = cached.row;
  if (endpoint.model !== undefined && backend.models && !backend.models.includes(endpoint.model)) {
    throw new AppError('not_found', `model "${endpoint.model}" is not served by inference backend "${backend.id}"`);
  }

  // Metrics are kept per model; a name Triton does not know (its 404) is counted as a server-level call, so callers
  // cannot grow the metrics without bound by asking for made-up models.
  const modelOf = (status: number) => (status === 404 ? '' : (endpoint.model ?? ''));
  const record = (status: number, sample: Omit<InferenceSample, 'backend' | 'model' | 'latencyMs'>) =>
    recordInferenceCall(r.env, { backend: backend.id, model: modelOf(status), latencyMs: performance.now() - started, ...sample }, r.defer);
  let outgoing: OutgoingBody | undefined;
  try {
    outgoing = await outgoingBody(
      request.body,
      method,
      request.headers.get('content-length') ?? undefined,
      backend.maxBodyBytes,
      backend.id,
    );
    const target = {
      upstreams: backend.upstreams,
      balance: backend.balance,
      timeouts: backend.timeouts,
      retry: backend.retry,
      authHeaders: cached.authHeaders,
    };
    const call = {
      method,
      path: `/v2${rest}${searchOf(request.url)}`,
      headers: request.headers,
      body: outgoing.body,
      repeatable: endpoint.repeatable && !endpoint.stream,
      signal: outgoing.signal,
    };
    if (endpoint.health) {
      const answer = await cachedHealth(
        `${backend.id}:${backend.version}:${rest}`,
        async () => (await forward(target, { ...call, method: 'GET', body: null })).response,
        r.defer,
      );
      answer.headers.set('x-request-id', r.requestId);
      record(answer.status, { errorClass: statusClass(answer.status), bytesIn: 0, bytesOut: 0 });
      return answer;
    }
    const { response } = await forward(target, call);
    if (outgoing.overLimit()) {
      // The upstream answered before the cut reached it; its answer is about a request it never fully got.
      await response.body?.cancel();
      throw new AppError('payload_too_large', 'over the limit');
    }
    const bytesIn = outgoing.bytes();
    const errorClass = statusClass(response.status);
    const length = response.headers.get('content-length');
    const body = response.body;
    if (body === null || length !== null) {
      // The common case (Triton sends Content-Length on everything but streams): Triton's response is returned as
      // it came, its body passing natively and uncounted (bytes from Content-Length). Copying it only to add
      // x-request-id cost ≈ 0.02 ms a call (docs/benchmarks.md): the answers edgeplane makes carry the id, these not.
      record(response.status, { errorClass, bytesIn, bytesOut: body === null ? 0 : Number(length) });
      return response;
    }
    // A stream (generate_stream SSE): counted as it passes, recorded when it ends or breaks. encodeBody 'manual': the
    // body is Triton's bytes as they came (gzip included), passed on without re-encoding.
    const stream = counted(body, (bytesOut, broken) =>
      record(response.status, { errorClass: errorClass ?? (broken ? 'aborted' : undefined), bytesIn, bytesOut }),
    );
    const headers = new Headers(response.headers);
    headers.set('x-request-id', r.requestId);
    return new Response(stream, { status: response.status, statusText: response.statusText, headers, encodeBody: 'manual' });
  } catch (error) {
    // A streamed chunked body that passed the limit breaks the upstream call; the caller is told why.
    const failure = outgoing?.overLimit()
      ? new AppError('payload_too_large', `the request body passed ${backend.maxBodyBytes} bytes, the limit of backend "${backend.id}"`)
      : error;
    record(0, { errorClass: errorClassOf(failure), bytesIn: outgoing?.bytes() ?? 0, bytesOut: 0 });
    throw failure;
  }
}

/** The query of a URL, `?` included, or '' (the fragment never reaches a server). */
function searchOf(url: string): string {
  const at = url.indexOf('?');
  return at < 0 ? '' : url.slice(at);
}

/** Triton's answers that count as errors, by status class. */
function statusClass(status: number): InferenceErrorClass | undefined {
  if (status >= 500) return 'upstream_5xx';
  if (status >= 400) return 'upstream_4xx';
  return undefined;
}

/** What edgeplane answered itself, as an error class. */
function errorClassOf(error: unknown): InferenceErrorClass {
  if (!(error instanceof AppError)) return 'unreachable';
  if (error.code === 'gateway_timeout') return 'timeout';
  if (error.code === 'bad_gateway') return 'unreachable';
  if (error.code === 'payload_too_large') return 'too_large';
  return 'rejected';
}

/** Passes a response stream through, counting its bytes, and reports once when it ends, breaks or is abandoned. */
function counted(body: ReadableStream<Uint8Array>, done: (bytes: number, broken: boolean) => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let bytes = 0;
  let reported = false;
  const report = (broken: boolean) => {
    if (reported) return;
    reported = true;
    done(bytes, broken);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done: end, value } = await reader.read();
        if (end) {
          report(false);
          controller.close();
          return;
        }
        bytes += value.byteLength;
        controller.enqueue(value);
      } catch (error) {
        report(true);
        controller.error(error);
      }
    },
    async cancel(reason) {
      report(true);
      await reader.cancel(reason);
    },
  });
}
