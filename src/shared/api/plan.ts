import { z } from 'zod';
import { errorCode, errorDetail } from './common';
import { clusterCreate, clusterUpdate } from './cluster';
import { clusterDryRun, planClusterOptions } from './cluster-dry-run';
import { resourceId } from './fields';
import { inferenceBackendCreate, inferenceBackendUpdate } from './inference';
import { mlBackendCreate, mlBackendUpdate } from './ml-backend';
import { privateNetworkCreate, privateNetworkUpdate } from './private-network';
import { routeCreate, routeUpdate } from './route';
import { splitTunnelCreate, splitTunnelUpdate } from './split-tunnel';
import { tunnelCreate, tunnelUpdate } from './tunnel';
import { workloadCreate, workloadUpdate } from './workload';

const routeId = z.string().min(1).max(200);
/** Server-made ids (private networks, split-tunnel entries) are checked by existence, not by shape. */
const madeId = z.string().min(1).max(200);

// Updates take the same shapes as PATCH, which change only the fields they name (no create-time defaults).
/** One proposed change; each carries the same body its POST / PATCH / DELETE takes. */
export const planChange = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('route.create'), route: routeCreate }),
  z.strictObject({ action: z.literal('route.update'), id: routeId, route: routeUpdate }),
  z.strictObject({ action: z.literal('route.delete'), id: routeId }),
  z.strictObject({ action: z.literal('tunnel.create'), tunnel: tunnelCreate }),
  z.strictObject({ action: z.literal('tunnel.update'), id: resourceId('tunnel id'), tunnel: tunnelUpdate }),
  z.strictObject({ action: z.literal('tunnel.delete'), id: resourceId('tunnel id'), cascade: z.boolean().default(false) }),
  z.strictObject({ action: z.literal('cluster.create'), cluster: clusterCreate }),
  z.strictObject({ action: z.literal('cluster.update'), id: resourceId('cluster id'), cluster: clusterUpdate }),
  z.strictObject({ action: z.literal('cluster.delete'), id: resourceId('cluster id') }),
  z.strictObject({ action: z.literal('privateNetwork.create'), privateNetwork: privateNetworkCreate }),
  z.strictObject({ action: z.literal('privateNetwork.update'), id: madeId, privateNetwork: privateNetworkUpdate }),
  z.strictObject({ action: z.literal('privateNetwork.delete'), id: madeId }),
  z.strictObject({ action: z.literal('splitTunnel.create'), splitTunnel: splitTunnelCreate }),
  z.strictObject({ action: z.literal('splitTunnel.update'), id: madeId, splitTunnel: splitTunnelUpdate }),
  z.strictObject({ action: z.literal('splitTunnel.delete'), id: madeId }),
  z.strictObject({ action: z.literal('workload.create'), workload: workloadCreate }),
  z.strictObject({ action: z.literal('workload.update'), id: resourceId('workload id'), workload: workloadUpdate }),
  z.strictObject({ action: z.literal('workload.delete'), id: resourceId('workload id') }),
  z.strictObject({ action: z.literal('inferenceBackend.create'), inferenceBackend: inferenceBackendCreate }),
  z.strictObject({
    action: z.literal('inferenceBackend.update'),
    id: resourceId('backend id'),
    inferenceBackend: inferenceBackendUpdate,
  }),
  z.strictObject({ action: z.literal('inferenceBackend.delete'), id: resourceId('backend id') }),
  z.strictObject({ action: z.literal('mlBackend.create'), mlBackend: mlBackendCreate }),
  z.strictObject({ action: z.literal('mlBackend.update'), id: resourceId('ML backend id'), mlBackend: mlBackendUpdate }),
  z.strictObject({ action: z.literal('mlBackend.delete'), id: resourceId('ML backend id') }),
]);

/** Body of POST /v1/plan: changes applied in order; none plans the current state. `cluster.dryRun` adds the cluster pre-flight. */
export const planRequest = z.strictObject({
  changes: z.array(planChange).max(200, 'plan at most 200 changes at once').default([]),
  cluster: planClusterOptions.optional(),
});

const objectRef = z.object({
  key: z.string(),
  apiVersion: z.string(),
  kind: z.string(),
  namespace: z.string().nullable(),
  name: z.string(),
});
/** One ingress rule of a tunnel config, as cloudflared reads it. */
const rule = z.object({
  hostname: z.string().optional(),
  path: z.string().optional(),
  service: z.string(),
  originRequest: z.record(z.string(), z.unknown()).optional(),
});

/** What one change would answer if it were sent to its endpoint now, after the changes before it. */
export const planResult = z.object({
  index: z.number().int(),
  action: z.string(),
  /** The HTTP status the endpoint would answer: 201 / 200 / 204, or the error's status. */
  status: z.number().int(),
  /** The id the change creates, updates or deletes (a created route's id is only an example: the real one is new). */
  id: z.string().optional(),
  /** The error envelope's body the endpoint would answer (without the request id). */
  error: z.object({ code: errorCode, message: z.string(), details: z.array(errorDetail).optional() }).optional(),
});

/** Response of POST /v1/plan. */
export const planResponse = z.object({
  changes: z.number().int(),
  accepted: z.number().int(),
  refused: z.number().int(),
  results: z.array(planResult),
  tunnels: z.array(
    z.object({
      id: z.string(),
      cluster: z.string(),
      status: z.enum(['created', 'deleted', 'changed', 'unchanged']),
      diff: z.object({
        noop: z.boolean(),
        reordered: z.boolean(),
        rules: z.array(
          z.object({
            change: z.enum(['added', 'removed', 'changed']),
            key: z.string(),
            hostname: z.string().nullable(),
            path: z.string().nullable(),
            before: rule.optional(),
            after: rule.optional(),
            beforeIndex: z.number().int().optional(),
            afterIndex: z.number().int().optional(),
          }),
        ),
        originRequest: z
          .object({ before: z.record(z.string(), z.unknown()).nullable(), after: z.record(z.string(), z.unknown()).nullable() })
          .optional(),
        warpRouting: z.object({ before: z.boolean(), after: z.boolean() }).optional(),
      }),
    }),
  ),
  clusters: z.array(
    z.object({
      id: z.string(),
      revision: z.number().int(),
      diff: z.object({
        noop: z.boolean(),
        created: z.array(objectRef),
        changed: z.array(objectRef),
        deleted: z.array(objectRef),
        unchanged: z.number().int(),
      }),
      dryRun: clusterDryRun
        .optional()
        .describe('with `cluster.dryRun`: what the API server said of each object of the bundle, or why it could not be asked'),
    }),
  ),
});

/** The fields a route change sets; absent fields keep their value, `path: null` / `access: null` remove them. */
export type RoutePatch = z.infer<typeof routeUpdate>;
/** The fields a tunnel change sets; absent fields keep their value. */
export type TunnelPatch = z.infer<typeof tunnelUpdate>;
/** One proposed change: the same bodies as the corresponding POST / PATCH / DELETE. */
export type PlanChange = z.infer<typeof planChange>;
/** One change's verdict. */
export type PlanResult = z.infer<typeof planResult>;
/** What a set of changes would do to each affected tunnel's remote config and each affected cluster's objects. */
export type PlanReport = z.infer<typeof planResponse>;
