import { z } from 'zod';
import { resourceMeta } from './common';
import { ipAddress, labels, resourceId } from './fields';
import { pruneSettings } from './prune-approval';
import { warpAccess } from './warp-access';

/** The API server's ClusterIP in a k3s cluster with the default service CIDR 10.43.0.0/16. */
export const K3S_API_SERVER_ADDRESS = '10.43.0.1';

const apiServerAddressHelp =
  'the API server\'s in-cluster address a laptop on WARP connects to: the ClusterIP of the "kubernetes" Service in "default" (k3s: 10.43.0.1, the first address of its service CIDR)';

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
  apiServerAddress: ipAddress.default(K3S_API_SERVER_ADDRESS).describe(apiServerAddressHelp),
});
export type ClusterCreate = z.infer<typeof clusterCreate>;

/** Body of PATCH /v1/clusters/:id; only the fields sent change (no defaults here, see routeUpdate). */
export const clusterUpdate = z.strictObject({
  name: z.string().min(1, 'name must not be empty').max(100).optional(),
  labels: labels.optional(),
  nodes: z.array(clusterNode).max(500).optional(),
  apiServerAddress: ipAddress.optional().describe(apiServerAddressHelp),
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
  apiServerAddress: z.string().describe(apiServerAddressHelp),
  warpAccess: warpAccess
    .optional()
    .describe(
      'whether a laptop on WARP reaches the API server, and what is missing (GET of the cluster and the list; not in write answers)',
    ),
  prune: pruneSettings,
  agentCredential: z
    .string()
    .nullable()
    .describe("fingerprint of the registered agent's credential (null before the first registration); name it to request re-registration"),
  reregistrationRequestedAt: z.string().nullable().describe('set while an admin-requested re-registration waits for the new agent'),
  ...resourceMeta,
});
export type Cluster = z.infer<typeof cluster>;
