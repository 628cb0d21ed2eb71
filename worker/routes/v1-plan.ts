import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import {
  access,
  hostname,
  origin,
  originService,
  pathPrefix,
  placement,
  resourceId,
  routeCreate,
  routingMode,
  tunnelCreate,
} from '../../src/shared/api';
import { originRequestSchema } from '../../src/shared/compiler';
import type { Router } from '../app';
import { planChanges } from '../services/plan';
import { errors, json, security } from './contract';

const routeId = z.string().min(1).max(200);

// The PATCH shapes are spelled out without defaults: zod 4 keeps a field's `.default()` under `.partial()`, so
// `routeUpdate` / `tunnelUpdate` fill every omitted field with its create-time default (a patch of `placement` alone
// would also reset `mode`, `originRequest`, `catchAll` and `driftPolicy`). A plan must change only what it names.
const routePatch = z.strictObject({
  hostname: hostname.optional(),
  path: pathPrefix.nullable().optional(),
  origin: origin.optional(),
  originRequest: originRequestSchema.optional(),
  dns: z.boolean().optional(),
  access: access.nullable().optional(),
});
const tunnelPatch = z.strictObject({
  name: z.string().min(1).max(100).optional(),
  placement: placement.optional(),
  mode: routingMode.optional(),
  originRequest: originRequestSchema.optional(),
  catchAll: originService.optional(),
  driftPolicy: z.enum(['alert', 'revert']).optional(),
});

/** One proposed change; each carries the same body its POST / PATCH / DELETE takes. */
export const planChange = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('route.create'), route: routeCreate }),
  z.strictObject({ action: z.literal('route.update'), id: routeId, route: routePatch }),
  z.strictObject({ action: z.literal('route.delete'), id: routeId }),
  z.strictObject({ action: z.literal('tunnel.create'), tunnel: tunnelCreate }),
  z.strictObject({ action: z.literal('tunnel.update'), id: resourceId('tunnel id'), tunnel: tunnelPatch }),
  z.strictObject({ action: z.literal('tunnel.delete'), id: resourceId('tunnel id'), cascade: z.boolean().default(false) }),
]);

/** Body of POST /v1/plan: changes applied in order; none plans the current state. */
export const planRequest = z.strictObject({ changes: z.array(planChange).max(200, 'plan at most 200 changes at once').default([]) });

const objectRef = z.object({
  key: z.string(),
  apiVersion: z.string(),
  kind: z.string(),
  namespace: z.string().nullable(),
  name: z.string(),
});
const rule = z.record(z.string(), z.unknown());

/** Response of POST /v1/plan. */
export const planResponse = z.object({
  changes: z.number().int(),
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
        originRequest: z.object({ before: rule.nullable(), after: rule.nullable() }).optional(),
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
    }),
  ),
});

/** Mounts POST /v1/plan. */
export function registerPlan(app: Router): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/plan',
      tags: ['plan'],
      security,
      summary: 'What proposed changes would do to tunnel configs and cluster objects; nothing is written',
      request: { body: { ...json(planRequest), required: true } },
      responses: { 200: json(planResponse, 'per tunnel the config diff, per cluster the objects created, changed and deleted'), ...errors },
    }),
    async (c) => c.json(await planChanges(c.var.deps, c.req.valid('json').changes), 200),
  );
}
