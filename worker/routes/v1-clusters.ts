import { createRoute } from '@hono/zod-openapi';
import { cluster, clusterCreate, clusterUpdate, listQuery, page } from '../../src/shared/api';
import type { Router } from '../app';
import { createCluster, deleteCluster, getCluster, listClusters, updateCluster } from '../services/clusters';
import { errors, idParam, ifMatch, json, security } from './contract';

const tags = ['clusters'];

/** Mounts /v1/clusters CRUD. */
export function registerClusters(app: Router): void {
  app.openapi(
    createRoute({ method: 'get', path: '/v1/clusters', tags, security, request: { query: listQuery }, responses: { 200: json(page(cluster), 'a page of clusters'), ...errors } }),
    async (c) => c.json(await listClusters(c.var.deps, c.req.valid('query')), 200),
  );
  app.openapi(
    createRoute({ method: 'post', path: '/v1/clusters', tags, security, request: { body: { ...json(clusterCreate), required: true } }, responses: { 201: json(cluster, 'created'), ...errors } }),
    async (c) => {
      const created = await createCluster(c.var.deps, c.req.valid('json'));
      return c.json(created, 201, { etag: created.etag, location: `/v1/clusters/${created.id}` });
    },
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/clusters/{id}', tags, security, request: { params: idParam }, responses: { 200: json(cluster, 'the cluster'), ...errors } }),
    async (c) => {
      const found = await getCluster(c.var.deps, c.req.valid('param').id);
      return c.json(found, 200, { etag: found.etag });
    },
  );
  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/clusters/{id}',
      tags,
      security,
      request: { params: idParam, headers: ifMatch, body: { ...json(clusterUpdate), required: true } },
      responses: { 200: json(cluster, 'updated'), ...errors },
    }),
    async (c) => {
      const updated = await updateCluster(c.var.deps, c.req.valid('param').id, c.req.valid('json'), c.req.valid('header')['if-match']);
      return c.json(updated, 200, { etag: updated.etag });
    },
  );
  app.openapi(
    createRoute({ method: 'delete', path: '/v1/clusters/{id}', tags, security, request: { params: idParam, headers: ifMatch }, responses: { 204: { description: 'deleted' }, ...errors } }),
    async (c) => {
      await deleteCluster(c.var.deps, c.req.valid('param').id, c.req.valid('header')['if-match']);
      return c.body(null, 204);
    },
  );
}
