import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { profile, splitTunnelProfile, splitTunnelProfilePut } from '../../src/shared/api';
import type { Router } from '../app';
import { listSplitTunnelProfiles, putSplitTunnelProfile } from '../services/split-tunnel-profiles';
import { errors, ifMatch, json, security } from './contract';

const tags = ['split-tunnel'];

/** Mounts GET /v1/split-tunnel-profiles and PUT /v1/split-tunnel-profiles/{profile} (the drift policy per profile). */
export function registerSplitTunnelProfiles(app: Router): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/split-tunnel-profiles',
      tags,
      security,
      responses: { 200: json(z.object({ items: z.array(splitTunnelProfile) }), 'profiles with settings of their own'), ...errors },
    }),
    async (c) => c.json(await listSplitTunnelProfiles(c.get('deps')), 200),
  );
  app.openapi(
    createRoute({
      method: 'put',
      path: '/v1/split-tunnel-profiles/{profile}',
      tags,
      security,
      summary: "Sets a device profile's split-tunnel drift policy",
      request: { params: z.object({ profile }), headers: ifMatch, body: { ...json(splitTunnelProfilePut), required: true } },
      responses: {
        200: json(splitTunnelProfile, 'updated'),
        201: json(splitTunnelProfile, 'created'),
        ...errors,
      },
    }),
    async (c) => {
      const result = await putSplitTunnelProfile(
        c.get('deps'),
        c.req.valid('param').profile,
        c.req.valid('json'),
        c.req.valid('header')['if-match'],
      );
      c.header('etag', result.profile.etag);
      return result.created ? c.json(result.profile, 201) : c.json(result.profile, 200);
    },
  );
}
