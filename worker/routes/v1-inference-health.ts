import { createRoute, z } from '@hono/zod-openapi';
import { inferenceBackendHealth, type InferenceBackendHealth } from '../../src/shared/api/inference-health';
import { resourceId } from '../../src/shared/api/fields';
import type { Router } from '../app';
import { AppError, notFound } from '../errors';
import { inferenceCacheDeps, inferenceRequestOf } from '../middleware/inference-auth';
import { cachedBackend } from '../services/inference-cache';
import { forward } from '../services/inference-forward';
import { cachedHealth } from '../services/inference-health-cache';
import { errors, security } from './contract';

/**
 * Mounts GET /v1/inference/backends/:id/health: the proxy's own cached probe of Triton's /v2/health/ready (the one a
 * Label Studio health call gets), so the console and scripts see what callers see without an inference token.
 */
export function registerInferenceHealth(app: Router): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/inference/backends/{id}/health',
      tags: ['inference'],
      security,
      request: { params: z.object({ id: resourceId('inference backend id') }) },
      responses: {
        200: { description: 'ready or not, from the cached probe', content: { 'application/json': { schema: inferenceBackendHealth } } },
        ...errors,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const cached = await cachedBackend(inferenceCacheDeps(inferenceRequestOf(c)), id);
      if (!cached) throw notFound('inference backend', id);
      const backend = cached.row;
      const target = {
        upstreams: backend.upstreams,
        balance: backend.balance,
        timeouts: backend.timeouts,
        retry: backend.retry,
        authHeaders: cached.authHeaders,
      };
      let health: InferenceBackendHealth;
      try {
        // The same cache key as the proxy's /v2/health/ready, so both answer from one probe.
        const answer = await cachedHealth(
          `${backend.id}:${backend.version}:/health/ready`,
          async () =>
            (await forward(target, { method: 'GET', path: '/v2/health/ready', headers: new Headers(), body: null, repeatable: true }))
              .response,
          (work) => c.executionCtx.waitUntil(work),
        );
        await answer.body?.cancel();
        const status = answer.status;
        health = {
          backend: id,
          ready: status === 200,
          status,
          ageSeconds: Number(answer.headers.get('x-edgeplane-health-age') ?? 0),
          error: status === 200 || status === 400 ? null : `upstream answered ${status}`,
        };
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        health = { backend: id, ready: false, status: null, ageSeconds: 0, error: error.message };
      }
      return c.json(health, 200);
    },
  );
}
