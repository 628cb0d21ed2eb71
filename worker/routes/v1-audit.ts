import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { auditEntry, listQuery, page } from '../../src/shared/api';
import type { Router } from '../app';
import { listAudit } from '../services/audit';
import { errors, json, security } from './contract';

/** Mounts GET /v1/audit: who changed what, newest first, secrets redacted. */
export function registerAudit(app: Router): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/audit',
      tags: ['audit'],
      security,
      request: { query: listQuery.extend({ entityType: z.string().max(100).optional(), entityId: z.string().max(200).optional() }) },
      responses: { 200: json(page(auditEntry), 'audit entries'), ...errors },
    }),
    async (c) => c.json(await listAudit(c.get('deps'), c.req.valid('query')), 200),
  );
}
