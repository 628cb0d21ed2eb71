import { z } from 'zod';
import { inferenceScope } from './inference';

/** Roles of API tokens: admin (everything), editor (desired state), viewer (read), inference (the proxy only). */
export const role = z.enum(['admin', 'editor', 'viewer', 'inference']);

/** Body of POST /v1/tokens. */
export const tokenCreate = z.strictObject({
  name: z.string().min(1, 'name must not be empty').max(100),
  role,
  scopes: z.array(inferenceScope).max(32).default([]).describe('inference proxy scopes (Triton endpoint groups)'),
  expiresInDays: z.number().int().min(1).max(3650).optional().describe('no expiry when omitted'),
});
export type TokenCreate = z.infer<typeof tokenCreate>;

/** A token as listed: never its secret or hash. */
export const token = z.object({
  id: z.string(),
  name: z.string(),
  role,
  scopes: z.array(z.string()),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  createdAt: z.string(),
});
export type Token = z.infer<typeof token>;

/** The answer to a token creation: the only time the secret is shown. */
export const createdToken = token.extend({ secret: z.string().describe('shown once; store it now') });

/** An audit entry. */
export const auditEntry = z.object({
  id: z.number().int(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  entityType: z.string(),
  entityId: z.string(),
  before: z.unknown(),
  after: z.unknown(),
  requestId: z.string(),
});
export type AuditEntry = z.infer<typeof auditEntry>;
