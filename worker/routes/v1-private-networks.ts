import { z } from 'zod';
import { privateNetwork, privateNetworkCreate, privateNetworkUpdate } from '../../src/shared/api';
import type { Router } from '../app';
import {
  createPrivateNetwork,
  deletePrivateNetwork,
  getPrivateNetwork,
  listPrivateNetworks,
  updatePrivateNetwork,
} from '../services/private-networks';
import { registerCrud } from './crud';

/** Mounts /v1/private-networks. */
export function registerPrivateNetworks(app: Router): void {
  registerCrud(app, {
    path: '/v1/private-networks',
    itemPath: '/v1/private-networks/{id}',
    tag: 'private-networks',
    item: privateNetwork,
    create: privateNetworkCreate,
    update: privateNetworkUpdate,
    filters: z.object({ tunnel: z.string().optional() }),
    list: listPrivateNetworks,
    get: getPrivateNetwork,
    add: createPrivateNetwork,
    change: updatePrivateNetwork,
    remove: (deps, id, ifMatch) => deletePrivateNetwork(deps, id, ifMatch),
  });
}
