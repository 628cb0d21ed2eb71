import { createRoute } from '@hono/zod-openapi';
import { tunnelConfigResponse } from '../../src/shared/api/tunnel-config';
import { compileTracedRules, compileTunnelConfig } from '../../src/shared/compiler';
import type { Router } from '../app';
import { loadDesiredTunnel } from '../db/desired-state';
import { errors, idParam, json, security } from './contract';

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
      responses: {
        200: json(tunnelConfigResponse, 'the config as it will be sent to Cloudflare, and the route behind each rule'),
        ...errors,
      },
    }),
    async (c) => {
      // No connector token is needed (or loaded) for the remote config.
      const desired = await loadDesiredTunnel(c.get('deps'), c.req.valid('param').id, { withTokens: false });
      // The route ids come from the same traced compilation, so routes[i] always describes config.ingress[i].
      return c.json({ config: compileTunnelConfig(desired), routes: compileTracedRules(desired).map((t) => t.routeId) }, 200);
    },
  );
}
