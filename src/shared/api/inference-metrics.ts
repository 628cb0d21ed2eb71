import { z } from 'zod';

/**
 * How a proxied call that did not succeed is counted: Triton's own answers by status class, and what edgeplane
 * answered itself (a timeout, an unreachable upstream, a body too large, a model outside the allow-list, a response
 * stream that broke or that the caller abandoned).
 */
export const inferenceErrorClass = z.enum(['upstream_4xx', 'upstream_5xx', 'timeout', 'unreachable', 'too_large', 'rejected', 'aborted']);
export type InferenceErrorClass = z.infer<typeof inferenceErrorClass>;

/** Upper bounds (ms) of the latency histogram's buckets; a last, unbounded bucket holds the rest. */
export const LATENCY_BUCKETS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000] as const;

/** The counters of one model (or of server-level calls: health, `/v2`, repository index) of one backend. */
export const inferenceModelMetrics = z.object({
  model: z.string().nullable().describe('null for calls about no model (server health and metadata, repository index)'),
  requests: z.number().int(),
  errors: z.partialRecord(inferenceErrorClass, z.number().int()).describe('calls that did not succeed, by class'),
  latencyMs: z
    .object({
      buckets: z
        .array(z.object({ le: z.number().nullable().describe('upper bound in ms; null = +Inf'), count: z.number().int() }))
        .describe('cumulative, as Prometheus counts them'),
      sum: z.number(),
      count: z.number().int(),
    })
    .describe('from the call reaching edgeplane to the response headers being passed on'),
  bytesIn: z.number().int().describe('request body bytes sent upstream'),
  bytesOut: z.number().int().describe('response body bytes passed to the caller'),
});
export type InferenceModelMetrics = z.infer<typeof inferenceModelMetrics>;

/** The answer of GET /v1/inference/metrics (JSON). */
export const inferenceMetrics = z.object({
  backends: z.array(
    z.object({
      backend: z.string(),
      since: z.string().nullable().describe('when this backend recorded its first call'),
      models: z.array(inferenceModelMetrics),
    }),
  ),
});
export type InferenceMetrics = z.infer<typeof inferenceMetrics>;

/** Query of GET /v1/inference/metrics. */
export const inferenceMetricsQuery = z.object({
  format: z.enum(['json', 'prometheus']).optional().describe('default: Prometheus text when Accept asks for text/plain, else JSON'),
  backend: z.string().min(1).max(200).optional().describe('only this backend'),
});
