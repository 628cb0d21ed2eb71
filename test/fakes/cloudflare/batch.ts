import type { ErrorObject, ValidateFunction } from 'ajv';
import type { ContractOperation } from './contract';
import { type HandlerContext, type Reply, fail, handlers, ok, recordConflict } from './handlers';
import { DEFAULT_BATCH_LIMIT, type FakeRecord, type FakeState } from './state';

// `POST /zones/{zone_id}/dns_records/batch`, as Cloudflare documents it: deletes, then patches, then puts, then posts,
// in one transaction (any element refused → nothing applied, the whole batch answered with that element's error), at
// most 200 records per batch on the Free plan. The trimmed schema predates the endpoint, so each element is checked
// against the single-record schema of its kind (posts and puts: the create body; patches: the PATCH body), and each
// element is applied by the single-record handler, so a batch can never accept what a single call would refuse.

export const BATCH_OPERATION = 'dns-records-for-a-zone-batch-dns-records';
const CREATE = 'dns-records-for-a-zone-create-dns-record';
const PATCH = 'dns-records-for-a-zone-patch-dns-record';
const DELETE = 'dns-records-for-a-zone-delete-dns-record';

type Element = Record<string, unknown>;
interface BatchBody {
  deletes?: { id: string }[];
  patches?: Element[];
  puts?: Element[];
  posts?: Element[];
}

const describe = (where: string, errors: ErrorObject[] | null | undefined): string[] =>
  (errors ?? [])
    .slice(0, 5)
    .map((e) => `${where}${e.instancePath} ${e.message ?? 'is invalid'}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);

const asBody = (body: unknown): BatchBody => (body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as BatchBody) : {});
const list = (items: unknown): Element[] =>
  Array.isArray(items) ? items.filter((i): i is Element => i !== null && typeof i === 'object') : [];

/** Checks every element of a batch against the single-record schemas (the batch's own schema checks only its shape). */
export function checkBatchElements(operations: ContractOperation[], state: FakeState, body: unknown): string[] {
  const validator = (operationId: string): ValidateFunction => {
    const found = operations.find((o) => o.operationId === operationId)?.validateBody;
    if (!found) throw new Error(`the contract has no body schema for ${operationId}`);
    return found;
  };
  const create = validator(CREATE);
  const patch = validator(PATCH);
  const problems: string[] = [];
  const check = (validate: ValidateFunction, where: string, element: unknown) => {
    if (!validate(element)) problems.push(...describe(where, validate.errors));
  };
  const batch = asBody(body);
  list(batch.posts).forEach((element, i) => check(create, `body/posts/${i}`, element));
  list(batch.puts).forEach(({ id: _id, ...element }, i) => check(create, `body/puts/${i}`, element));
  list(batch.patches).forEach(({ id, ...element }, i) => {
    // As for a single PATCH: without `type`, checked against the schema of the record's own type.
    const type = state.records.get(String(id))?.type;
    check(patch, `body/patches/${i}`, 'type' in element || !type ? element : { type, ...element });
  });
  return problems;
}

const errorOf = (reply: Reply): { code: number; message: string } => {
  const first = (reply.body as { errors?: { code: number; message: string }[] }).errors?.[0];
  return first ?? { code: 10002, message: 'unknown error' };
};

/** A PUT replaces the whole record (the trimmed schema dropped the single PUT; its body is the create body). */
function put(ctx: HandlerContext, id: string, element: Element): Reply {
  const record = ctx.state.records.get(id);
  if (!record || record.zone_id !== ctx.params.zone_id) return fail(404, 81044, 'Record does not exist.');
  const next = element as Partial<FakeRecord> & { type: string; name: string; content: string };
  if (recordConflict(ctx.state, record.zone_id, next.name, next.type, record.id))
    return fail(400, 81053, 'An A, AAAA, or CNAME record with that host already exists.');
  Object.assign(record, {
    type: next.type,
    name: next.name,
    content: next.content,
    proxied: next.proxied ?? false,
    ttl: next.ttl ?? 1,
    comment: next.comment ?? null,
    tags: next.tags ?? [],
    modified_on: ctx.now(),
  });
  return ok(record);
}

/** Applies a batch in Cloudflare's order, all or nothing. */
export function batchHandler(ctx: HandlerContext): Reply {
  const zone = ctx.state.zones.get(ctx.params.zone_id ?? '');
  if (!zone || zone.account.id !== ctx.account)
    return fail(404, 7003, 'Could not route to /zones/…/dns_records/batch, perhaps your object identifier is invalid?');
  const policy = ctx.state.batchPolicies.get(ctx.account);
  if (policy?.refuse) return fail(policy.refuse.status, policy.refuse.code, 'DNS record batches are not available for this account');
  const body = asBody(ctx.body);
  const groups = { deletes: list(body.deletes), patches: list(body.patches), puts: list(body.puts), posts: list(body.posts) };
  const count = groups.deletes.length + groups.patches.length + groups.puts.length + groups.posts.length;
  const limit = policy?.limit ?? DEFAULT_BATCH_LIMIT;
  // The code is the fake's own (Cloudflare's error code for an oversized batch is not documented).
  if (count > limit) return fail(400, 1004, `A batch may change at most ${limit} records on this zone's plan; this one has ${count}`);

  const before = [...ctx.state.records].map(([id, record]) => [id, structuredClone(record)] as const);
  const rollback = (group: string, index: number, reply: Reply): Reply => {
    ctx.state.records.clear();
    for (const [id, record] of before) ctx.state.records.set(id, record);
    const { code, message } = errorOf(reply);
    return fail(reply.status, code, `${group}[${index}]: ${message}`);
  };
  const single = (operationId: string, id: string | undefined, element: unknown): Reply => {
    const handler = handlers[operationId];
    if (!handler) return fail(501, 10001, `the fake does not implement ${operationId}`);
    return handler({ ...ctx, params: { zone_id: zone.id, ...(id === undefined ? {} : { dns_record_id: id }) }, body: element });
  };
  const result: Record<'deletes' | 'patches' | 'puts' | 'posts', unknown[]> = { deletes: [], patches: [], puts: [], posts: [] };
  for (const [i, { id }] of groups.deletes.entries()) {
    const record = ctx.state.records.get(String(id));
    const reply = single(DELETE, String(id), undefined);
    if (reply.status !== 200) return rollback('deletes', i, reply);
    result.deletes.push(structuredClone(record));
  }
  for (const [i, { id, ...element }] of groups.patches.entries()) {
    const reply = single(PATCH, String(id), element);
    if (reply.status !== 200) return rollback('patches', i, reply);
    result.patches.push(structuredClone((reply.body as { result: unknown }).result));
  }
  for (const [i, { id, ...element }] of groups.puts.entries()) {
    const reply = put({ ...ctx, params: { zone_id: zone.id } }, String(id), element);
    if (reply.status !== 200) return rollback('puts', i, reply);
    result.puts.push(structuredClone((reply.body as { result: unknown }).result));
  }
  for (const [i, element] of groups.posts.entries()) {
    const reply = single(CREATE, undefined, element);
    if (reply.status !== 200) return rollback('posts', i, reply);
    result.posts.push(structuredClone((reply.body as { result: unknown }).result));
  }
  return ok(result);
}
