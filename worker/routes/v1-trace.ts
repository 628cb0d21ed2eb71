import { createRoute } from '@hono/zod-openapi';
import { traceQuery, traceResponse } from '../../src/shared/api';
import type { Router } from '../app';
import { traceUrl } from '../services/trace';
import { errors, json, security } from './contract';

/** Mounts GET /v1/trace: the URL doctor's chain as one call (any reader). */
export function registerTrace(app: Router): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/trace',
      tags: ['tunnels'],
      security,
      summary:
        'The chain from a URL to its origin: route, DNS record, rule, origin check, connectors, workload; the first broken link named',
      request: { query: traceQuery },
      responses: { 200: json(traceResponse, 'each link with its status'), ...errors },
    }),
    async (c) => c.json(await traceUrl(c.get('deps'), c.req.valid('query').url), 200),
  );
}
