import { createMiddleware } from 'hono/factory';
import { z } from 'zod';
import { agentRegister, agentRegistered, agentStatus, desiredBundle } from '../../src/shared/api/agent';
import { errorEnvelope } from '../../src/shared/api/common';
import type { Router } from '../app';
import { errors, json } from './contract';
import type { AppEnv } from '../app-env';
import { AppError } from '../errors';
import { provideDeps } from '../middleware/deps';
import { type AgentCluster, authenticateAgent, bearer, touch } from '../services/agent-auth';
import { desiredBundleFor, desiredEtag } from '../services/agent-bundle';
import { askNotifier } from '../services/agent-not-modified';
import { type BootstrapTokenRow, findBootstrapToken, registerAgent } from '../services/agent-registration';
import { BODY_LIMITS, limitBody } from '../middleware/body-limit';
import { recordStatus } from '../services/agent-reports';
import { validationError } from '../validation-errors';

/** Agents are not API-token actors: their requests get deps with an `agent` actor for the audit log. */
const agentActor = createMiddleware<AppEnv>(async (c, next) => {
  c.set('actor', { id: 'agent', role: 'viewer' });
  await next();
});

type AgentApiEnv = AppEnv & { Variables: { bootstrapToken: BootstrapTokenRow; agentCluster: AgentCluster } };

/** Finds the bootstrap token of a registration before its body is read. */
const bootstrapTokenAuth = createMiddleware<AgentApiEnv>(async (c, next) => {
  c.set('bootstrapToken', await findBootstrapToken(c.get('deps'), bearer(c.req.header('authorization'))));
  await next();
});

/** Authenticates the agent credential before a report's body is read. */
const agentAuth = createMiddleware<AgentApiEnv>(async (c, next) => {
  c.set('agentCluster', await authenticateAgent(c.get('deps'), bearer(c.req.header('authorization'))));
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
  describeAgentApi(app);

  // The bearer is checked before the body is read, and the body is then read only up to its limit: a caller without a
  // valid bootstrap token costs one indexed D1 read, whatever it sends.
  app.post('/agent/v1/register', bootstrapTokenAuth, limitBody(BODY_LIMITS.agentRegister), async (c) => {
    const token = c.get('bootstrapToken');
    const input = await body(agentRegister, c.req.raw);
    const deps = { ...c.get('deps'), actor: { id: `agent:${input.clusterId}`, role: 'viewer' as const } };
    const { replayed, ...registered } = await registerAgent(deps, token, input);
    return c.json(registered, replayed ? 200 : 201);
  });

  app.get('/agent/v1/desired', async (c) => {
    // Server-Timing: the handler's own time (workerd's clock advances across the D1 read), so the 304 budget can be
    // measured apart from the network and the dev proxy in front of it.
    const started = performance.now();
    const timing = () => `app;dur=${(performance.now() - started).toFixed(2)}`;
    const deps = c.get('deps');
    const credential = bearer(c.req.header('authorization'));
    const ifNoneMatch = c.req.header('if-none-match');
    // A poll that finds nothing new is answered by the cluster's notifier, without D1 (ADR 0013); anything else (or a
    // notifier that cannot vouch for the credential and revision) is answered from D1, which then primes the notifier.
    const notifier = ifNoneMatch ? await askNotifier(deps, credential, ifNoneMatch) : undefined;
    if (notifier && notifier.notModified !== null)
      return c.body(null, 304, { etag: desiredEtag(notifier.notModified), 'cache-control': 'no-store', 'server-timing': timing() });
    const cluster = await authenticateAgent(deps, credential);
    const seenAt = touch(deps, cluster);
    notifier?.prime(cluster, seenAt);
    const etag = desiredEtag(cluster.desiredRevision);
    if (ifNoneMatch && ifNoneMatch.split(',').some((t) => t.trim() === etag))
      return c.body(null, 304, { etag, 'cache-control': 'no-store', 'server-timing': timing() });
    const bundle = await desiredBundleFor(deps, cluster);
    return c.json(bundle, 200, { etag: desiredEtag(bundle.revision), 'cache-control': 'no-store', 'server-timing': timing() });
  });

  app.post('/agent/v1/status', agentAuth, limitBody(BODY_LIMITS.agentStatus), async (c) => {
    await recordStatus(c.get('deps'), c.get('agentCluster'), await body(agentStatus, c.req.raw));
    return c.body(null, 204);
  });

  app.get('/agent/v1/notify', async (c) => {
    const deps = c.get('deps');
    const cluster = await authenticateAgent(deps, bearer(c.req.header('authorization')));
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      throw new AppError('bad_request', 'GET /agent/v1/notify is a WebSocket endpoint; send Upgrade: websocket');
    }
    touch(deps, cluster);
    const stub = c.env.CLUSTER_NOTIFIER.get(c.env.CLUSTER_NOTIFIER.idFromName(cluster.id));
    return stub.fetch(new Request(`https://notifier/connect?revision=${cluster.desiredRevision}`, { headers: c.req.raw.headers }));
  });
}

/**
 * The /agent/v1 protocol in the OpenAPI document, from the same zod schemas the handlers above parse with. Described
 * rather than mounted through `app.openapi`, so the 304 path stays one notifier call with no request validation layer.
 */
function describeAgentApi(app: Router): void {
  const registry = app.openAPIRegistry;
  registry.registerComponent('securitySchemes', 'bootstrapToken', {
    type: 'http',
    scheme: 'bearer',
    description: "the one-time bootstrap token of a cluster's install manifest (GET /v1/clusters/{id}/install.yaml)",
  });
  registry.registerComponent('securitySchemes', 'agentCredential', {
    type: 'http',
    scheme: 'bearer',
    description: 'the agent credential `epa.<cluster>.<secret>` registered with POST /agent/v1/register',
  });
  const agent = [{ agentCredential: [] }];
  const refused = {
    401: json(errorEnvelope, 'missing, unknown or replaced agent credential'),
    422: errors[422],
  };
  registry.registerPath({
    method: 'post',
    path: '/agent/v1/register',
    tags: ['agent'],
    security: [{ bootstrapToken: [] }],
    summary: 'Registers the credential the agent made, with a one-time bootstrap token',
    request: { body: { required: true, ...json(agentRegister) } },
    responses: {
      201: json(agentRegistered, 'registered'),
      200: json(agentRegistered, 'this same registration (token, credential, identity) was already accepted; nothing changed'),
      401: json(errorEnvelope, 'unknown, expired or already used bootstrap token'),
      403: json(errorEnvelope, 'the bootstrap token is for another cluster'),
      409: json(errorEnvelope, 'the cluster is registered to another Kubernetes cluster (kube-system UID)'),
      422: refused[422],
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/agent/v1/desired',
    tags: ['agent'],
    security: agent,
    summary: "The cluster's desired bundle; 304 while If-None-Match names the current ETag",
    request: { headers: z.object({ 'if-none-match': z.string().optional() }) },
    responses: {
      200: json(desiredBundle, 'the bundle, with its ETag'),
      304: { description: 'unchanged since the ETag in If-None-Match' },
      401: refused[401],
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/agent/v1/status',
    tags: ['agent'],
    security: agent,
    summary: 'Reports an apply pass: results, conflicts, prune, health and origin checks',
    request: { body: { required: true, ...json(agentStatus) } },
    responses: { 204: { description: 'recorded' }, ...refused },
  });
  registry.registerPath({
    method: 'get',
    path: '/agent/v1/notify',
    tags: ['agent'],
    security: agent,
    summary: 'WebSocket: sends {"revision": N} on connect and whenever the desired revision changes',
    responses: {
      101: { description: 'switching to WebSocket' },
      400: json(errorEnvelope, 'not a WebSocket upgrade'),
      401: refused[401],
    },
  });
}
