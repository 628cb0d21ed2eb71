import { createRoute } from '@hono/zod-openapi';
import { matchConfig, matchQuery, matchResponse, matchUrls } from '../../src/shared/api';
import type { Router } from '../app';
import { matchConfigUrls, matchTunnelUrls } from '../services/route-match';
import { errors, idParam, json, security } from './contract';

/** Mounts the route tester: GET/POST /v1/tunnels/{id}/match and POST /v1/match. */
export function registerMatch(app: Router): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/tunnels/{id}/match',
      tags: ['tunnels'],
      security,
      summary: "Which rule of the tunnel's compiled config serves a URL, as cloudflared would choose",
      request: { params: idParam, query: matchQuery },
      responses: { 200: json(matchResponse, 'the rule that serves the URL'), ...errors },
    }),
    async (c) => c.json(await matchTunnelUrls(c.get('deps'), c.req.valid('param').id, [c.req.valid('query').url]), 200),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/tunnels/{id}/match',
      tags: ['tunnels'],
      security,
      summary: "Which rule of the tunnel's compiled config serves each URL",
      request: { params: idParam, body: { content: { 'application/json': { schema: matchUrls } }, required: true } },
      responses: { 200: json(matchResponse, 'one answer per URL, in order'), ...errors },
    }),
    async (c) => c.json(await matchTunnelUrls(c.get('deps'), c.req.valid('param').id, c.req.valid('json').urls), 200),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/match',
      tags: ['tunnels'],
      security,
      summary: 'Test URLs against a pasted config.yml or remote config, refused as cloudflared would refuse it',
      request: { body: { content: { 'application/json': { schema: matchConfig } }, required: true } },
      responses: { 200: json(matchResponse, 'one answer per URL, in order'), ...errors },
    }),
    (c) => {
      const body = c.req.valid('json');
      return c.json(matchConfigUrls(body.config, body.urls), 200);
    },
  );
}
