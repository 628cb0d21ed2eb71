import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env';
import { openDb } from '../deps';

/** Builds the service dependencies once per request and puts them on `c.var.deps`. */
export const provideDeps = createMiddleware<AppEnv>(async (c, next) => {
  c.set('deps', {
    db: openDb(c.env.DB),
    config: c.get('config'),
    env: c.env,
    now: () => new Date(),
    requestId: c.get('requestId'),
    actor: c.get('actor'),
    defer: (work) => c.executionCtx.waitUntil(work),
  });
  await next();
});
