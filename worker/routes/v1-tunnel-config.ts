import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { compileTunnelConfig } from '../../src/shared/compiler';
import type { Router } from '../app';
import { loadDesiredTunnel } from '../db/desired-state';
import { errors, idParam, json, security } from './contract';

const ingressRule = z.object({
  hostname: z.string().optional(),
  path: z.string().optional().describe('a Go regular expression; path prefixes compile to ^<prefix>(/|$)'),
  service: z.string(),
  originRequest: z.record(z.string(), z.unknown()).optional(),
});

/** Response of GET /v1/tunnels/:id/config: the remote config exactly as the sync PUTs it to Cloudflare. */
export const tunnelConfigResponse = z.object({
  config: z.object({
    ingress: z.array(ingressRule),
    originRequest: z.record(z.string(), z.unknown()).optional(),
    'warp-routing': z.object({ enabled: z.boolean() }).optional(),
  }),
});

/** Mounts GET /v1/tunnels/{id}/config. */
export function registerTunnelConfig(app: Router): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/tunnels/{id}/config',
      tags: ['tunnels'],
      security,
      summary: 'The compiled cloudflared remote config of a tunnel',
      request: { params: idParam },
      responses: { 200: json(tunnelConfigResponse, 'the config as it will be sent to Cloudflare'), ...errors },
    }),
    async (c) => {
      // No connector token is needed (or loaded) for the remote config.
      const desired = await loadDesiredTunnel(c.get('deps'), c.req.valid('param').id, { withTokens: false });
      return c.json({ config: compileTunnelConfig(desired) }, 200);
    },
  );
}
