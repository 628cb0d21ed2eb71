import { and, asc, eq, gt } from 'drizzle-orm';
import type { ListQuery, SplitTunnelCreate, SplitTunnelEntry, SplitTunnelUpdate } from '../../src/shared/api';
import { unchangedSince } from '../db/guards';
import { splitTunnelEntries, tunnels } from '../db/schema';
import { storeView, type StoreView } from '../db/view';
import type { OutboxIntent } from '../db/write';
import { toApiSplitTunnelEntry } from '../db/mappers';
import type { Deps } from '../deps';
import { AppError, notFound } from '../errors';
import { newId } from '../ids';
import { checkIfMatch } from './etag';
import { decodeCursor, toPage } from './pagination';
import { commitPrepared, type Prepared } from './prepared';

type Row = typeof splitTunnelEntries.$inferSelect;

async function loadEntry(deps: Deps, id: string): Promise<Row> {
  const row = await deps.db.query.splitTunnelEntries.findFirst({ where: eq(splitTunnelEntries.id, id) });
  if (!row) throw notFound('split-tunnel entry', id);
  return row;
}

/** Refuses to change an entry made outside edgeplane: those are mirrored read-only and never touched. */
function refuseForeign(row: Row): void {
  if (row.owner === 'foreign') {
    throw new AppError(
      'conflict',
      `split-tunnel entry ${row.address ?? row.host ?? row.id} was made outside edgeplane; it is shown read-only and never changed or deleted by edgeplane`,
    );
  }
}

/** Lists split-tunnel entries (edgeplane's and foreign ones), optionally of one profile and mode. */
export async function listSplitTunnelEntries(deps: Deps, query: ListQuery & { profile?: string; mode?: 'include' | 'exclude' }) {
  const after = decodeCursor(query.cursor);
  const rows = await deps.db
    .select()
    .from(splitTunnelEntries)
    .where(
      and(
        after ? gt(splitTunnelEntries.id, after) : undefined,
        query.profile ? eq(splitTunnelEntries.profile, query.profile) : undefined,
        query.mode ? eq(splitTunnelEntries.mode, query.mode) : undefined,
      ),
    )
    .orderBy(asc(splitTunnelEntries.id))
    .limit(query.limit + 1);
  return toPage(rows, query.limit, toApiSplitTunnelEntry);
}

/** Returns one entry. */
export async function getSplitTunnelEntry(deps: Deps, id: string): Promise<SplitTunnelEntry> {
  return toApiSplitTunnelEntry(await loadEntry(deps, id));
}

/** The account an entry belongs to: given, else CLOUDFLARE_ACCOUNT_ID, else the one account all tunnels use. */
export async function resolveAccount(deps: Deps, given: string | undefined): Promise<string> {
  if (given) return given;
  if (deps.config.CLOUDFLARE_ACCOUNT_ID) return deps.config.CLOUDFLARE_ACCOUNT_ID;
  const accounts = await deps.db.selectDistinct({ account: tunnels.account }).from(tunnels).limit(2);
  if (accounts.length === 1 && accounts[0]) return accounts[0].account;
  throw new AppError('validation_failed', 'body.account: which Cloudflare account? give "account", or configure CLOUDFLARE_ACCOUNT_ID', {
    details: [{ path: 'body.account', message: 'required when the account cannot be inferred' }],
  });
}

const syncIntent = (row: Row): OutboxIntent => ({ account: row.account, kind: 'split_tunnel', target: `${row.profile}:${row.mode}` });

async function viewEntry(view: StoreView, id: string): Promise<Row> {
  const row = await view.splitTunnelEntry(id);
  if (!row) throw notFound('split-tunnel entry', id);
  return row;
}

/** Decides adding an edgeplane-owned entry; the sync merges it into the profile's list without touching foreign entries. */
export async function prepareSplitTunnelCreate(
  deps: Deps,
  view: StoreView,
  input: SplitTunnelCreate & { account?: string },
): Promise<Prepared<SplitTunnelEntry>> {
  const account = await resolveAccount(deps, input.account);
  const target = input.address ?? input.host ?? '';
  const duplicate = await view.splitTunnelEntryByKey({ account, profile: input.profile, mode: input.mode, target });
  if (duplicate) {
    const owner = duplicate.owner === 'foreign' ? ' (made outside edgeplane)' : '';
    throw new AppError(
      'conflict',
      `${target} is already in the ${input.mode} list of profile "${input.profile}" as entry ${duplicate.id}${owner}`,
      {
        details: [{ path: input.address ? 'body.address' : 'body.host', message: `duplicate of ${duplicate.id}` }],
      },
    );
  }
  const at = deps.now().toISOString();
  const row: Row = {
    id: newId('st', deps.now()),
    account,
    profile: input.profile,
    mode: input.mode,
    address: input.address ?? null,
    host: input.host ?? null,
    target,
    description: input.description,
    owner: 'edgeplane',
    version: 1,
    createdAt: at,
    updatedAt: at,
  };
  const created = toApiSplitTunnelEntry(row);
  return {
    result: created,
    rows: [{ table: 'splitTunnelEntries', put: row }],
    write: {
      statements: [deps.db.insert(splitTunnelEntries).values(row)],
      audit: { action: 'create', entityType: 'split_tunnel_entry', entityId: row.id, after: created },
      outbox: [syncIntent(row)],
    },
  };
}

/** Adds an edgeplane-owned entry; the sync merges it into the profile's list without touching foreign entries. */
export async function createSplitTunnelEntry(deps: Deps, input: SplitTunnelCreate & { account?: string }): Promise<SplitTunnelEntry> {
  return commitPrepared(deps, prepareSplitTunnelCreate(deps, storeView(deps.db), input));
}

/** Decides a change of the description of an edgeplane-owned entry. */
export async function prepareSplitTunnelUpdate(
  deps: Deps,
  view: StoreView,
  id: string,
  input: SplitTunnelUpdate,
  ifMatch?: string,
): Promise<Prepared<SplitTunnelEntry>> {
  const before = await viewEntry(view, id);
  refuseForeign(before);
  checkIfMatch(ifMatch, before, `split-tunnel entry "${id}"`);
  const after: Row = { ...before, description: input.description, version: before.version + 1, updatedAt: deps.now().toISOString() };
  return {
    result: toApiSplitTunnelEntry(after),
    rows: [{ table: 'splitTunnelEntries', put: after }],
    write: {
      guards: [unchangedSince(splitTunnelEntries, id, before.version, `split-tunnel entry "${id}"`)],
      statements: [
        deps.db
          .update(splitTunnelEntries)
          .set({ description: after.description, version: after.version, updatedAt: after.updatedAt })
          .where(eq(splitTunnelEntries.id, id)),
      ],
      audit: {
        action: 'update',
        entityType: 'split_tunnel_entry',
        entityId: id,
        before: toApiSplitTunnelEntry(before),
        after: toApiSplitTunnelEntry(after),
      },
      outbox: [syncIntent(after)],
    },
  };
}

/** Changes the description of an edgeplane-owned entry. */
export async function updateSplitTunnelEntry(
  deps: Deps,
  id: string,
  input: SplitTunnelUpdate,
  ifMatch?: string,
): Promise<SplitTunnelEntry> {
  return commitPrepared(deps, prepareSplitTunnelUpdate(deps, storeView(deps.db), id, input, ifMatch));
}

/** Decides removing an edgeplane-owned entry. */
export async function prepareSplitTunnelDelete(deps: Deps, view: StoreView, id: string, ifMatch?: string): Promise<Prepared<null>> {
  const before = await viewEntry(view, id);
  refuseForeign(before);
  checkIfMatch(ifMatch, before, `split-tunnel entry "${id}"`);
  return {
    result: null,
    rows: [{ table: 'splitTunnelEntries', delete: id }],
    write: {
      guards: [unchangedSince(splitTunnelEntries, id, before.version, `split-tunnel entry "${id}"`)],
      statements: [deps.db.delete(splitTunnelEntries).where(eq(splitTunnelEntries.id, id))],
      audit: { action: 'delete', entityType: 'split_tunnel_entry', entityId: id, before: toApiSplitTunnelEntry(before) },
      outbox: [syncIntent(before)],
    },
  };
}

/** Removes an edgeplane-owned entry. */
export async function deleteSplitTunnelEntry(deps: Deps, id: string, ifMatch?: string): Promise<void> {
  await commitPrepared(deps, prepareSplitTunnelDelete(deps, storeView(deps.db), id, ifMatch));
}
