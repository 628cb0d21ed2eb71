import { createRoute, z } from '@hono/zod-openapi';
import { inferenceMetrics, inferenceMetricsQuery } from '../../src/shared/api/inference-metrics';
import type { Router } from '../app';
import { readInferenceMetrics, toPrometheus } from '../services/inference-metrics';
import { errors, security } from './contract';

const PROMETHEUS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Prometheus asks with `Accept: application/openmetrics-text…, text/plain;version=0.0.4…`; a browser or curl with JSON. */
const wantsPrometheus = (accept: string | undefined) =>
  accept !== undefined && /text\/plain|openmetrics/.test(accept) && !accept.includes('application/json');

/** Mounts GET /v1/inference/metrics: per backend and model, as JSON or Prometheus text. */
export function registerInferenceMetrics(app: Router): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/inference/metrics',
      tags: ['inference'],
      security,
      request: { query: inferenceMetricsQuery },
      responses: {
        200: {
          description: 'requests, errors by class, latency histogram and bytes per backend and model',
          content: { 'application/json': { schema: inferenceMetrics }, 'text/plain': { schema: z.string() } },
        },
        ...errors,
      },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const metrics = await readInferenceMetrics(c.get('deps'), query.backend);
      const prometheus = query.format ? query.format === 'prometheus' : wantsPrometheus(c.req.header('accept'));
      if (prometheus) return c.text(toPrometheus(metrics), 200, { 'content-type': PROMETHEUS_TYPE });
      return c.json(metrics, 200);
    },
  );
}
