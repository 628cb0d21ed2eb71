import { z } from 'zod';
import { splitTunnelCreate, splitTunnelEntry, splitTunnelUpdate } from '../../src/shared/api';
import type { Router } from '../app';
import {
  createSplitTunnelEntry,
  deleteSplitTunnelEntry,
  getSplitTunnelEntry,
  listSplitTunnelEntries,
  updateSplitTunnelEntry,
} from '../services/split-tunnel';
import { registerCrud } from './crud';

/** Mounts /v1/split-tunnel (WARP include/exclude entries; foreign ones are read-only). */
export function registerSplitTunnel(app: Router): void {
  registerCrud(app, {
    path: '/v1/split-tunnel',
    itemPath: '/v1/split-tunnel/{id}',
    tag: 'split-tunnel',
    item: splitTunnelEntry,
    create: splitTunnelCreate,
    update: splitTunnelUpdate,
    filters: z.object({ profile: z.string().optional(), mode: z.enum(['include', 'exclude']).optional() }),
    list: listSplitTunnelEntries,
    get: getSplitTunnelEntry,
    add: createSplitTunnelEntry,
    change: updateSplitTunnelEntry,
    remove: (deps, id, ifMatch) => deleteSplitTunnelEntry(deps, id, ifMatch),
  });
}
