import { z } from 'zod';
import { resourceMeta } from './common';
import { excerpt } from '../validation/excerpt';
import { boundedRecord, resourceId } from './fields';

/**
 * Scopes of tokens on the inference proxy, one per group of Triton's HTTP endpoints. Shared-memory, trace and
 * logging endpoints belong to no scope: they are never proxied.
 */
export const inferenceScope = z.enum(['health', 'metadata', 'inference', 'statistics', 'model-repository']);
export type InferenceScope = z.infer<typeof inferenceScope>;

/** What an inference token may call when it was created without scopes: what Label Studio and a client need. */
export const DEFAULT_INFERENCE_SCOPES: readonly InferenceScope[] = ['health', 'metadata', 'inference'];

/** An upstream base URL: http(s), no credentials, no query or fragment (the proxy appends /v2/...). */
export const upstreamUrl = z
  .string()
  .max(2000)
  .transform((input, ctx) => {
    let url: URL;
    try {
      url = new URL(input);
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: `"${excerpt(input)}" is not a URL; expected e.g. "https://gpu.example.com" or "http://127.0.0.1:8000"`,
      });
      return z.NEVER;
    }
    const problem =
      url.protocol !== 'http:' && url.protocol !== 'https:'
        ? `scheme "${url.protocol}" is not allowed; use http or https`
        : url.username || url.password
          ? 'a URL must not carry credentials; put them in "credentials", which is stored encrypted'
          : url.search || url.hash
            ? 'a URL must not have a query or fragment'
            : undefined;
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
    return url.href.replace(/\/+$/, '');
  });

/** One upstream of a backend (a Triton server, usually a tunnel hostname). */
export const upstream = z.strictObject({
  url: upstreamUrl,
  weight: z.number().int().min(1).max(1000).default(1).describe('share of requests when balance is "weighted"'),
});
export type Upstream = z.infer<typeof upstream>;

const headerName = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'a header name uses letters, digits and "-"');

/** Credentials edgeplane sends upstream; stored encrypted, never returned. */
export const upstreamCredentials = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('access'),
    clientId: z.string().min(1).max(200).describe('CF-Access-Client-Id of an Access service token'),
    clientSecret: z.string().min(1).max(500).describe('CF-Access-Client-Secret'),
  }),
  z.strictObject({ type: z.literal('bearer'), token: z.string().min(1).max(4000) }),
  z.strictObject({
    type: z.literal('headers'),
    headers: boundedRecord(headerName, z.string().max(8192), 10, 'headers').describe('header values up to 8 KiB, the common server limit'),
  }),
]);
export type UpstreamCredentials = z.infer<typeof upstreamCredentials>;

/** Connect and total time limits of one upstream attempt. */
export const inferenceTimeouts = z.strictObject({
  connectMs: z.number().int().min(100).max(60_000).default(5_000).describe('until response headers for calls that send no body'),
  totalMs: z.number().int().min(100).max(3_600_000).default(300_000).describe('until the response headers arrive'),
});

/** When a failed attempt is repeated (only calls safe to repeat, only before any byte reached the upstream). */
export const inferenceRetry = z.strictObject({
  attempts: z.number().int().min(1).max(5).default(2).describe('attempts per upstream'),
  backoffMs: z.number().int().min(0).max(10_000).default(100).describe('doubled after each attempt'),
});

const MAX_BODY = 100 * 1024 * 1024;

const backendFields = {
  upstreams: z.array(upstream).min(1, 'at least one upstream is needed').max(8, 'at most 8 upstreams'),
  models: z
    .array(z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'a model name uses letters, digits, "_", "." and "-"'))
    .max(200)
    .nullable()
    .describe('allowed models; null or absent = every model'),
  default: z.boolean().describe('the backend behind the bare /v2/... path'),
  balance: z.enum(['priority', 'weighted']).describe('priority: upstreams in order, the next one on failure; weighted: by weight'),
  credentials: upstreamCredentials.nullable().describe('sent to every upstream; write-only'),
  timeouts: inferenceTimeouts,
  retry: inferenceRetry,
  maxBodyBytes: z.number().int().min(1).max(MAX_BODY).describe('largest request body, 100 MB at most (the platform limit)'),
};

/** Body of POST /v1/inference/backends. */
export const inferenceBackendCreate = z.strictObject({
  id: resourceId('backend id'),
  upstreams: backendFields.upstreams,
  models: backendFields.models.default(null),
  default: backendFields.default.default(false),
  balance: backendFields.balance.default('priority'),
  credentials: backendFields.credentials.default(null),
  timeouts: inferenceTimeouts.default({ connectMs: 5_000, totalMs: 300_000 }),
  retry: inferenceRetry.default({ attempts: 2, backoffMs: 100 }),
  maxBodyBytes: backendFields.maxBodyBytes.default(MAX_BODY),
});
export type InferenceBackendCreate = z.infer<typeof inferenceBackendCreate>;

/** Body of PATCH /v1/inference/backends/:id; `credentials: null` removes them. */
export const inferenceBackendUpdate = z.strictObject({
  upstreams: backendFields.upstreams.optional(),
  models: backendFields.models.optional(),
  default: backendFields.default.optional(),
  balance: backendFields.balance.optional(),
  credentials: backendFields.credentials.optional(),
  timeouts: inferenceTimeouts.optional(),
  retry: inferenceRetry.optional(),
  maxBodyBytes: backendFields.maxBodyBytes.optional(),
});
export type InferenceBackendUpdate = z.infer<typeof inferenceBackendUpdate>;

/** A backend as the API returns it: which kind of credentials it has, never their values. */
export const inferenceBackend = z.object({
  id: z.string(),
  upstreams: z.array(z.object({ url: z.string(), weight: z.number().int() })),
  models: z.array(z.string()).nullable(),
  default: z.boolean(),
  balance: z.enum(['priority', 'weighted']),
  credentials: z.object({ type: z.enum(['access', 'bearer', 'headers']) }).nullable(),
  timeouts: z.object({ connectMs: z.number().int(), totalMs: z.number().int() }),
  retry: z.object({ attempts: z.number().int(), backoffMs: z.number().int() }),
  maxBodyBytes: z.number().int(),
  ...resourceMeta,
});
export type InferenceBackend = z.infer<typeof inferenceBackend>;
