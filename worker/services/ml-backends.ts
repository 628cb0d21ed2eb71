import { asc, eq, gt } from 'drizzle-orm';
import type { ListQuery, MlBackend, MlBackendCreate, MlBackendUpdate } from '../../src/shared/api';
import { stillExists, unchangedSince } from '../db/guards';
import { inferenceBackends, mlBackends } from '../db/schema';
import { commit } from '../effects/commit';
import { toApiMlBackend } from '../db/mappers';
import type { Deps } from '../deps';
import { AppError, notFound } from '../errors';
import { checkIfMatch } from './etag';
import { forgetMlBackend } from './inference-cache';
import { decodeCursor, toPage } from './pagination';

type Row = typeof mlBackends.$inferSelect;
export type MlBackendRow = Row;

/** Loads an ML backend row or answers 404. */
export async function loadMlBackend(deps: Pick<Deps, 'db'>, id: string): Promise<Row> {
  const row = await deps.db.query.mlBackends.findFirst({ where: eq(mlBackends.id, id) });
  if (!row) throw notFound('ML backend', id);
  return row;
}

async function checkBackendExists(deps: Deps, backend: string): Promise<void> {
  if (!(await deps.db.query.inferenceBackends.findFirst({ where: eq(inferenceBackends.id, backend) }))) {
    throw new AppError(
      'validation_failed',
      `body.backend: inference backend "${backend}" does not exist; create it with POST /v1/inference/backends`,
      {
        details: [{ path: 'body.backend', message: `inference backend "${backend}" does not exist` }],
      },
    );
  }
}

const backendStillExists = (backend: string) =>
  stillExists(
    inferenceBackends,
    inferenceBackends.id,
    backend,
    new AppError('conflict', `inference backend "${backend}" was deleted meanwhile`),
  );

/** Lists ML backends by id. */
export async function listMlBackends(deps: Deps, query: ListQuery) {
  const after = decodeCursor(query.cursor);
  const rows = await deps.db
    .select()
    .from(mlBackends)
    .where(after ? gt(mlBackends.id, after) : undefined)
    .orderBy(asc(mlBackends.id))
    .limit(query.limit + 1);
  return toPage(rows, query.limit, toApiMlBackend);
}

/** Returns one ML backend. */
export async function getMlBackend(deps: Deps, id: string): Promise<MlBackend> {
  return toApiMlBackend(await loadMlBackend(deps, id));
}

/** Creates an ML backend on an existing inference backend. */
export async function createMlBackend(deps: Deps, input: MlBackendCreate): Promise<MlBackend> {
  await checkBackendExists(deps, input.backend);
  if (await deps.db.query.mlBackends.findFirst({ where: eq(mlBackends.id, input.id) })) {
    throw new AppError('conflict', `ML backend "${input.id}" already exists`, {
      details: [{ path: 'body.id', message: 'already in use' }],
    });
  }
  const at = deps.now().toISOString();
  const row: Row = {
    id: input.id,
    backendId: input.backend,
    model: input.model,
    modelVersion: input.modelVersion,
    task: input.task,
    input: input.input,
    output: input.output,
    choices: input.choices,
    batch: input.batch,
    fromName: input.fromName,
    toName: input.toName,
    version: 1,
    createdAt: at,
    updatedAt: at,
  };
  const created = toApiMlBackend(row);
  await commit(deps, {
    guards: [backendStillExists(input.backend)],
    statements: [deps.db.insert(mlBackends).values(row)],
    audit: { action: 'create', entityType: 'ml_backend', entityId: row.id, after: created },
  });
  return created;
}

/** Changes an ML backend. */
export async function updateMlBackend(deps: Deps, id: string, input: MlBackendUpdate, ifMatch?: string): Promise<MlBackend> {
  const before = await loadMlBackend(deps, id);
  checkIfMatch(ifMatch, before, `ML backend "${id}"`);
  if (input.backend) await checkBackendExists(deps, input.backend);
  const { backend, ...rest } = input;
  const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as Partial<Row>;
  const after: Row = {
    ...before,
    ...defined,
    backendId: backend ?? before.backendId,
    version: before.version + 1,
    updatedAt: deps.now().toISOString(),
  };
  const { id: _id, createdAt: _created, ...changes } = after;
  await commit(deps, {
    guards: [unchangedSince(mlBackends, id, before.version, `ML backend "${id}"`), backendStillExists(after.backendId)],
    statements: [deps.db.update(mlBackends).set(changes).where(eq(mlBackends.id, id))],
    audit: { action: 'update', entityType: 'ml_backend', entityId: id, before: toApiMlBackend(before), after: toApiMlBackend(after) },
  });
  // The /ml path caches ML backends per isolate (ADR 0014): the change applies here at once.
  forgetMlBackend(id);
  return toApiMlBackend(after);
}

/** Deletes an ML backend. */
export async function deleteMlBackend(deps: Deps, id: string, ifMatch: string | undefined): Promise<void> {
  const before = await loadMlBackend(deps, id);
  checkIfMatch(ifMatch, before, `ML backend "${id}"`);
  await commit(deps, {
    guards: [unchangedSince(mlBackends, id, before.version, `ML backend "${id}"`)],
    statements: [deps.db.delete(mlBackends).where(eq(mlBackends.id, id))],
    audit: { action: 'delete', entityType: 'ml_backend', entityId: id, before: toApiMlBackend(before) },
  });
  forgetMlBackend(id);
}
