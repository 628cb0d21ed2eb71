import { createRoute, z } from '@hono/zod-openapi';
import { applyReport } from '../../src/shared/api/agent';
import type { Router } from '../app';
import { latestReports } from '../services/agent-reports';
import { loadCluster } from '../services/clusters';
import { errors, idParam, json, security } from './contract';

/** Mounts GET /v1/clusters/{id}/reports: the latest apply reports of the cluster's agent (any reader). */
export function registerClusterReports(app: Router): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/clusters/{id}/reports',
      tags: ['clusters'],
      security,
      summary: "The latest apply reports of the cluster's agent, newest first",
      request: { params: idParam, query: z.object({ limit: z.coerce.number().int().min(1).max(50).default(10) }) },
      responses: { 200: json(z.object({ items: z.array(applyReport) }), 'reports'), ...errors },
    }),
    async (c) => {
      const deps = c.get('deps');
      const { id } = c.req.valid('param');
      await loadCluster(deps, id);
      return c.json({ items: await latestReports(deps, id, c.req.valid('query').limit) }, 200);
    },
  );
}
