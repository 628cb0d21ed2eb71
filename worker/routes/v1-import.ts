import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { origin, resourceId, routeCreate } from '../../src/shared/api';
import type { Router } from '../app';
import { importRoutes } from '../services/route-import';
import { errors, json, security } from './contract';

const options = {
  tunnel: resourceId('tunnel id').describe('the tunnel the routes are created on'),
  dryRun: z.boolean().default(true).describe('report only (default); false creates the routes'),
  useSuggestedOrigins: z
    .boolean()
    .default(false)
    .describe('create routes with the suggested in-cluster origin where the imported one cannot work from a pod'),
};

/** Body of POST /v1/import/cloudflared-config. */
export const cloudflaredConfigImport = z.strictObject({
  ...options,
  config: z
    .string()
    .max(512 * 1024, 'config is limited to 512 KiB')
    .describe("the text of cloudflared's config.yml"),
});

/** Body of POST /v1/import/remote-config. */
export const remoteConfigImport = z.strictObject({
  ...options,
  config: z
    .record(z.string(), z.unknown())
    .describe('the remote config as Cloudflare returns it (the response, its result, or the config object)'),
});

const proposedRoute = z.object({
  index: z.number().int(),
  route: routeCreate.omit({ tunnel: true }).extend({ originRequest: z.record(z.string(), z.unknown()) }),
  warnings: z.array(z.string()),
  suggestedOrigin: origin.optional(),
  status: z.enum(['would-create', 'created', 'skipped']),
  reason: z.string().optional(),
  id: z.string().optional(),
});

/** Response of both import endpoints. */
export const importReport = z.object({
  tunnel: z.string(),
  dryRun: z.boolean(),
  routes: z.array(proposedRoute),
  unsupported: z.array(
    z.object({ index: z.number().int(), status: z.literal('unsupported'), rule: z.record(z.string(), z.unknown()), reason: z.string() }),
  ),
  catchAll: z.object({ index: z.number().int(), service: z.string(), tunnelCatchAll: z.string(), differs: z.boolean() }).nullable(),
  originRequest: z.record(z.string(), z.unknown()),
  warpRouting: z.boolean().nullable(),
  warnings: z
    .array(z.string())
    .describe('what cloudflared would ignore or what changes on import, not tied to one rule (unknown top-level keys, an empty rule list)'),
  summary: z.object({ create: z.number(), created: z.number(), skipped: z.number(), unsupported: z.number(), warnings: z.number() }),
});

const tags = ['import'];

/** Mounts POST /v1/import/cloudflared-config and POST /v1/import/remote-config. */
export function registerImport(app: Router): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/import/cloudflared-config',
      tags,
      security,
      summary: 'Turn a cloudflared config.yml into routes (dry run by default)',
      request: { body: { ...json(cloudflaredConfigImport), required: true } },
      responses: { 200: json(importReport, 'what the import did or would do'), ...errors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const report = await importRoutes(c.get('deps'), {
        tunnel: body.tunnel,
        source: { kind: 'cloudflared-config', yaml: body.config },
        dryRun: body.dryRun,
        useSuggestedOrigins: body.useSuggestedOrigins,
      });
      return c.json(report, 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/import/remote-config',
      tags,
      security,
      summary: "Turn a remotely-managed tunnel's config into routes (dry run by default)",
      request: { body: { ...json(remoteConfigImport), required: true } },
      responses: { 200: json(importReport, 'what the import did or would do'), ...errors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const report = await importRoutes(c.get('deps'), {
        tunnel: body.tunnel,
        source: { kind: 'remote-config', json: body.config },
        dryRun: body.dryRun,
        useSuggestedOrigins: body.useSuggestedOrigins,
      });
      return c.json(report, 200);
    },
  );
}
