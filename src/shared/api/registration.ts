import { z } from 'zod';

// Who may register an agent for a cluster: bootstrap tokens and the admin's re-registration request (docs/security.md).

/**
 * A credential's fingerprint: the first 16 hex characters of its SHA-256. Names a credential (in the cluster view, the
 * audit log and a re-registration request) without revealing it.
 */
export const credentialFingerprint = z
  .string()
  .regex(/^[0-9a-f]{16}$/, 'a credential fingerprint is 16 lower-case hex characters, as GET /v1/clusters/{id} shows in agentCredential');

/** Body of POST /v1/clusters/{id}/reregistration: the admin names the agent credential the next registration replaces. */
export const reregistrationRequest = z.strictObject({
  replacesCredential: credentialFingerprint.describe("the cluster's current agentCredential, which the new agent's credential replaces"),
});
export type ReregistrationRequest = z.infer<typeof reregistrationRequest>;

/** Answer of POST /v1/clusters/{id}/reregistration. */
export const reregistration = z.object({
  clusterId: z.string(),
  replacesCredential: z.string(),
  requestedAt: z.string(),
  revokedTokens: z.number().int().describe('unused bootstrap tokens of the cluster revoked by the request'),
});
export type Reregistration = z.infer<typeof reregistration>;

/** A bootstrap token as listed (never the token itself). */
export const bootstrapToken = z.object({
  id: z.string().describe('the first 16 hex characters of the SHA-256 of the token'),
  cluster: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  usedAt: z.string().nullable(),
  state: z.enum(['unused', 'used', 'expired']),
});
export type BootstrapToken = z.infer<typeof bootstrapToken>;
