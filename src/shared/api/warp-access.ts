import { z } from 'zod';
import { profile } from './split-tunnel';

// The WARP kubectl path (docs/diagnostics.md): a laptop on WARP reaches the API server at its in-cluster address when a
// tunnel of the cluster routes that address (a private network, warp-routing on) and the device profile's split tunnel
// sends it into WARP. What is missing is said per step, each with a reason a program can act on.

/** Why the WARP path to a cluster's API server is not complete, one value per missing step. */
export const warpMissingReason = z.enum([
  'ca_not_reported',
  'no_private_network',
  'private_network_not_synced',
  'warp_routing_off',
  'split_tunnel_not_included',
  'split_tunnel_not_synced',
  'split_tunnel_excluded',
]);
export type WarpMissingReason = z.infer<typeof warpMissingReason>;

/** One missing step of the WARP path. */
export const warpMissing = z.object({
  reason: warpMissingReason,
  message: z.string().describe('what is missing and how to add it'),
});
export type WarpMissing = z.infer<typeof warpMissing>;

/** Whether a laptop on WARP can reach the cluster's API server, and if not, what is missing. */
export const warpAccess = z.object({
  server: z.string().describe('the API server URL over WARP, e.g. "https://10.43.0.1:443"'),
  profile: z.string().describe('the WARP device profile whose split tunnel was checked ("default" or a policy id)'),
  complete: z.boolean().describe('true when nothing is missing'),
  missing: z.array(warpMissing).describe('each missing step, in the order a packet needs them; empty when complete'),
  privateNetwork: z
    .string()
    .nullable()
    .describe('the private network (id) that routes the API server address through a tunnel of this cluster'),
  tunnel: z.string().nullable().describe("that private network's tunnel"),
});
export type WarpAccess = z.infer<typeof warpAccess>;

/** Query of GET /v1/clusters/:id/kubeconfig-warp. */
export const kubeconfigWarpQuery = z.object({
  profile: profile.default('default').describe('the WARP device profile whose split tunnel is checked'),
  format: z
    .enum(['json', 'yaml'])
    .default('json')
    .describe('"json": the check and the kubeconfig (always 200); "yaml": only the kubeconfig file, 409 while the path is incomplete'),
});

/** Answer of GET /v1/clusters/:id/kubeconfig-warp (format json). */
export const kubeconfigWarp = warpAccess.extend({
  cluster: z.string(),
  kubeconfig: z
    .string()
    .nullable()
    .describe(
      'a kubeconfig (YAML) for the WARP address with the cluster CA and an empty user to fill in; null until the agent reported the CA',
    ),
});
export type KubeconfigWarp = z.infer<typeof kubeconfigWarp>;
