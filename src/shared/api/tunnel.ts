import { z } from 'zod';
import { originRequestSchema } from '../compiler/origin-request';
import { resourceMeta } from './common';
import { accountId, originService, port, resourceId, uuid } from './fields';

/** Where the cloudflared connector runs: a replicated Deployment, or pinned to one node with host networking. */
export const placement = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('cluster'), replicas: z.number().int().min(1).max(10).default(2) }),
  z.strictObject({
    type: z.literal('node'),
    node: z.string().min(1).max(253).describe('the node to pin cloudflared to, e.g. the GPU box'),
  }),
]);
export type Placement = z.infer<typeof placement>;

/** A Service reference inside the cluster. */
export const serviceRef = z.strictObject({
  namespace: resourceId('namespace'),
  name: resourceId('service name'),
  port,
});
export type ServiceRef = z.infer<typeof serviceRef>;

/**
 * How routes reach their Services: `direct` (cloudflared → Service), `ingress` (cloudflared → the ingress controller,
 * plus an Ingress per hostname) or `gateway` (cloudflared → a Gateway's Service, plus an HTTPRoute).
 */
export const routingMode = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('direct') }),
  z.strictObject({
    type: z.literal('ingress'),
    className: z.string().min(1).max(253).default('traefik'),
    controller: serviceRef.default({ namespace: 'kube-system', name: 'traefik', port: 80 }),
  }),
  z.strictObject({
    type: z.literal('gateway'),
    gateway: z.strictObject({ namespace: resourceId('gateway namespace'), name: resourceId('gateway name') }),
    service: serviceRef,
  }),
]);
export type RoutingMode = z.infer<typeof routingMode>;

/** Body of POST /v1/tunnels. */
export const tunnelCreate = z.strictObject({
  id: resourceId('tunnel id'),
  cluster: resourceId('cluster id'),
  account: accountId,
  name: z.string().min(1).max(100).optional().describe('the tunnel name in Cloudflare; defaults to "<cluster>-<id>"'),
  cloudflareTunnelId: uuid.optional().describe('adopt an existing tunnel instead of creating one'),
  placement: placement.default({ type: 'cluster', replicas: 2 }),
  mode: routingMode.default({ type: 'direct' }),
  originRequest: originRequestSchema.default({}).describe('default originRequest for every rule (cloudflared keys only)'),
  catchAll: originService.default('http_status:404'),
  driftPolicy: z.enum(['alert', 'revert']).default('alert'),
});
export type TunnelCreate = z.infer<typeof tunnelCreate>;

/**
 * Body of PATCH /v1/tunnels/:id (cluster and account are fixed once created); only the fields sent change.
 * Written out without defaults: zod keeps `.default()` under `.partial()`, which would reset unsent fields.
 */
export const tunnelUpdate = z.strictObject({
  name: z.string().min(1).max(100).optional(),
  placement: placement.optional(),
  mode: routingMode.optional(),
  originRequest: originRequestSchema.optional(),
  catchAll: originService.optional(),
  driftPolicy: z.enum(['alert', 'revert']).optional(),
});
export type TunnelUpdate = z.infer<typeof tunnelUpdate>;

/** A tunnel as the API returns it (its token never appears). */
export const tunnel = z.object({
  id: z.string(),
  cluster: z.string(),
  account: z.string(),
  name: z.string(),
  cloudflareTunnelId: z.string().nullable(),
  placement,
  mode: routingMode,
  originRequest: z.record(z.string(), z.unknown()),
  catchAll: z.string(),
  driftPolicy: z.enum(['alert', 'revert']),
  warpRouting: z.boolean().describe('on when the tunnel has private networks'),
  hasToken: z.boolean(),
  ...resourceMeta,
});
export type Tunnel = z.infer<typeof tunnel>;
