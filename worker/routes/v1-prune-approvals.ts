import { createRoute, z } from '@hono/zod-openapi';
import { pruneApproval, pruneApprovalCreate } from '../../src/shared/api/prune-approval';
import type { Router } from '../app';
import { approvePrune, listPruneApprovals } from '../services/prune-approvals';
import { errors, idParam, json, security } from './contract';

/**
 * Mounts POST /v1/clusters/{id}/prune-approvals (admin or editor: viewers are refused by the /v1 role rules) and
 * GET /v1/clusters/{id}/prune-approvals (any reader): the way forward when the agent's prune breaker trips.
 */
export function registerPruneApprovals(app: Router): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/clusters/{id}/prune-approvals',
      tags: ['clusters'],
      security,
      summary: 'Approve the prune the agent refused at a revision: it deletes exactly that set on its next pass',
      request: { params: idParam, body: { ...json(pruneApprovalCreate), required: true } },
      responses: { 201: json(pruneApproval, 'the approval (audited)'), ...errors },
    }),
    async (c) => {
      const approval = await approvePrune(c.get('deps'), c.req.valid('param').id, c.req.valid('json'));
      return c.json(approval, 201);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/clusters/{id}/prune-approvals',
      tags: ['clusters'],
      security,
      summary: "The cluster's prune approvals, newest first: who approved which revision's set, and when the agent used it",
      request: { params: idParam },
      responses: { 200: json(z.object({ items: z.array(pruneApproval) }), 'approvals'), ...errors },
    }),
    async (c) => c.json({ items: await listPruneApprovals(c.get('deps'), c.req.valid('param').id) }, 200),
  );
}
