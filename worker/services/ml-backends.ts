import { asc, eq, gt } from 'drizzle-orm';
import type { ListQuery, MlBackend, MlBackendCreate, MlBackendUpdate } from '../../src/shared/api';
import { stillExists, unchangedSince } from '../db/guards';
import { inferenceBackends, mlBackends } from '../db/schema';
import { storeView, type StoreView } from '../db/view';
import { toApiMlBackend } from '../db/mappers';
import type { Deps } from '../deps';
import { AppError, notFound } from '../errors';
import { checkIfMatch } from './etag';
import { forgetMlBackend } from './inference-cache';
import { decodeCursor, toPage } from './pagination';
import { commitPrepared, type Prepared } from './prepared';

type Row = typeof mlBackends.$inferSelect;
export type MlBackendRow = Row;

/** Loads an ML backend row or answers 404. */
export async function loadMlBackend(deps: Pick<Deps, 'db'>, id: string): Promise<Row> {
  const row = await deps.db.query.mlBackends.findFirst({ where: eq(mlBackends.id, id) });
  if (!row) throw notFound('ML backend', id);
  return row;
}

async function checkBackendExists(view: StoreView, backend: string): Promise<void> {
  if (!(await view.inferenceBackend(backend))) {
    throw new AppError(
      'validation_failed',
      `body.backend: inference backend "${backend}" does not exist; create it with POST /v1/inference/backends`,
      {
        details: [{ path: 'body.backend', message: `inference backend "${backend}" does not exist` }],
      },
    );
  }
}

async function viewMlBackend(view: StoreView, id: string): Promise<Row> {
  const row = await view.mlBackend(id);
  if (!row) throw notFound('ML backend', id);
  return row;
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

/** Decides an ML backend create against `view`: it needs an existing inference backend. */
export async function prepareMlBackendCreate(deps: Deps, view: StoreView, input: MlBackendCreate): Promise<Prepared<MlBackend>> {
  await checkBackendExists(view, input.backend);
  if (await view.mlBackend(input.id)) {
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
  return {
    result: created,
    rows: [{ table: 'mlBackends', put: row }],
    write: {
      guards: [backendStillExists(input.backend)],
      statements: [deps.db.insert(mlBackends).values(row)],
      audit: { action: 'create', entityType: 'ml_backend', entityId: row.id, after: created },
    },
  };
}

/** Creates an ML backend on an existing inference backend. */
export async function createMlBackend(deps: Deps, input: MlBackendCreate): Promise<MlBackend> {
  return commitPrepared(deps, prepareMlBackendCreate(deps, storeView(deps.db), input));
}

/** Decides an ML backend change against `view`. */
export async function prepareMlBackendUpdate(
  deps: Deps,
  view: StoreView,
  id: string,
  input: MlBackendUpdate,
  ifMatch?: string,
): Promise<Prepared<MlBackend>> {
  const before = await viewMlBackend(view, id);
  checkIfMatch(ifMatch, before, `ML backend "${id}"`);
  if (input.backend) await checkBackendExists(view, input.backend);
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
  return {
    result: toApiMlBackend(after),
    rows: [{ table: 'mlBackends', put: after }],
    write: {
      guards: [unchangedSince(mlBackends, id, before.version, `ML backend "${id}"`), backendStillExists(after.backendId)],
      statements: [deps.db.update(mlBackends).set(changes).where(eq(mlBackends.id, id))],
      audit: { action: 'update', entityType: 'ml_backend', entityId: id, before: toApiMlBackend(before), after: toApiMlBackend(after) },
    },
  };
}

/** Changes an ML backend. */
export async function updateMlBackend(deps: Deps, id: string, input: MlBackendUpdate, ifMatch?: string): Promise<MlBackend> {
  const updated = await commitPrepared(deps, prepareMlBackendUpdate(deps, storeView(deps.db), id, input, ifMatch));
  // The /ml path caches ML backends per isolate (ADR 0014): the change applies here at once.
  forgetMlBackend(id);
  return updated;
}

/** Decides an ML backend delete against `view`. */
export async function prepareMlBackendDelete(deps: Deps, view: StoreView, id: string, ifMatch?: string): Promise<Prepared<null>> {
  const before = await viewMlBackend(view, id);
  checkIfMatch(ifMatch, before, `ML backend "${id}"`);
  return {
    result: null,
    rows: [{ table: 'mlBackends', delete: id }],
    write: {
      guards: [unchangedSince(mlBackends, id, before.version, `ML backend "${id}"`)],
      statements: [deps.db.delete(mlBackends).where(eq(mlBackends.id, id))],
      audit: { action: 'delete', entityType: 'ml_backend', entityId: id, before: toApiMlBackend(before) },
    },
  };
}

/** Deletes an ML backend. */
export async function deleteMlBackend(deps: Deps, id: string, ifMatch: string | undefined): Promise<void> {
  await commitPrepared(deps, prepareMlBackendDelete(deps, storeView(deps.db), id, ifMatch));
  forgetMlBackend(id);
}
