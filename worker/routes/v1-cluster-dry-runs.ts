import { createRoute, z } from '@hono/zod-openapi';
import { clusterDryRun } from '../../src/shared/api/cluster-dry-run';
import type { Router } from '../app';
import { readClusterDryRun } from '../services/cluster-dry-run';
import { errors, idParam, json, security } from './contract';

const params = idParam.extend({ dryRunId: z.string().min(1).max(100) });

/** Mounts GET /v1/clusters/{id}/dry-runs/{dryRunId}: a plan's cluster pre-flight read later (docs/diagnostics.md). */
export function registerClusterDryRuns(app: Router): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/clusters/{id}/dry-runs/{dryRunId}',
      tags: ['plan'],
      security,
      summary: "A plan's server-side dry run in one cluster: pending, completed with each object's verdict, or expired (kept 15 minutes)",
      request: { params },
      responses: { 200: json(clusterDryRun, 'the dry run'), ...errors },
    }),
    async (c) => {
      const { id, dryRunId } = c.req.valid('param');
      return c.json(await readClusterDryRun(c.get('deps'), id, dryRunId), 200);
    },
  );
}
