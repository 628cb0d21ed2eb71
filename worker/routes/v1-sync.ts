import { createRoute } from '@hono/zod-openapi';
import { syncRequest, syncStarted, syncStatus } from '../../src/shared/api/sync';
import type { Router } from '../app';
import { requestSync } from '../sync/request';
import { syncStatus as readSyncStatus } from '../sync/status';
import { errors, json, security } from './contract';

const tags = ['sync'];

/** Mounts POST /v1/sync (sync now; editor or admin) and GET /v1/sync (per-target Cloudflare sync state). */
export function registerSync(app: Router): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/sync',
      tags,
      security,
      request: { body: { ...json(syncRequest), required: false } },
      responses: { 202: json(syncStarted, 'the sync was queued and its writers started'), ...errors },
    }),
    async (c) => c.json(await requestSync(c.get('deps'), c.req.valid('json') ?? {}), 202),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/sync',
      tags,
      security,
      responses: { 200: json(syncStatus, 'sync state per account and target'), ...errors },
    }),
    async (c) => c.json(await readSyncStatus(c.get('deps').db, c.get('deps').now()), 200),
  );
}
