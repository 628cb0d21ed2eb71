import { z } from 'zod';
import { bundleObject } from './agent';

// The cluster-side pre-flight of POST /v1/plan: the plan's bundle, server-side applied by the cluster's agent with
// dryRun=All, and what the API server answered per object (docs/diagnostics.md, ADR 0015).

/** What a server-side dry run said about one object of the bundle. */
export const dryRunOutcome = z.enum(['created', 'changed', 'unchanged', 'conflict', 'invalid', 'unchecked', 'error']);

/** One object's verdict from the API server. */
export const dryRunObject = z.strictObject({
  key: z.string().min(1).max(600).describe('`group/kind/namespace/name`, the same key as the plan diff'),
  apiVersion: z.string().min(1).max(200),
  kind: z.string().min(1).max(200),
  namespace: z.string().max(253).nullable(),
  name: z.string().min(1).max(253),
  outcome: dryRunOutcome.describe(
    'created (does not exist yet) / changed (`fields` differ) / unchanged / conflict (another manager owns `conflicts`) / invalid (the API server refused it; `message`) / unchecked (its namespace does not exist yet, so the API server could not check it) / error',
  ),
  fields: z
    .array(z.string().max(500))
    .max(200)
    .optional()
    .describe('changed: the fields (`.spec.replicas`) whose value the apply would change, add or remove; values are never reported'),
  conflicts: z
    .array(z.strictObject({ field: z.string().max(500), manager: z.string().max(200) }))
    .max(200)
    .optional()
    .describe("conflict: each field and the field manager that owns it, from the 409's status causes"),
  message: z.string().max(2000).optional().describe("the API server's message (invalid, conflict, error) or why an object is unchecked"),
});

/** Body of POST /agent/v1/dry-runs/{id}: the agent's verdicts, one per object of the request, in its order. */
export const agentDryRunResult = z.strictObject({
  objects: z.array(dryRunObject).max(5000),
  kubernetesVersion: z.string().min(1).max(100).optional(),
});

/** One pending dry run as the agent fetches it (GET /agent/v1/dry-runs). */
export const agentDryRunRequest = z.object({
  id: z.string(),
  revision: z.number().int().describe('the desired revision the plan started from'),
  objects: z.array(bundleObject).describe('the bundle the plan would make, with its secrets, exactly as the real bundle would carry it'),
});

/** Answer of GET /agent/v1/dry-runs: every dry run waiting for this cluster's agent. */
export const agentDryRuns = z.object({ items: z.array(agentDryRunRequest) });

/** A notify socket message asking the agent to fetch its pending dry runs. */
export const dryRunNotifyMessage = z.object({ dryRun: z.string().min(1) });

/** What `POST /v1/plan` asks of the clusters: `dryRun` runs the plan's bundle in each affected cluster. */
export const planClusterOptions = z.strictObject({
  dryRun: z.boolean().describe("server-side dry run (dryRun=All) of the plan's bundle by each affected cluster's agent"),
  waitSeconds: z
    .number()
    .int()
    .min(0)
    .max(25)
    .default(10)
    .describe('how long the plan waits for the agents before it answers `pending` with a URL to read the result later'),
});

const counts = z.object({
  created: z.number().int(),
  changed: z.number().int(),
  unchanged: z.number().int(),
  conflict: z.number().int(),
  invalid: z.number().int(),
  unchecked: z.number().int(),
  error: z.number().int(),
});

/** One cluster's pre-flight: completed with the API server's verdicts, still pending, or why no agent can run it. */
export const clusterDryRun = z.object({
  id: z.string().nullable().describe('null when no dry run could be requested (no_agent)'),
  cluster: z.string(),
  status: z
    .enum(['completed', 'pending', 'no_agent', 'busy', 'expired', 'failed'])
    .describe(
      'no_agent: nothing was run (see message); busy: too many dry runs already wait for this agent; failed: the request could not be handed to the agent (message)',
    ),
  message: z.string().optional().describe('no_agent: why no agent can run it; pending: what to do'),
  revision: z.number().int().describe('the desired revision the plan started from'),
  requestedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  url: z.string().nullable().describe('GET this for the result (while pending, and for 15 minutes after the request)'),
  kubernetesVersion: z.string().nullable(),
  summary: counts.nullable(),
  objects: z.array(dryRunObject),
});

export type DryRunOutcome = z.infer<typeof dryRunOutcome>;
export type DryRunObject = z.infer<typeof dryRunObject>;
export type AgentDryRunResult = z.infer<typeof agentDryRunResult>;
export type AgentDryRunRequest = z.infer<typeof agentDryRunRequest>;
export type PlanClusterOptions = z.infer<typeof planClusterOptions>;
export type ClusterDryRun = z.infer<typeof clusterDryRun>;
