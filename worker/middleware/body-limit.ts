import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../app-env';
import { AppError } from '../errors';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * The largest request body of each endpoint family, in bytes (docs/security.md). They keep every stored row well under
 * D1's 2 MB row limit and bound the work one request can ask for; the zod schemas bound each field inside them.
 */
export const BODY_LIMITS = {
  /** POST /agent/v1/register: a credential and a few cluster facts. */
  agentRegister: 4 * KiB,
  /** POST /bootstrap: a token name. */
  bootstrap: 1 * KiB,
  /** POST /agent/v1/status: an apply report (results, conflicts, health), stored in one row. */
  agentStatus: 1 * MiB,
  /** Imports (a config.yml or compose file with env files) and the route tester (a config plus URLs). */
  imports: 2 * MiB,
  /** Label Studio's /ml calls: a page of tasks to predict. */
  ml: 4 * MiB,
  /** Every other endpoint: one resource, a plan of up to 200 changes. */
  default: 512 * KiB,
} as const;

/** A bodyLimit whose 413 is the error envelope. */
export const limitBody = (maxSize: number): MiddlewareHandler<AppEnv> =>
  bodyLimit({
    maxSize,
    onError: (c) => {
      throw new AppError(
        'payload_too_large',
        `the request body is larger than ${maxSize} bytes, the limit of ${c.req.method} ${new URL(c.req.url).pathname} (docs/security.md)`,
      );
    },
  });

const limits = {
  default: limitBody(BODY_LIMITS.default),
  imports: limitBody(BODY_LIMITS.imports),
  ml: limitBody(BODY_LIMITS.ml),
};

/** Endpoints that bound their body themselves, after they have authenticated the caller. */
const OWN_LIMIT = [/^\/agent\/v1\/(register|status|dry-runs\/[^/]+)$/, /^\/bootstrap$/];

/**
 * The app-wide body limit, in front of every route and its validators: a body over the limit is answered 413 without
 * being parsed (from Content-Length, or while it streams in). The agent endpoints and /bootstrap apply theirs after
 * checking the bearer (an unauthenticated caller costs no body read at all). The inference proxy never comes here (the
 * Worker's fetch serves it without this app) and streams bodies up to the backend's maxBodyBytes.
 */
export const bodyLimits = createMiddleware<AppEnv>(async (c, next) => {
  const path = c.req.path;
  if (OWN_LIMIT.some((p) => p.test(path))) return next();
  const limit = /^\/v1\/(import\/|match$|tunnels\/[^/]+\/match$)/.test(path)
    ? limits.imports
    : path.startsWith('/ml/')
      ? limits.ml
      : limits.default;
  return limit(c, next);
});
