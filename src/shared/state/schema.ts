import { z } from 'zod';
import { clusterCreate } from '../api/cluster';
import { privateNetworkCreate } from '../api/private-network';
import { routeCreate } from '../api/route';
import { splitTunnelCreate } from '../api/split-tunnel';
import { tunnelCreate } from '../api/tunnel';

// The declarative state file `edgeplane plan|apply|export` read and write. Every entry is the body of the resource's
// POST with the same field names, so the API reference documents the file too; routes and private networks sit under
// their tunnel (their `tunnel` field is implied). An omitted field means its create-time default, not "leave as is":
// the file is the whole desired state of what it names.

/** A route of a tunnel in the state file: POST /v1/routes without `tunnel`. Identified by hostname + path. */
export const stateRoute = routeCreate.omit({ tunnel: true });
/** A private network of a tunnel: POST /v1/private-networks without `tunnel`. Identified by CIDR + virtual network. */
export const statePrivateNetwork = privateNetworkCreate.omit({ tunnel: true });

/**
 * A tunnel with its routes and private networks: POST /v1/tunnels plus the children. `cloudflareTunnelId` adopts an
 * existing Cloudflare tunnel when the tunnel is created and is ignored afterwards (it cannot change).
 */
export const stateTunnel = tunnelCreate.extend({
  routes: z.array(stateRoute).max(5000).default([]),
  privateNetworks: z.array(statePrivateNetwork).max(1000).default([]),
});

/** A WARP split-tunnel entry: POST /v1/split-tunnel. Identified by profile + mode + address/host. */
export const stateSplitTunnelEntry = splitTunnelCreate;

/** The state file. */
export const stateFile = z.strictObject({
  $schema: z.string().optional().describe('where editors find this schema, e.g. https://<worker>/schema/state.json'),
  version: z.literal(1).default(1).describe('the state file format version'),
  clusters: z.array(clusterCreate).max(1000).default([]),
  tunnels: z.array(stateTunnel).max(1000).default([]),
  splitTunnel: z.array(stateSplitTunnelEntry).max(5000).default([]),
});

export type StateFile = z.infer<typeof stateFile>;
export type StateTunnel = z.infer<typeof stateTunnel>;
export type StateRoute = z.infer<typeof stateRoute>;
export type StatePrivateNetwork = z.infer<typeof statePrivateNetwork>;
export type StateSplitTunnelEntry = z.infer<typeof stateSplitTunnelEntry>;

/** The JSON Schema of the state file (what a file may say, so defaults are optional), for editors and CI linters. */
export function stateJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(stateFile, { io: 'input', unrepresentable: 'any' }),
    title: 'edgeplane state file',
  };
}
