import { createMiddleware } from 'hono/factory';
import type { z } from 'zod';
import { agentRegister, agentStatus } from '../../src/shared/api/agent';
import type { Router } from '../app';
import type { AppEnv } from '../app-env';
import { AppError } from '../errors';
import { provideDeps } from '../middleware/deps';
import { authenticateAgent, bearer, desiredBundleFor, desiredEtag, recordStatus, registerAgent, touch } from '../services/agents';
import { validationError } from '../validation-errors';

/** Agents are not API-token actors: their requests get deps with an `agent` actor for the audit log. */
const agentActor = createMiddleware<AppEnv>(async (c, next) => {
  c.set('actor', { id: 'agent', role: 'viewer' });
  await next();
});

async function body<T extends z.ZodType>(schema: T, request: Request): Promise<z.infer<T>> {
  let raw: unknown;
  try {
    raw = await request.json();
  } catch {
    throw new AppError('bad_request', 'the request body must be JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw validationError(parsed.error, 'body');
  return parsed.data;
}

/**
 * Mounts /agent/v1: register (bootstrap token), desired (ETag/304), status, and the notify WebSocket. These routes sit
 * outside /v1 and its API-token middleware; each checks the agent credential itself, which names one cluster.
 */
export function registerAgentApi(app: Router): void {
  app.use('/agent/v1/*', agentActor, provideDeps);

  app.post('/agent/v1/register', async (c) => {
    const token = bearer(c.req.header('authorization'));
    const input = await body(agentRegister, c.req.raw);
    const deps = { ...c.var.deps, actor: { id: `agent:${input.clusterId}`, role: 'viewer' as const } };
    const { replayed, ...registered } = await registerAgent(deps, token, input);
    return c.json(registered, replayed ? 200 : 201);
  });

  app.get('/agent/v1/desired', async (c) => {
    // Server-Timing: the handler's own time (workerd's clock advances across the D1 read), so the 304 budget can be
    // measured apart from the network and the dev proxy in front of it.
    const started = performance.now();
    const timing = () => `app;dur=${(performance.now() - started).toFixed(2)}`;
    const deps = c.get('deps');
    const cluster = await authenticateAgent(deps, bearer(c.req.header('authorization')));
    touch(deps, cluster);
    const etag = desiredEtag(cluster.desiredRevision);
    const ifNoneMatch = c.req.header('if-none-match');
    if (ifNoneMatch && ifNoneMatch.split(',').some((t) => t.trim() === etag))
      return c.body(null, 304, { etag, 'cache-control': 'no-store', 'server-timing': timing() });
    const bundle = await desiredBundleFor(deps, cluster);
    return c.json(bundle, 200, { etag: desiredEtag(bundle.revision), 'cache-control': 'no-store', 'server-timing': timing() });
  });

  app.post('/agent/v1/status', async (c) => {
    const deps = c.var.deps;
    const cluster = await authenticateAgent(deps, bearer(c.req.header('authorization')));
    await recordStatus(deps, cluster, await body(agentStatus, c.req.raw));
    return c.body(null, 204);
  });

  app.get('/agent/v1/notify', async (c) => {
    const deps = c.var.deps;
    const cluster = await authenticateAgent(deps, bearer(c.req.header('authorization')));
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      throw new AppError('bad_request', 'GET /agent/v1/notify is a WebSocket endpoint; send Upgrade: websocket');
    }
    touch(deps, cluster);
    const stub = c.env.CLUSTER_NOTIFIER.get(c.env.CLUSTER_NOTIFIER.idFromName(cluster.id));
    return stub.fetch(new Request(`https://notifier/connect?revision=${cluster.desiredRevision}`, { headers: c.req.raw.headers }));
  });
}
