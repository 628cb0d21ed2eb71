import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { listQuery, page } from '../../src/shared/api/common';
import type { Router } from '../app';
import type { Deps } from '../deps';
import { errors, idParam, ifMatch, json, security } from './contract';

interface Resource {
  id: string;
  etag: string;
}

/** The service functions and schemas of one resource collection under /v1. */
export interface Crud<
  T extends Resource,
  C extends z.ZodType,
  U extends z.ZodType,
  F extends z.ZodObject,
  D extends z.ZodObject = z.ZodObject,
> {
  /** The collection's path, written out (`/v1/routes`), so searching for an endpoint finds its file. */
  path: string;
  /** The item's path, written out (`/v1/routes/{id}`). */
  itemPath: `${string}/{id}`;
  tag: string;
  item: z.ZodType<T>;
  create: C;
  update: U;
  /** Extra list filters (query parameters). */
  filters: F;
  list: (deps: Deps, query: z.infer<typeof listQuery> & z.infer<F>) => Promise<{ items: T[]; nextCursor: string | null }>;
  get: (deps: Deps, id: string) => Promise<T>;
  add: (deps: Deps, input: z.infer<C>) => Promise<T>;
  change: (deps: Deps, id: string, input: z.infer<U>, ifMatch?: string) => Promise<T>;
  remove: (deps: Deps, id: string, ifMatch: string | undefined, query: z.infer<D>) => Promise<void>;
  /** Extra query parameters of DELETE, validated and documented in the OpenAPI document. */
  deleteQuery?: D;
}

type Target = 'json' | 'query' | 'param' | 'header';

/**
 * Reads a validated request part. The generic schemas defeat @hono/zod-openapi's inference, so the part is typed
 * here from the same schema that validated it.
 */
const valid = <T>(c: { req: { valid: unknown } }, target: Target): T => (c.req.valid as (t: Target) => T).call(c.req, target);

/**
 * Mounts list/create/get/update/delete for a collection with the same contract everywhere: list pages by
 * cursor, responses carry `ETag`, writes honour `If-Match`, errors use the one envelope.
 */
export function registerCrud<
  T extends Resource,
  C extends z.ZodType,
  U extends z.ZodType,
  F extends z.ZodObject,
  D extends z.ZodObject = z.ZodObject,
>(app: Router, r: Crud<T, C, U, F, D>): void {
  const tags = [r.tag];
  const { itemPath } = r;
  const listParams = listQuery.extend(r.filters.shape);

  app.openapi(
    createRoute({
      method: 'get',
      path: r.path,
      tags,
      security,
      request: { query: listParams },
      responses: { 200: json(page(r.item), 'a page'), ...errors },
    }),
    async (c) => c.json(await r.list(c.get('deps'), valid<z.infer<typeof listQuery> & z.infer<F>>(c, 'query')), 200),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: r.path,
      tags,
      security,
      request: { body: { ...json(r.create), required: true } },
      responses: { 201: json(r.item, 'created'), ...errors },
    }),
    async (c) => {
      const created = await r.add(c.get('deps'), valid<z.infer<C>>(c, 'json'));
      return c.json(created, 201, { etag: created.etag, location: `${r.path}/${created.id}` });
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: itemPath,
      tags,
      security,
      request: { params: idParam },
      responses: { 200: json(r.item, 'the resource'), ...errors },
    }),
    async (c) => {
      const found = await r.get(c.get('deps'), valid<{ id: string }>(c, 'param').id);
      return c.json(found, 200, { etag: found.etag });
    },
  );
  app.openapi(
    createRoute({
      method: 'patch',
      path: itemPath,
      tags,
      security,
      request: { params: idParam, headers: ifMatch, body: { ...json(r.update), required: true } },
      responses: { 200: json(r.item, 'updated'), ...errors },
    }),
    async (c) => {
      const { id } = valid<{ id: string }>(c, 'param');
      const headers = valid<{ 'if-match'?: string }>(c, 'header');
      const updated = await r.change(c.get('deps'), id, valid<z.infer<U>>(c, 'json'), headers['if-match']);
      return c.json(updated, 200, { etag: updated.etag });
    },
  );
  app.openapi(
    createRoute({
      method: 'delete',
      path: itemPath,
      tags,
      security,
      request: { params: idParam, headers: ifMatch, query: r.deleteQuery ?? z.object({}) },
      responses: { 204: { description: 'deleted' }, ...errors },
    }),
    async (c) => {
      const headers = valid<{ 'if-match'?: string }>(c, 'header');
      await r.remove(c.get('deps'), valid<{ id: string }>(c, 'param').id, headers['if-match'], valid<z.infer<D>>(c, 'query'));
      return c.body(null, 204);
    },
  );
}
