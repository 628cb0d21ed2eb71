import type { InferenceScope } from '../../src/shared/api';

/** What the proxy knows about a Triton endpoint before anything is sent upstream. */
export type Endpoint =
  | {
      kind: 'allowed';
      scope: InferenceScope;
      /** The model the call is about, checked against the backend's allow-list. */
      model?: string;
      /** A failed attempt may be repeated (502/503 or no answer) when the body can be sent again. */
      repeatable: boolean;
      /** Answered from the cached health probe. */
      health?: 'live' | 'ready' | 'model-ready';
      /** A streamed response (SSE): never retried once started, no total timeout on the body. */
      stream?: boolean;
    }
  | { kind: 'blocked'; reason: string }
  | { kind: 'unknown' };

const BLOCKED = /^\/(systemsharedmemory|cudasharedmemory|trace|logging)(\/|$)/;
const MODEL = /^\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/[a-z_/]*)?$/;
const REPOSITORY_MODEL = /^\/repository\/models\/([^/]+)\/(load|unload)$/;

const isRead = (method: string) => method === 'GET' || method === 'HEAD';

/**
 * Classifies a call to Triton's HTTP/REST API by method and the path after `/v2`, following Triton's endpoint groups
 * (docs/protocol: health, metadata, inference, statistics, model repository; shared memory, trace and logging
 * extensions). Anything else is unknown and answered 404 without reaching the upstream.
 */
export function classifyEndpoint(method: string, rest: string): Endpoint {
  const path = rest === '/' ? '' : rest;
  if (BLOCKED.test(path) || /^\/models\/[^/]+(\/versions\/[^/]+)?\/trace\/setting$/.test(path)) {
    return { kind: 'blocked', reason: 'shared-memory, trace and logging endpoints are never proxied' };
  }
  if (path === '' && isRead(method)) return { kind: 'allowed', scope: 'metadata', repeatable: true };
  if (path === '/health/live' && isRead(method)) return { kind: 'allowed', scope: 'health', repeatable: true, health: 'live' };
  if (path === '/health/ready' && isRead(method)) return { kind: 'allowed', scope: 'health', repeatable: true, health: 'ready' };
  if (path === '/models/stats' && isRead(method)) return { kind: 'allowed', scope: 'statistics', repeatable: true };
  if (path === '/repository/index' && method === 'POST') return { kind: 'allowed', scope: 'model-repository', repeatable: true };
  const repo = REPOSITORY_MODEL.exec(path);
  if (repo && method === 'POST') {
    // Load and unload change the server; a repeated one may do twice what was asked, so it is never retried.
    return { kind: 'allowed', scope: 'model-repository', model: decodeURIComponent(repo[1] ?? ''), repeatable: false };
  }
  const m = MODEL.exec(path);
  if (!m) return { kind: 'unknown' };
  const model = decodeURIComponent(m[1] ?? '');
  const action = m[3] ?? '';
  if (action === '' && isRead(method)) return { kind: 'allowed', scope: 'metadata', model, repeatable: true };
  if (action === '/config' && isRead(method)) return { kind: 'allowed', scope: 'metadata', model, repeatable: true };
  if (action === '/ready' && isRead(method)) return { kind: 'allowed', scope: 'health', model, repeatable: true, health: 'model-ready' };
  if (action === '/stats' && isRead(method)) return { kind: 'allowed', scope: 'statistics', model, repeatable: true };
  if ((action === '/infer' || action === '/generate') && method === 'POST')
    return { kind: 'allowed', scope: 'inference', model, repeatable: true };
  if (action === '/generate_stream' && method === 'POST') {
    return { kind: 'allowed', scope: 'inference', model, repeatable: true, stream: true };
  }
  return { kind: 'unknown' };
}
