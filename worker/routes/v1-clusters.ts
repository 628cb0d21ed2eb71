import { z } from 'zod';
import { cluster, clusterCreate, clusterUpdate } from '../../src/shared/api';
import type { Router } from '../app';
import { createCluster, deleteCluster, getCluster, listClusters, updateCluster } from '../services/clusters';
import { registerCrud } from './crud';

/** Mounts /v1/clusters. */
export function registerClusters(app: Router): void {
  registerCrud(app, {
    path: '/v1/clusters',
    itemPath: '/v1/clusters/{id}',
    tag: 'clusters',
    item: cluster,
    create: clusterCreate,
    update: clusterUpdate,
    filters: z.object({}),
    list: listClusters,
    get: getCluster,
    add: createCluster,
    change: updateCluster,
    remove: (deps, id, ifMatch) => deleteCluster(deps, id, ifMatch),
  });
}
