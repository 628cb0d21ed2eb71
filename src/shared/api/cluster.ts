import { z } from 'zod';
import { resourceMeta } from './common';
import { labels, resourceId } from './fields';
import { pruneSettings } from './prune-approval';

/** A node the operator declares (the agent reports the live ones); used for `node` connector placement. */
export const clusterNode = z.object({
  name: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'a node name is a DNS-1123 subdomain, e.g. "gpu-1"'),
  role: z.enum(['control-plane', 'worker', 'gpu']).default('worker'),
  address: z.string().max(64).optional(),
});

/** Body of POST /v1/clusters. */
export const clusterCreate = z.strictObject({
  id: resourceId('cluster id'),
  name: z.string().min(1, 'name must not be empty').max(100),
  labels: labels.default({}),
  nodes: z.array(clusterNode).max(500).default([]),
});
export type ClusterCreate = z.infer<typeof clusterCreate>;

/** Body of PATCH /v1/clusters/:id; only the fields sent change (no defaults here, see routeUpdate). */
export const clusterUpdate = z.strictObject({
  name: z.string().min(1, 'name must not be empty').max(100).optional(),
  labels: labels.optional(),
  nodes: z.array(clusterNode).max(500).optional(),
  prune: pruneSettings.partial().optional().describe('the prune circuit breaker; fields not sent keep their value'),
});
export type ClusterUpdate = z.infer<typeof clusterUpdate>;

/** How the Worker last heard from the cluster's agent. */
export const connectionStatus = z.enum(['connected', 'unreachable', 'unauthorized', 'never']);

/** A cluster as the API returns it. */
export const cluster = z.object({
  id: z.string(),
  name: z.string(),
  labels: z.record(z.string(), z.string()),
  nodes: z.array(clusterNode),
  desiredRevision: z.number().int(),
  appliedRevision: z.number().int().nullable(),
  connection: connectionStatus,
  lastSeenAt: z.string().nullable(),
  agentVersion: z.string().nullable(),
  kubernetesVersion: z.string().nullable(),
  nodeCount: z.number().int().nullable(),
  prune: pruneSettings,
  agentCredential: z
    .string()
    .nullable()
    .describe("fingerprint of the registered agent's credential (null before the first registration); name it to request re-registration"),
  reregistrationRequestedAt: z.string().nullable().describe('set while an admin-requested re-registration waits for the new agent'),
  ...resourceMeta,
});
export type Cluster = z.infer<typeof cluster>;
