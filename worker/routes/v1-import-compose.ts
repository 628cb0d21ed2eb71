import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { boundedRecord, resourceId } from '../../src/shared/api';
import type { Router } from '../app';
import { importCompose } from '../services/compose-import';
import { errors, json, security } from './contract';

/** Body of POST /v1/import/compose. */
export const composeImport = z.strictObject({
  cluster: resourceId('cluster id'),
  namespace: resourceId('namespace'),
  tunnel: resourceId('tunnel id').optional().describe('the tunnel the Traefik routes are created on (in the same cluster)'),
  compose: z
    .string()
    .max(512 * 1024, 'compose is limited to 512 KiB')
    .describe('the text of docker-compose.yml'),
  env: boundedRecord(z.string().max(253), z.string().max(32 * 1024), 500, 'variables')
    .default({})
    .describe('values for ${VAR}; they win over compose defaults'),
  envFiles: boundedRecord(z.string().max(4096), z.string().max(256 * 1024), 50, 'env files')
    .default({})
    .describe('contents of the files env_file names, keyed by the path as written in the compose file'),
  hostname: z.string().max(253).optional().describe('hostname for Traefik rules that have only a PathPrefix'),
  cloudflaredConfig: z
    .string()
    .max(512 * 1024)
    .optional()
    .describe("config.yml of the compose file's cloudflared service"),
  replaceRoutes: z
    .boolean()
    .default(false)
    .describe('re-point a route of the tunnel with the same hostname and path to the new Service (default: a conflict)'),
  dryRun: z.boolean().default(true).describe('report only (default); false creates everything in one write'),
});

const status = z.enum(['would-create', 'created', 'would-replace', 'replaced', 'conflict']);
const variable = z.object({ name: z.string(), source: z.enum(['request', 'infra', 'default', 'unset']) });

/** Response of POST /v1/import/compose. */
export const composeImportReport = z.object({
  cluster: z.string(),
  namespace: z.string(),
  tunnel: z.string().nullable(),
  dryRun: z.boolean(),
  services: z.array(
    z.object({
      service: z.string(),
      status: z.enum(['workload', 'skipped']),
      workload: z.record(z.string(), z.unknown()).optional().describe('the POST /v1/workloads body (without cluster)'),
      reason: z.string().optional(),
      result: status.optional(),
      conflict: z.string().optional(),
      variables: z.array(variable).describe('where each ${VAR} got its value: the request, else the compose default'),
      warnings: z.array(z.string()),
      notPortable: z.array(z.object({ field: z.string(), reason: z.string() })),
    }),
  ),
  routes: z.array(
    z.object({
      from: z.string(),
      hostname: z.string(),
      path: z.string().optional(),
      workload: z.string(),
      port: z.number().int(),
      status,
      reason: z.string().optional(),
      id: z.string().optional().describe('the route created, or the one re-pointed'),
      replaces: z.object({ origin: z.unknown() }).optional().describe("a re-pointed route's origin before the import"),
    }),
  ),
  unrouted: z.array(z.object({ from: z.string(), rule: z.string(), reason: z.string() })),
  warnings: z.array(z.string()),
  summary: z.object({ workloads: z.number(), routes: z.number(), skipped: z.number(), unrouted: z.number(), conflicts: z.number() }),
});

/** Mounts POST /v1/import/compose. */
export function registerComposeImport(app: Router): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/import/compose',
      tags: ['import'],
      security,
      summary: 'Turn a docker-compose.yml into workloads and its Traefik routes into tunnel routes (dry run by default)',
      request: { body: { ...json(composeImport), required: true } },
      responses: { 200: json(composeImportReport, 'what the import did or would do'), ...errors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const report = await importCompose(c.get('deps'), {
        cluster: body.cluster,
        namespace: body.namespace,
        compose: body.compose,
        env: body.env,
        envFiles: body.envFiles,
        dryRun: body.dryRun,
        replaceRoutes: body.replaceRoutes,
        ...(body.tunnel ? { tunnel: body.tunnel } : {}),
        ...(body.hostname ? { hostname: body.hostname } : {}),
        ...(body.cloudflaredConfig ? { cloudflaredConfig: body.cloudflaredConfig } : {}),
      });
      return c.json(report, 200);
    },
  );
}
