import { createRoute } from '@hono/zod-openapi';
import { me } from '../../src/shared/api/me';
import type { Router } from '../app';
import { errors, security } from './contract';

/** Mounts GET /v1/me: the actor behind the request, so the console offers only what its role may do. */
export function registerMe(app: Router): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/me',
      tags: ['system'],
      security,
      responses: { 200: { description: 'the actor and its role', content: { 'application/json': { schema: me } } }, ...errors },
    }),
    (c) => {
      const { id, role } = c.get('actor');
      return c.json({ id, role }, 200);
    },
  );
}
