import { z } from 'zod';

const ingressRule = z.object({
  hostname: z.string().optional(),
  path: z.string().optional().describe('a Go regular expression; path prefixes compile to ^<prefix>(/|$)'),
  service: z.string(),
  originRequest: z.record(z.string(), z.unknown()).optional(),
});

/** Response of GET /v1/tunnels/:id/config: the remote config exactly as the sync PUTs it, and the route behind each rule. */
export const tunnelConfigResponse = z.object({
  config: z.object({
    ingress: z.array(ingressRule),
    originRequest: z.record(z.string(), z.unknown()).optional(),
    'warp-routing': z.object({ enabled: z.boolean() }).optional(),
  }),
  routes: z
    .array(z.string().nullable())
    .describe("routes[i] is the id of the route that produced ingress rule i (null for the catch-all or a mode's controller rule)"),
});
export type TunnelConfigResponse = z.infer<typeof tunnelConfigResponse>;
