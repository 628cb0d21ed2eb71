import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { createdToken, listQuery, page, token, tokenCreate } from '../../src/shared/api';
import type { Router } from '../app';
import { buildDeps } from '../middleware/deps';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env';
import { bearerSecret } from '../bearer';
import { BODY_LIMITS, limitBody } from '../middleware/body-limit';
import { requireAdmin } from '../middleware/auth';
import { bootstrapAdmin, checkBootstrapSecret, createToken, deleteToken, listTokens } from '../services/tokens';
import { errors, idParam, json, security } from './contract';

const tags = ['tokens'];

const bootstrapAuth = createMiddleware<AppEnv>(async (c, next) => {
  checkBootstrapSecret(c.get('config'), bearerSecret(c.req.header('authorization')));
  await next();
});

/** Mounts /v1/tokens (admin only) and POST /bootstrap (first admin token, authorised by a Worker secret). */
export function registerTokens(app: Router): void {
  app.use('/v1/tokens', requireAdmin);
  app.use('/v1/tokens/*', requireAdmin);
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/tokens',
      tags,
      security,
      request: { query: listQuery },
      responses: { 200: json(page(token), 'tokens'), ...errors },
    }),
    async (c) => c.json(await listTokens(c.get('deps'), c.req.valid('query')), 200),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/tokens',
      tags,
      security,
      request: { body: { ...json(tokenCreate), required: true } },
      responses: { 201: json(createdToken, 'the new token, with its secret shown once'), ...errors },
    }),
    async (c) => c.json(await createToken(c.get('deps'), c.req.valid('json')), 201),
  );
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/tokens/{id}',
      tags,
      security,
      request: { params: idParam },
      responses: { 204: { description: 'revoked' }, ...errors },
    }),
    async (c) => {
      await deleteToken(c.get('deps'), c.req.valid('param').id);
      return c.body(null, 204);
    },
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/bootstrap',
      tags,
      description:
        'Creates the first admin token. Authorise with `Authorization: Bearer <EDGEPLANE_BOOTSTRAP_TOKEN>`; works only while no admin token exists.',
      // The secret is checked before the body is read, and the body is read only up to its limit.
      middleware: [bootstrapAuth, limitBody(BODY_LIMITS.bootstrap)] as const,
      request: { body: { ...json(z.strictObject({ name: z.string().min(1).max(100).default('first admin') })), required: false } },
      responses: { 201: json(createdToken, 'the first admin token'), ...errors },
    }),
    async (c) => {
      const deps = buildDeps(c, { id: 'bootstrap', role: 'admin' });
      return c.json(await bootstrapAdmin(deps, c.req.valid('json').name), 201);
    },
  );
}
