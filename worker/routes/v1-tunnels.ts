import { z } from 'zod';
import { tunnel, tunnelCreate, tunnelUpdate } from '../../src/shared/api';
import type { Router } from '../app';
import { createTunnel, deleteTunnel, getTunnel, listTunnels, updateTunnel } from '../services/tunnels';
import { registerCrud } from './crud';

/** Mounts /v1/tunnels; DELETE takes `?cascade=true` to remove the tunnel's routes and private networks with it. */
export function registerTunnels(app: Router): void {
  registerCrud(app, {
    path: '/v1/tunnels',
    itemPath: '/v1/tunnels/{id}',
    tag: 'tunnels',
    item: tunnel,
    create: tunnelCreate,
    update: tunnelUpdate,
    filters: z.object({ cluster: z.string().optional() }),
    list: listTunnels,
    get: getTunnel,
    add: createTunnel,
    change: updateTunnel,
    deleteQuery: z.object({ cascade: z.enum(['true', 'false']).optional() }),
    remove: (deps, id, ifMatch, query) => deleteTunnel(deps, id, { ifMatch, cascade: query.cascade === 'true' }),
  });
}
