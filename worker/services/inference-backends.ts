import { asc, eq, gt, sql } from 'drizzle-orm';
import type {
  InferenceBackend,
  InferenceBackendCreate,
  InferenceBackendUpdate,
  ListQuery,
  UpstreamCredentials,
} from '../../src/shared/api';
import { encryptSecret } from '../crypto';
import { unchangedSince } from '../db/guards';
import { inferenceBackends, mlBackends } from '../db/schema';
import type { Guard } from '../db/write';
import { storeView, type StoreView } from '../db/view';
import { toApiInferenceBackend } from '../db/mappers';
import type { Deps } from '../deps';
import { AppError, notFound } from '../errors';
import { checkIfMatch } from './etag';
import { forgetInferenceBackends } from './inference-cache';
import { resetInferenceMetrics } from './inference-metrics';
import { decodeCursor, toPage } from './pagination';
import { commitPrepared, type Prepared } from './prepared';

type Row = typeof inferenceBackends.$inferSelect;

function encryptionKey(deps: Deps): string {
  const key = deps.config.EDGEPLANE_ENCRYPTION_KEY;
  if (!key) {
    throw new AppError('unavailable', 'upstream credentials cannot be stored: set EDGEPLANE_ENCRYPTION_KEY (openssl rand -base64 32)');
  }
  return key;
}

async function sealCredentials(deps: Deps, credentials: UpstreamCredentials | null) {
  if (!credentials) return { credentialsKind: null, credentialsCiphertext: null };
  return {
    credentialsKind: credentials.type,
    credentialsCiphertext: await encryptSecret(encryptionKey(deps), JSON.stringify(credentials)),
  };
}

const oneDefault = (id: string): Guard => ({
  holds: sql`NOT EXISTS (SELECT 1 FROM ${inferenceBackends} WHERE ${inferenceBackends.isDefault} = 1 AND ${inferenceBackends.id} <> ${id})`,
  error: new AppError('conflict', 'another backend is already the default; set "default": false on it first', {
    details: [{ path: 'body.default', message: 'only one backend can be the default' }],
  }),
});

async function checkOneDefault(view: StoreView, id: string): Promise<void> {
  const other = await view.otherDefaultInferenceBackend(id);
  if (other) {
    throw new AppError('conflict', `backend "${other.id}" is already the default; set "default": false on it first`, {
      details: [{ path: 'body.default', message: `"${other.id}" is the default` }],
    });
  }
}

async function viewBackend(view: StoreView, id: string): Promise<Row> {
  const row = await view.inferenceBackend(id);
  if (!row) throw notFound('inference backend', id);
  return row;
}

/** Loads a backend row or answers 404. */
export async function loadInferenceBackend(deps: Pick<Deps, 'db'>, id: string): Promise<Row> {
  const row = await deps.db.query.inferenceBackends.findFirst({ where: eq(inferenceBackends.id, id) });
  if (!row) throw notFound('inference backend', id);
  return row;
}

/** Lists backends by id. */
export async function listInferenceBackends(deps: Deps, query: ListQuery) {
  const after = decodeCursor(query.cursor);
  const rows = await deps.db
    .select()
    .from(inferenceBackends)
    .where(after ? gt(inferenceBackends.id, after) : undefined)
    .orderBy(asc(inferenceBackends.id))
    .limit(query.limit + 1);
  return toPage(rows, query.limit, toApiInferenceBackend);
}

/** Returns one backend. */
export async function getInferenceBackend(deps: Deps, id: string): Promise<InferenceBackend> {
  return toApiInferenceBackend(await loadInferenceBackend(deps, id));
}

/** Decides a backend create against `view`; its credentials are encrypted before they are stored. */
export async function prepareInferenceBackendCreate(
  deps: Deps,
  view: StoreView,
  input: InferenceBackendCreate,
): Promise<Prepared<InferenceBackend>> {
  if (await view.inferenceBackend(input.id)) {
    throw new AppError('conflict', `inference backend "${input.id}" already exists`, {
      details: [{ path: 'body.id', message: 'already in use' }],
    });
  }
  if (input.default) await checkOneDefault(view, input.id);
  const at = deps.now().toISOString();
  const row: Row = {
    id: input.id,
    upstreams: input.upstreams,
    models: input.models,
    isDefault: input.default,
    balance: input.balance,
    ...(await sealCredentials(deps, input.credentials)),
    timeouts: input.timeouts,
    retry: input.retry,
    maxBodyBytes: input.maxBodyBytes,
    version: 1,
    createdAt: at,
    updatedAt: at,
  };
  const created = toApiInferenceBackend(row);
  return {
    result: created,
    rows: [{ table: 'inferenceBackends', put: row }],
    write: {
      guards: input.default ? [oneDefault(input.id)] : [],
      statements: [deps.db.insert(inferenceBackends).values(row)],
      audit: { action: 'create', entityType: 'inference_backend', entityId: row.id, after: created },
    },
  };
}

/** Creates a backend. */
export async function createInferenceBackend(deps: Deps, input: InferenceBackendCreate): Promise<InferenceBackend> {
  const created = await commitPrepared(deps, prepareInferenceBackendCreate(deps, storeView(deps.db), input));
  // The inference path caches backends per isolate (ADR 0014); a new default must replace a cached one here at once.
  forgetInferenceBackends();
  return created;
}

/** Decides a backend change against `view`; `credentials: null` removes them, absent keeps them. */
export async function prepareInferenceBackendUpdate(
  deps: Deps,
  view: StoreView,
  id: string,
  input: InferenceBackendUpdate,
  ifMatch?: string,
): Promise<Prepared<InferenceBackend>> {
  const before = await viewBackend(view, id);
  checkIfMatch(ifMatch, before, `inference backend "${id}"`);
  if (input.default) await checkOneDefault(view, id);
  const after: Row = {
    ...before,
    upstreams: input.upstreams ?? before.upstreams,
    models: input.models === undefined ? before.models : input.models,
    isDefault: input.default ?? before.isDefault,
    balance: input.balance ?? before.balance,
    ...(input.credentials === undefined ? {} : await sealCredentials(deps, input.credentials)),
    timeouts: input.timeouts ?? before.timeouts,
    retry: input.retry ?? before.retry,
    maxBodyBytes: input.maxBodyBytes ?? before.maxBodyBytes,
    version: before.version + 1,
    updatedAt: deps.now().toISOString(),
  };
  const { id: _id, createdAt: _created, ...changes } = after;
  return {
    result: toApiInferenceBackend(after),
    rows: [{ table: 'inferenceBackends', put: after }],
    write: {
      guards: [
        unchangedSince(inferenceBackends, id, before.version, `inference backend "${id}"`),
        ...(after.isDefault ? [oneDefault(id)] : []),
      ],
      statements: [deps.db.update(inferenceBackends).set(changes).where(eq(inferenceBackends.id, id))],
      audit: {
        action: 'update',
        entityType: 'inference_backend',
        entityId: id,
        before: toApiInferenceBackend(before),
        after: toApiInferenceBackend(after),
      },
    },
  };
}

/** Changes a backend. */
export async function updateInferenceBackend(
  deps: Deps,
  id: string,
  input: InferenceBackendUpdate,
  ifMatch?: string,
): Promise<InferenceBackend> {
  const updated = await commitPrepared(deps, prepareInferenceBackendUpdate(deps, storeView(deps.db), id, input, ifMatch));
  forgetInferenceBackends();
  return updated;
}

/** Decides a backend delete against `view`; 409 while an ML backend still uses it. */
export async function prepareInferenceBackendDelete(deps: Deps, view: StoreView, id: string, ifMatch?: string): Promise<Prepared<null>> {
  const before = await viewBackend(view, id);
  checkIfMatch(ifMatch, before, `inference backend "${id}"`);
  const users = (await view.mlBackendsOfBackend(id)).slice(0, 5);
  if (users.length > 0) {
    throw new AppError(
      'conflict',
      `inference backend "${id}" is used by ML backend(s) ${users.map((u) => `"${u.id}"`).join(', ')}; delete them first`,
    );
  }
  return {
    result: null,
    rows: [{ table: 'inferenceBackends', delete: id }],
    write: {
      guards: [
        unchangedSince(inferenceBackends, id, before.version, `inference backend "${id}"`),
        {
          holds: sql`NOT EXISTS (SELECT 1 FROM ${mlBackends} WHERE ${mlBackends.backendId} = ${id})`,
          error: new AppError('conflict', `inference backend "${id}" gained an ML backend while it was being deleted; delete that first`),
        },
      ],
      statements: [deps.db.delete(inferenceBackends).where(eq(inferenceBackends.id, id))],
      audit: { action: 'delete', entityType: 'inference_backend', entityId: id, before: toApiInferenceBackend(before) },
    },
  };
}

/** Deletes a backend. */
export async function deleteInferenceBackend(deps: Deps, id: string, ifMatch: string | undefined): Promise<void> {
  await commitPrepared(deps, prepareInferenceBackendDelete(deps, storeView(deps.db), id, ifMatch));
  forgetInferenceBackends();
  await resetInferenceMetrics(deps.env, id);
}
