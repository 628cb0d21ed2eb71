import { createMiddleware } from 'hono/factory';
import { z } from 'zod';
import { agentDryRunResult, agentDryRuns } from '../../src/shared/api/cluster-dry-run';
import { errorEnvelope } from '../../src/shared/api/common';
import type { Router } from '../app';
import type { AppEnv } from '../app-env';
import { AppError } from '../errors';
import { BODY_LIMITS, limitBody } from '../middleware/body-limit';
import { type AgentCluster, authenticateAgent, bearer } from '../services/agent-auth';
import { pendingDryRunsFor, recordDryRunResult } from '../services/cluster-dry-run';
import { validationError } from '../validation-errors';
import { errors, json } from './contract';

const dryRunId = z.string().min(1).max(100);

/** Authenticates the agent credential before the result's body is read. */
const agentAuth = createMiddleware<AppEnv & { Variables: { agentCluster: AgentCluster } }>(async (c, next) => {
  c.set('agentCluster', await authenticateAgent(c.get('deps'), bearer(c.req.header('authorization'))));
  await next();
});

/**
 * Mounts the agent's side of the cluster pre-flight (ADR 0015): GET /agent/v1/dry-runs (what waits for this agent's
 * cluster, after a `{"dryRun": id}` on the notify socket) and POST /agent/v1/dry-runs/{id} (the verdicts). Mounted after
 * registerAgentApi, whose middleware gives these requests their deps; the credential is checked before the body is read.
 */
export function registerAgentDryRuns(app: Router): void {
  app.get('/agent/v1/dry-runs', async (c) => {
    const deps = c.get('deps');
    const cluster = await authenticateAgent(deps, bearer(c.req.header('authorization')));
    return c.json({ items: await pendingDryRunsFor(deps, cluster) }, 200, { 'cache-control': 'no-store' });
  });

  app.post('/agent/v1/dry-runs/:id', agentAuth, limitBody(BODY_LIMITS.agentStatus), async (c) => {
    const id = dryRunId.safeParse(c.req.param('id'));
    if (!id.success) throw validationError(id.error, 'path');
    let raw: unknown;
    try {
      raw = await c.req.json();
    } catch {
      throw new AppError('bad_request', 'the request body must be JSON');
    }
    const parsed = agentDryRunResult.safeParse(raw);
    if (!parsed.success) throw validationError(parsed.error, 'body');
    await recordDryRunResult(c.get('deps'), c.get('agentCluster'), id.data, parsed.data);
    return c.body(null, 204);
  });

  const registry = app.openAPIRegistry;
  const agent = [{ agentCredential: [] }];
  registry.registerPath({
    method: 'get',
    path: '/agent/v1/dry-runs',
    tags: ['agent'],
    security: agent,
    summary: 'The cluster\'s pending dry runs (the plans\' bundles, with their secrets), fetched after a `{"dryRun": id}` notification',
    responses: {
      200: json(agentDryRuns, 'pending dry runs, oldest first'),
      401: json(errorEnvelope, 'missing, unknown or replaced agent credential'),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/agent/v1/dry-runs/{id}',
    tags: ['agent'],
    security: agent,
    summary: "The API server's verdict on each object of a dry run (server-side apply with dryRun=All)",
    request: { params: z.object({ id: dryRunId }), body: { required: true, ...json(agentDryRunResult) } },
    responses: {
      204: { description: 'recorded; the plan waiting on it answers' },
      401: json(errorEnvelope, 'missing, unknown or replaced agent credential'),
      404: json(errorEnvelope, 'no such dry run waits for this cluster (unknown, expired or already answered)'),
      422: errors[422],
    },
  });
}
