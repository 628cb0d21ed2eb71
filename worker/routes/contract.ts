import { z } from 'zod';
import { errorEnvelope } from '../../src/shared/api/common';

/** `{ content: { 'application/json': { schema } } }` for request bodies and responses. */
export const json = <T extends z.ZodType>(schema: T, description = '') => ({
  description,
  content: { 'application/json': { schema } },
});

/** The error responses every endpoint can give, in the one envelope. */
export const errors = {
  400: json(errorEnvelope, 'malformed request'),
  401: json(errorEnvelope, 'missing or invalid token'),
  403: json(errorEnvelope, "the token's role does not allow this"),
  404: json(errorEnvelope, 'not found'),
  409: json(errorEnvelope, 'conflicts with existing state'),
  412: json(errorEnvelope, 'If-Match names a stale version'),
  422: json(errorEnvelope, 'the request failed validation; details name every field'),
} as const;

/** Path parameter `:id`. */
export const idParam = z.object({ id: z.string().min(1).max(200) });

/** Optional If-Match header of writes. */
export const ifMatch = z.object({ 'if-match': z.string().optional() });

export const security = [{ bearer: [] }];
