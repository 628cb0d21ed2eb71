import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env';

/** Gives every request an id (honouring a sane incoming `X-Request-Id`) and echoes it in the response. */
export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const incoming = c.req.header('x-request-id');
  const id = incoming && /^[\w.-]{8,64}$/.test(incoming) ? incoming : crypto.randomUUID();
  c.set('requestId', id);
  c.header('x-request-id', id);
  await next();
});
