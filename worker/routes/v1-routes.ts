import { z } from 'zod';
import { route, routeCreate, routeUpdate } from '../../src/shared/api';
import type { Router } from '../app';
import { createRoute, deleteRoute, getRoute, listRoutes, updateRoute } from '../services/routes';
import { registerCrud } from './crud';

/** Mounts /v1/routes. */
export function registerRoutes(app: Router): void {
  registerCrud(app, {
    path: '/v1/routes',
    itemPath: '/v1/routes/{id}',
    tag: 'routes',
    item: route,
    create: routeCreate,
    update: routeUpdate,
    filters: z.object({ tunnel: z.string().optional(), hostname: z.string().optional() }),
    list: listRoutes,
    get: getRoute,
    add: createRoute,
    change: updateRoute,
    remove: (deps, id, ifMatch) => deleteRoute(deps, id, ifMatch),
  });
}
