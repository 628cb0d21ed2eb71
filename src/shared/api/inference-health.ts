import { z } from '@hono/zod-openapi';

/** A backend's readiness as the proxy's cached health probe of Triton's `/v2/health/ready` sees it. */
export const inferenceBackendHealth = z
  .object({
    backend: z.string(),
    ready: z.boolean().describe('true when Triton answered /v2/health/ready with 200; false for its 400 or when it could not be reached'),
    status: z.number().int().nullable().describe("Triton's status code; null when no upstream answered"),
    ageSeconds: z.number().describe('age of the cached probe (0 when this call ran it)'),
    error: z.string().nullable().describe('why no upstream answered (connect failure, timeout), else null'),
  })
  .openapi('InferenceBackendHealth');
export type InferenceBackendHealth = z.infer<typeof inferenceBackendHealth>;
