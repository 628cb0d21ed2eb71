import { z } from 'zod';

/** Codes of the single error envelope; each maps to one HTTP status in the Worker. */
export const errorCode = z.enum([
  'bad_request',
  'validation_failed',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'precondition_failed',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'internal_error',
  'bad_gateway',
  'unavailable',
  'gateway_timeout',
]);
export type ErrorCode = z.infer<typeof errorCode>;

/** One problem with the input: where (`path`) and what was wrong / what would be right (`message`). */
export const errorDetail = z.object({ path: z.string(), message: z.string() });
export type ErrorDetail = z.infer<typeof errorDetail>;

/** The one error envelope used by every endpoint. */
export const errorEnvelope = z.object({
  error: z.object({
    code: errorCode,
    message: z.string(),
    details: z.array(errorDetail).optional(),
    requestId: z.string(),
  }),
});
export type ErrorEnvelope = z.infer<typeof errorEnvelope>;

/** Query of every list endpoint: opaque cursor plus page size. */
export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100).describe('page size, 1 to 500'),
  cursor: z.string().max(200).optional().describe('the nextCursor of the previous page'),
});
export type ListQuery = z.infer<typeof listQuery>;

/** Wraps an item schema in the list response shape. */
export const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/** Fields every stored resource carries. */
export const resourceMeta = {
  etag: z.string().describe('opaque version; send it back in If-Match to update or delete safely'),
  createdAt: z.string(),
  updatedAt: z.string(),
};
