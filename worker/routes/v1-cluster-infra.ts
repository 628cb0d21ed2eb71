import { createRoute } from '@hono/zod-openapi';
import { clusterInfraList } from '../../src/shared/api';
import type { Router } from '../app';
import { loadCluster } from '../services/clusters';
import { clusterCandidates, discoveredInfra } from '../services/workload-infra';
import { errors, idParam, json, security } from './contract';

/** Mounts GET /v1/clusters/{id}/infra: the databases, queues and object stores workloads' env can reference. */
export function registerClusterInfra(app: Router): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/clusters/{id}/infra',
      tags: ['clusters'],
      security,
      summary:
        'Backing services of the cluster that {"infra": ...} env references resolve against: found by its agent, and its workloads running a known image',
      request: { params: idParam },
      responses: { 200: json(clusterInfraList, 'instances, sorted by kind, namespace and name'), ...errors },
    }),
    async (c) => {
      const deps = c.get('deps');
      const { id } = c.req.valid('param');
      await loadCluster(deps, id);
      const { reportedAt } = await discoveredInfra(deps, id);
      return c.json({ items: await clusterCandidates(deps, id), reportedAt }, 200);
    },
  );
}
