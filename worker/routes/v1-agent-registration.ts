import { createRoute, z } from '@hono/zod-openapi';
import { bootstrapToken, reregistration, reregistrationRequest } from '../../src/shared/api';
import type { Router } from '../app';
import { requireAdmin } from '../middleware/auth';
import { listBootstrapTokens, requestReregistration, revokeBootstrapToken } from '../services/bootstrap-tokens';
import { errors, idParam, json, security } from './contract';

const tags = ['clusters'];

/**
 * Mounts the admin's side of agent registration: the re-registration request that lets a registered cluster take a
 * new agent, and the cluster's bootstrap tokens (list, revoke). docs/security.md says what these promise.
 */
export function registerAgentRegistration(app: Router): void {
  app.use('/v1/clusters/:id/reregistration', requireAdmin);
  app.use('/v1/clusters/:id/bootstrap-tokens', requireAdmin);
  app.use('/v1/clusters/:id/bootstrap-tokens/*', requireAdmin);
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/clusters/{id}/reregistration',
      tags,
      security,
      summary: "Lets a new agent replace the cluster's registered one (admin); then fetch install.yaml",
      request: { params: idParam, body: { ...json(reregistrationRequest), required: true } },
      responses: { 201: json(reregistration, 'requested; the next registration replaces the named credential'), ...errors },
    }),
    async (c) => c.json(await requestReregistration(c.get('deps'), c.req.valid('param').id, c.req.valid('json')), 201),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/clusters/{id}/bootstrap-tokens',
      tags,
      security,
      summary: "The cluster's bootstrap tokens (admin): unused, used and expired, never the tokens themselves",
      request: { params: idParam },
      responses: { 200: json(z.object({ items: z.array(bootstrapToken) }), 'bootstrap tokens'), ...errors },
    }),
    async (c) => c.json(await listBootstrapTokens(c.get('deps'), c.req.valid('param').id), 200),
  );
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/clusters/{id}/bootstrap-tokens/{tokenId}',
      tags,
      security,
      summary: 'Revokes an unused bootstrap token (admin)',
      request: { params: idParam.extend({ tokenId: z.string().regex(/^[0-9a-f]{16}$/, 'a bootstrap token id is 16 hex characters') }) },
      responses: { 204: { description: 'revoked' }, ...errors },
    }),
    async (c) => {
      const { id, tokenId } = c.req.valid('param');
      await revokeBootstrapToken(c.get('deps'), id, tokenId);
      return c.body(null, 204);
    },
  );
}
