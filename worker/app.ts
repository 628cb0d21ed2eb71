import { OpenAPIHono } from '@hono/zod-openapi';
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

/**
 * Any error as the project's envelope: an AppError as it is, a framework error mapped, anything else a 500 that names
 * the request id (the error itself is logged, never returned). `contentType` is the request's, for the 415 message.
 */
export function errorEnvelope(
  error: unknown,
  requestId: string,
  contentType: string | undefined,
): { status: AppError['status']; body: ErrorEnvelope; headers: Record<string, string> | undefined } {
  let appError: AppError;
  if (error instanceof AppError) appError = error;
  else if (error instanceof HTTPException && error.status === 415) {
    const sent = (contentType ?? 'none').slice(0, 100);
    appError = new AppError(
      'unsupported_media_type',
      `this endpoint takes a JSON body (Content-Type: application/json); got Content-Type ${sent}`,
    );
  } else if (error instanceof HTTPException && error.status < 500) {
    const code = error.status === 401 ? 'unauthorized' : error.status === 413 ? 'payload_too_large' : 'bad_request';
    appError = new AppError(code, error.message || 'bad request');
  } else appError = new AppError('internal_error', `internal error; quote request id ${requestId} when reporting it`);
  if (appError.status >= 500) console.error(JSON.stringify({ requestId, error: String(error), stack: (error as Error).stack }));
  const body: ErrorEnvelope = {
    error: {
      code: appError.code,
      message: appError.message,
      ...(appError.details ? { details: appError.details } : {}),
      requestId,
    },
  };
  return { status: appError.status, body, headers: appError.headers };
}

/** Configuration and clock on every route's context. */
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
  app.onError((error, c) => {
    const { status, body, headers } = errorEnvelope(error, c.get('requestId'), c.req.header('content-type'));
    return c.json(body, status, headers);
  });
  return app;
}
