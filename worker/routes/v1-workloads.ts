import { z } from 'zod';
import { workload, workloadCreate, workloadUpdate } from '../../src/shared/api';
import type { Router } from '../app';
import { createWorkload, deleteWorkload, getWorkload, listWorkloads, updateWorkload } from '../services/workloads';
import { registerCrud } from './crud';

/** Mounts /v1/workloads: compose-style services compiled into their cluster's bundle. */
export function registerWorkloads(app: Router): void {
  registerCrud(app, {
    path: '/v1/workloads',
    itemPath: '/v1/workloads/{id}',
    tag: 'workloads',
    item: workload,
    create: workloadCreate,
    update: workloadUpdate,
    filters: z.object({ cluster: z.string().optional(), namespace: z.string().optional() }),
    list: listWorkloads,
    get: getWorkload,
    add: createWorkload,
    change: updateWorkload,
    remove: (deps, id, ifMatch) => deleteWorkload(deps, id, ifMatch),
  });
}
