import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env';
import { type Actor, type Deps, openDb } from '../deps';

/** The service dependencies of one request, acting as `actor`. */
export const buildDeps = (c: Context<AppEnv>, actor: Actor): Deps => ({
  db: openDb(c.env.DB),
  config: c.get('config'),
  env: c.env,
  now: c.get('now'),
  requestId: c.get('requestId'),
  actor,
  defer: (work) => c.executionCtx.waitUntil(work),
});

/** Builds the service dependencies once per request and puts them on `c.get('deps')`. */
export const provideDeps = createMiddleware<AppEnv>(async (c, next) => {
  c.set('deps', buildDeps(c, c.get('actor')));
  await next();
});
