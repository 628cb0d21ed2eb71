import { AppError } from '../errors';

/** A backend as the forwarder needs it: where to go, with which headers, how patiently. */
export interface ForwardTarget {
  upstreams: { url: string; weight: number }[];
  balance: 'priority' | 'weighted';
  timeouts: { connectMs: number; totalMs: number };
  retry: { attempts: number; backoffMs: number };
  authHeaders: Record<string, string>;
}

/** One call to pass through: method, the path after the backend's base (`/v2/...` with query), headers and body. */
export interface ForwardCall {
  method: string;
  path: string;
  headers: Headers;
  /** A buffered body can be sent again; a stream can be sent once. */
  body: ArrayBuffer | ReadableStream<Uint8Array> | null;
  /** The endpoint is safe to repeat (reads, infer); load/unload are not. */
  repeatable: boolean;
  /** Aborts the upstream request (a streamed body that passed the size limit). */
  signal?: AbortSignal;
}

/** What happened, for metrics and logs: which upstream answered and how many attempts it took. */
export interface ForwardResult {
  response: Response;
  upstream: string;
  attempts: number;
}

// Hop-by-hop headers, the caller's edgeplane credentials and Cloudflare's own request headers never go upstream.
const DROPPED = new Set([
  'authorization',
  'host',
  'cookie',
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-connection',
  'cf-connecting-ip',
  'cf-ipcountry',
  'cf-ray',
  'cf-visitor',
  'cf-worker',
  'cf-access-client-id',
  'cf-access-client-secret',
  'cf-access-jwt-assertion',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-real-ip',
]);

/**
 * The request headers sent upstream: the caller's minus the dropped ones, plus the backend's credentials. Copied whole
 * by the runtime and then trimmed: cheaper than copying header by header from JS (docs/benchmarks.md).
 */
export function upstreamHeaders(incoming: Headers, auth: Record<string, string>): Headers {
  const out = new Headers(incoming);
  for (const name of DROPPED) out.delete(name);
  for (const [name, value] of Object.entries(auth)) out.set(name, value);
  return out;
}

/** Upstreams in the order they are tried: as listed (priority), or one drawn by weight first and the rest by weight. */
export function upstreamOrder(target: Pick<ForwardTarget, 'upstreams' | 'balance'>, random: () => number = Math.random): string[] {
  if (target.balance === 'priority' || target.upstreams.length < 2) return target.upstreams.map((u) => u.url);
  const total = target.upstreams.reduce((sum, u) => sum + u.weight, 0);
  let draw = random() * total;
  let first = target.upstreams[0];
  for (const u of target.upstreams) {
    draw -= u.weight;
    if (draw < 0) {
      first = u;
      break;
    }
  }
  const rest = target.upstreams.filter((u) => u !== first).sort((a, b) => b.weight - a.weight);
  return [first, ...rest].flatMap((u) => (u ? [u.url] : []));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class UpstreamTimeout extends Error {}

/** fetch with a limit on the time to response headers only, so a long body or an SSE stream is never cut. */
async function fetchWithHeaderTimeout(url: string, init: RequestInit, ms: number, cut?: AbortSignal): Promise<Response> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new UpstreamTimeout()), ms);
  try {
    return await fetch(url, { ...init, signal: cut ? AbortSignal.any([controller.signal, cut]) : controller.signal });
  } catch (error) {
    if (controller.signal.aborted) throw new UpstreamTimeout();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Sends a call to a backend's upstreams and returns the first usable response, streamed: neither body is read here.
 * A failed attempt (no answer, or 502/503) is repeated with doubling backoff and then moved to the next upstream, but
 * only when the call is safe to repeat and its body can be sent again (none, or buffered). A timeout is not repeated
 * for calls that carry a body: the upstream may be working on it. Responses keep their encoding byte for byte.
 */
export async function forward(target: ForwardTarget, call: ForwardCall): Promise<ForwardResult> {
  const replayable = call.repeatable && !(call.body instanceof ReadableStream);
  const headers = upstreamHeaders(call.headers, target.authHeaders);
  const timeoutMs = call.body === null ? target.timeouts.connectMs : target.timeouts.totalMs;
  const order = upstreamOrder(target);
  let attempts = 0;
  let lastProblem = '';
  let lastResponse: ForwardResult | undefined;
  for (const base of order) {
    const perUpstream = replayable ? target.retry.attempts : 1;
    for (let attempt = 0; attempt < perUpstream; attempt++) {
      if (attempts > 0) await sleep(target.retry.backoffMs * 2 ** Math.max(0, attempt - 1));
      attempts++;
      try {
        const response = await fetchWithHeaderTimeout(
          base + call.path,
          { method: call.method, headers, body: call.body, redirect: 'manual', encodeResponseBody: 'manual' },
          timeoutMs,
          call.signal,
        );
        if ((response.status === 502 || response.status === 503) && replayable) {
          if (lastResponse) await lastResponse.response.body?.cancel();
          lastResponse = { response, upstream: base, attempts };
          lastProblem = `${base} answered ${response.status}`;
          continue;
        }
        if (lastResponse) await lastResponse.response.body?.cancel();
        return { response, upstream: base, attempts };
      } catch (error) {
        if (error instanceof UpstreamTimeout) {
          lastProblem = `upstream ${base} did not answer within ${timeoutMs} ms`;
          if (!replayable || call.body !== null) throw new AppError('gateway_timeout', lastProblem);
          continue;
        }
        lastProblem = `upstream ${base} could not be reached: ${error instanceof Error ? error.message : String(error)}`;
        if (!replayable) throw new AppError('bad_gateway', lastProblem);
      }
    }
  }
  // Every upstream failed: the last 502/503 from Triton is passed on as it is; otherwise edgeplane says what happened.
  if (lastResponse) return { ...lastResponse, attempts };
  if (lastProblem.includes('did not answer')) throw new AppError('gateway_timeout', `${lastProblem} (after ${attempts} attempts)`);
  throw new AppError('bad_gateway', `${lastProblem} (after ${attempts} attempts)`);
}
