import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { resourceId, routeCreate, routeUpdate, tunnelCreate, tunnelUpdate } from '../../src/shared/api';
import type { Router } from '../app';
import { planChanges } from '../services/plan';
import { errors, json, security } from './contract';

const routeId = z.string().min(1).max(200);

// Updates take the same shapes as PATCH, which change only the fields they name (no create-time defaults).
/** One proposed change; each carries the same body its POST / PATCH / DELETE takes. */
export const planChange = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('route.create'), route: routeCreate }),
  z.strictObject({ action: z.literal('route.update'), id: routeId, route: routeUpdate }),
  z.strictObject({ action: z.literal('route.delete'), id: routeId }),
  z.strictObject({ action: z.literal('tunnel.create'), tunnel: tunnelCreate }),
  z.strictObject({ action: z.literal('tunnel.update'), id: resourceId('tunnel id'), tunnel: tunnelUpdate }),
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
