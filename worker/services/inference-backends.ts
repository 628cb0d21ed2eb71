import { and, asc, eq, gt, ne } from 'drizzle-orm';
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
import { commit } from '../effects/commit';
import { toApiInferenceBackend } from '../db/mappers';
import type { Deps } from '../deps';
import { AppError, notFound } from '../errors';
import { checkIfMatch } from './etag';
import { forgetInferenceBackends } from './inference-cache';
import { decodeCursor, toPage } from './pagination';
import { sql } from 'drizzle-orm';

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

async function checkOneDefault(deps: Deps, id: string): Promise<void> {
  const other = await deps.db
    .select({ id: inferenceBackends.id })
    .from(inferenceBackends)
    .where(and(eq(inferenceBackends.isDefault, true), ne(inferenceBackends.id, id)))
    .limit(1);
  if (other[0]) {
    throw new AppError('conflict', `backend "${other[0].id}" is already the default; set "default": false on it first`, {
      details: [{ path: 'body.default', message: `"${other[0].id}" is the default` }],
    });
  }
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

/** Creates a backend; its credentials are encrypted before they are stored. */
export async function createInferenceBackend(deps: Deps, input: InferenceBackendCreate): Promise<InferenceBackend> {
  if (await deps.db.query.inferenceBackends.findFirst({ where: eq(inferenceBackends.id, input.id) })) {
    throw new AppError('conflict', `inference backend "${input.id}" already exists`, {
      details: [{ path: 'body.id', message: 'already in use' }],
    });
  }
  if (input.default) await checkOneDefault(deps, input.id);
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
  await commit(deps, {
    guards: input.default ? [oneDefault(input.id)] : [],
    statements: [deps.db.insert(inferenceBackends).values(row)],
    audit: { action: 'create', entityType: 'inference_backend', entityId: row.id, after: created },
  });
  // The inference path caches backends per isolate (ADR 0014); a new default must replace a cached one here at once.
  forgetInferenceBackends();
  return created;
}

/** Changes a backend; `credentials: null` removes them, absent keeps them. */
export async function updateInferenceBackend(
  deps: Deps,
  id: string,
  input: InferenceBackendUpdate,
  ifMatch?: string,
): Promise<InferenceBackend> {
  const before = await loadInferenceBackend(deps, id);
  checkIfMatch(ifMatch, before, `inference backend "${id}"`);
  if (input.default) await checkOneDefault(deps, id);
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
  await commit(deps, {
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
  });
  forgetInferenceBackends();
  return toApiInferenceBackend(after);
}

/** Deletes a backend; 409 while an ML backend still uses it. */
export async function deleteInferenceBackend(deps: Deps, id: string, ifMatch: string | undefined): Promise<void> {
  const before = await loadInferenceBackend(deps, id);
  checkIfMatch(ifMatch, before, `inference backend "${id}"`);
  const users = await deps.db.select({ id: mlBackends.id }).from(mlBackends).where(eq(mlBackends.backendId, id)).limit(5);
  if (users.length > 0) {
    throw new AppError(
      'conflict',
      `inference backend "${id}" is used by ML backend(s) ${users.map((u) => `"${u.id}"`).join(', ')}; delete them first`,
    );
  }
  await commit(deps, {
    guards: [
      unchangedSince(inferenceBackends, id, before.version, `inference backend "${id}"`),
      {
        holds: sql`NOT EXISTS (SELECT 1 FROM ${mlBackends} WHERE ${mlBackends.backendId} = ${id})`,
        error: new AppError('conflict', `inference backend "${id}" gained an ML backend while it was being deleted; delete that first`),
      },
    ],
    statements: [deps.db.delete(inferenceBackends).where(eq(inferenceBackends.id, id))],
    audit: { action: 'delete', entityType: 'inference_backend', entityId: id, before: toApiInferenceBackend(before) },
  });
  forgetInferenceBackends();
}
