import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env';

/** The id of a request: a sane incoming `X-Request-Id` (8–64 of `[\w.-]`), else a fresh UUID. */
export function requestIdOf(incoming: string | null | undefined): string {
  return incoming && /^[\w.-]{8,64}$/.test(incoming) ? incoming : crypto.randomUUID();
}

/** Gives every request an id and echoes it in the response. */
export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const id = requestIdOf(c.req.header('x-request-id'));
  c.set('requestId', id);
  c.header('x-request-id', id);
  await next();
});
