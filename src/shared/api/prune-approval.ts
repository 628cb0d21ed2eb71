import { z } from 'zod';

/** Body of POST /v1/clusters/{id}/prune-approvals: approve the prune the agent refused at `revision`. */
export const pruneApprovalCreate = z.strictObject({
  revision: z
    .number()
    .int()
    .min(1)
    .describe("the revision named by the agent's refusal (the latest report's `revision` with `pruneRefusedObjects`)"),
});
export type PruneApprovalCreate = z.infer<typeof pruneApprovalCreate>;

/** An approval as the API returns it: who approved which revision's set, and whether the agent has used it. */
export const pruneApproval = z.object({
  revision: z.number().int(),
  objects: z.array(z.string()).describe('identity keys (group/kind/namespace/name) the agent may delete, once'),
  approvedBy: z.string(),
  approvedAt: z.string(),
  usedAt: z.string().nullable(),
  usedRevision: z.number().int().nullable().describe('the bundle revision the agent pruned under this approval at'),
});
export type PruneApproval = z.infer<typeof pruneApproval>;

/** A cluster's prune circuit breaker: at most `maxDeletes` deletions per `windowMinutes` without an approval. */
export const pruneSettings = z.strictObject({
  maxDeletes: z.number().int().min(0).max(10_000).describe('deletions allowed per window without an approval (default 25)'),
  windowMinutes: z.number().int().min(1).max(1440).describe('the window deletions are counted over (default 10)'),
});
export type PruneSettings = z.infer<typeof pruneSettings>;
