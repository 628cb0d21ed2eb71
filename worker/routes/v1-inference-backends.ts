import { z } from 'zod';
import {
  inferenceBackend,
  inferenceBackendCreate,
  inferenceBackendUpdate,
  mlBackend,
  mlBackendCreate,
  mlBackendUpdate,
} from '../../src/shared/api';
import type { Router } from '../app';
import {
  createInferenceBackend,
  deleteInferenceBackend,
  getInferenceBackend,
  listInferenceBackends,
  updateInferenceBackend,
} from '../services/inference-backends';
import { createMlBackend, deleteMlBackend, getMlBackend, listMlBackends, updateMlBackend } from '../services/ml-backends';
import { registerCrud } from './crud';

/** Mounts /v1/inference/backends (Triton servers the proxy fronts) and /v1/ml-backends (Label Studio adapters). */
export function registerInferenceBackends(app: Router): void {
  registerCrud(app, {
    path: '/v1/inference/backends',
    itemPath: '/v1/inference/backends/{id}',
    tag: 'inference',
    item: inferenceBackend,
    create: inferenceBackendCreate,
    update: inferenceBackendUpdate,
    filters: z.object({}),
    list: listInferenceBackends,
    get: getInferenceBackend,
    add: createInferenceBackend,
    change: updateInferenceBackend,
    remove: (deps, id, ifMatch) => deleteInferenceBackend(deps, id, ifMatch),
  });
  registerCrud(app, {
    path: '/v1/ml-backends',
    itemPath: '/v1/ml-backends/{id}',
    tag: 'inference',
    item: mlBackend,
    create: mlBackendCreate,
    update: mlBackendUpdate,
    filters: z.object({}),
    list: listMlBackends,
    get: getMlBackend,
    add: createMlBackend,
    change: updateMlBackend,
    remove: (deps, id, ifMatch) => deleteMlBackend(deps, id, ifMatch),
  });
}
