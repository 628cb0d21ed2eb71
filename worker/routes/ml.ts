import type { Context } from 'hono';
import { lsPredictRequest } from '../../src/shared/api';
import type { AppEnv } from '../app-env';
import type { Router } from '../app';
import { AppError, notFound } from '../errors';
import {
  authenticateInference,
  type InferenceCaller,
  inferenceCacheDeps,
  inferenceRequestOf,
  limitRate,
} from '../middleware/inference-auth';
import { cachedBackend, cachedMlBackend } from '../services/inference-cache';
import { modelVersionOf, predict } from '../services/ml-adapter';
import { validationError } from '../validation-errors';

/**
 * Mounts Label Studio's ML-backend protocol at `/ml/:id` (the URL pasted into Label Studio): health, setup, predict,
 * webhook, versions, and well-formed answers for the training calls edgeplane does not do.
 */
export function registerMl(app: Router): void {
  const health = async (c: Context<AppEnv>) => {
    const { ml } = await load(c, 'health');
    return c.json({ status: 'UP', model_class: 'edgeplane', model_version: modelVersionOf(ml), v2: true });
  };
  app.get('/ml/:id', health);
  app.get('/ml/:id/health', health);
  app.post('/ml/:id/setup', async (c) => {
    const { ml } = await load(c, 'metadata');
    return c.json({ model_version: modelVersionOf(ml) });
  });
  app.get('/ml/:id/versions', async (c) => {
    const { ml } = await load(c, 'metadata');
    return c.json({ versions: [modelVersionOf(ml)], model_dir: null });
  });
  app.post('/ml/:id/predict', async (c) => {
    const { ml } = await load(c, 'inference');
    const parsed = lsPredictRequest.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) throw validationError(parsed.error, 'json');
    const backend = await cachedBackend(inferenceCacheDeps(inferenceRequestOf(c)), ml.backendId);
    // An ML backend's inference backend cannot be deleted while it is in use; a stale cached ML row may still name one.
    if (!backend) throw notFound('inference backend', ml.backendId);
    const answer = await predict(
      {
        ml,
        backend,
        // The reason a task got no prediction; never the task's data, which may be private.
        log: (entry) => console.warn(JSON.stringify({ requestId: c.get('requestId'), event: 'ml_task_failed', ...entry })),
      },
      parsed.data,
    );
    return c.json(answer);
  });
  app.post('/ml/:id/webhook', async (c) => {
    await load(c, 'inference');
    const event = (await c.req.json().catch(() => null)) as { action?: unknown } | null;
    // edgeplane serves a fixed Triton model: training events are acknowledged and ignored.
    return c.json({ status: 'ignored', action: typeof event?.action === 'string' ? event.action : null }, 201);
  });
  app.post('/ml/:id/train', async (c) => {
    await load(c, 'inference');
    return c.json({ status: 'ignored', reason: 'edgeplane serves a fixed Triton model; train it outside and load it into Triton' }, 201);
  });
  app.get('/ml/:id/is_training', async (c) => {
    await load(c, 'health');
    return c.json({ is_training: false });
  });
  app.get('/ml/:id/metrics', async (c) => {
    await load(c, 'health');
    return c.json({});
  });
}

async function load(c: Context<AppEnv>, scope: 'health' | 'metadata' | 'inference') {
  const r = inferenceRequestOf(c);
  const caller: InferenceCaller = await authenticateInference(r);
  if (!caller.scopes.has(scope))
    throw new AppError('forbidden', `this call needs the "${scope}" scope; this token has ${[...caller.scopes].join(', ') || 'none'}`);
  await limitRate(r, caller);
  const id = c.req.param('id') ?? '';
  // From the per-isolate cache (ADR 0014), like the token and the inference backend.
  const ml = await cachedMlBackend(inferenceCacheDeps(r), id);
  if (!ml) throw notFound('ML backend', id);
  return { caller, ml };
}
