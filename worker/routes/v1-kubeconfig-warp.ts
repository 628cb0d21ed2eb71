import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { errorEnvelope, kubeconfigWarp as kubeconfigWarpSchema, kubeconfigWarpQuery } from '../../src/shared/api';
import type { Router } from '../app';
import { AppError } from '../errors';
import { kubeconfigWarp } from '../services/kubeconfig-warp';
import { errors, idParam, json, security } from './contract';

/** Mounts GET /v1/clusters/{id}/kubeconfig-warp (docs/diagnostics.md, "WARP kubectl path"). */
export function registerKubeconfigWarp(app: Router): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/clusters/{id}/kubeconfig-warp',
      tags: ['clusters'],
      security,
      summary: 'A kubeconfig for the API server over WARP, and what the WARP path still misses',
      description:
        'format=json (default) always answers 200: `complete`, each `missing` step with its reason, and the kubeconfig once the CA is known. ' +
        'format=yaml answers the kubeconfig file alone when the path is complete, else 409 with the missing steps in `details`.',
      request: { params: idParam, query: kubeconfigWarpQuery },
      responses: {
        200: {
          description: 'the check (JSON), or the kubeconfig (YAML, format=yaml)',
          content: {
            'application/json': { schema: kubeconfigWarpSchema },
            'application/yaml': { schema: z.string() },
          },
        },
        ...errors,
        409: json(errorEnvelope, 'format=yaml while the WARP path is incomplete; details name each missing step'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { profile, format } = c.req.valid('query');
      const result = await kubeconfigWarp(c.get('deps'), id, profile);
      if (format === 'json') return c.json(result, 200, { 'cache-control': 'no-store' });
      if (!result.complete || result.kubeconfig === null) {
        throw new AppError(
          'conflict',
          `the WARP path to cluster "${id}" is incomplete: ${result.missing.map((m) => m.reason).join(', ')}; GET /v1/clusters/${id}/kubeconfig-warp says what to add`,
          { details: result.missing.map((m) => ({ path: m.reason, message: m.message })) },
        );
      }
      return c.body(result.kubeconfig, 200, {
        'content-type': 'application/yaml; charset=utf-8',
        'content-disposition': `attachment; filename="${id}-warp.kubeconfig"`,
        'cache-control': 'no-store',
      });
    },
  );
}
