import { createRoute } from '@hono/zod-openapi';
import { planRequest, planResponse } from '../../src/shared/api/plan';
import type { Router } from '../app';
import { planChanges } from '../services/plan';
import { errors, json, security } from './contract';

/** Mounts POST /v1/plan. */
export function registerPlan(app: Router): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/plan',
      tags: ['plan'],
      security,
      summary:
        "What proposed changes would do: per change the answer its endpoint would give (through the same code), per tunnel the config diff, per cluster the objects; with `cluster.dryRun`, what each cluster's API server says of its bundle (server-side dry run by the agent); nothing is written",
      request: { body: { ...json(planRequest), required: true } },
      responses: { 200: json(planResponse, 'per tunnel the config diff, per cluster the objects created, changed and deleted'), ...errors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      return c.json(await planChanges(c.get('deps'), body.changes, body.cluster ? { cluster: body.cluster } : {}), 200);
    },
  );
}
