import { OpenAPIHono } from '@hono/zod-openapi';
import { type ErrorHandler, Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { HTTPException } from 'hono/http-exception';
import type { ErrorEnvelope } from '../src/shared/api/common';
import type { AppEnv } from './app-env';
import { systemClock } from './clock';
import { configOf } from './env';
import { AppError } from './errors';
import { authenticate, authorizeV1 } from './middleware/auth';
import { bodyLimits } from './middleware/body-limit';
import { provideDeps } from './middleware/deps';
import { requestId } from './middleware/request-id';
import { validationError } from './validation-errors';

/** A router whose request validation failures become the 422 envelope. */
export const newRouter = () =>
  new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error, result.target);
    },
  });

export type Router = ReturnType<typeof newRouter>;

/** Every error as the project's envelope: an AppError as it is, a framework error mapped, anything else a 500 by id. */
const errorEnvelope: ErrorHandler<AppEnv> = (error, c) => {
  const id = c.get('requestId');
  let appError: AppError;
  if (error instanceof AppError) appError = error;
  else if (error instanceof HTTPException && error.status === 415) {
    const sent = (c.req.header('content-type') ?? 'none').slice(0, 100);
    appError = new AppError(
      'unsupported_media_type',
      `this endpoint takes a JSON body (Content-Type: application/json); got Content-Type ${sent}`,
    );
  } else if (error instanceof HTTPException && error.status < 500) {
    const code = error.status === 401 ? 'unauthorized' : error.status === 413 ? 'payload_too_large' : 'bad_request';
    appError = new AppError(code, error.message || 'bad request');
  } else appError = new AppError('internal_error', `internal error; quote request id ${id} when reporting it`);
  if (appError.status >= 500) console.error(JSON.stringify({ requestId: id, error: String(error), stack: (error as Error).stack }));
  const body: ErrorEnvelope = {
    error: {
      code: appError.code,
      message: appError.message,
      ...(appError.details ? { details: appError.details } : {}),
      requestId: id,
    },
  };
  return c.json(body, appError.status, appError.headers);
};

/** Request id, configuration and clock: what every route, the lean inference app's included, finds on its context. */
const shell = createMiddleware<AppEnv>(async (c, next) => {
  c.set('config', configOf(c.env));
  c.set('now', systemClock);
  await next();
});

/** Builds the app shell: request ids, config, the error envelope, and auth in front of /v1. */
export function createApp(): Router {
  const app = newRouter();

  app.use('*', requestId, shell);
  app.use('/v1/*', authenticate, authorizeV1, provideDeps);
  // After authentication: an unauthenticated /v1 request is refused before a byte of its body is read.
  app.use('*', bodyLimits);

  app.notFound((c) => {
    throw new AppError('not_found', `no endpoint ${c.req.method} ${new URL(c.req.url).pathname}; see /openapi.json`);
  });
  app.onError(errorEnvelope);
  return app;
}

/**
 * The inference proxy's own app (`/v2`, `/inference/:backend/v2`): the same shell and error envelope, none of the API's
 * routes and middleware. The Worker's fetch sends those paths here directly (worker/index.ts), so a proxied call pays
 * for one route and two middleware layers, not the whole API's (measured: docs/benchmarks.md → inference proxy).
 */
export function createInferenceApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', requestId, shell);
  app.onError(errorEnvelope);
  return app;
}
