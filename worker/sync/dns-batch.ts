import { APIError } from 'cloudflare/core/error';
import type { RecordBatchResponse, RecordResponse } from 'cloudflare/resources/dns/records';
import { type SyncContext, describeError, rateLimitWait, statusOf } from './context';
import type { DnsBookkeeping } from './dns-bookkeeping';
import { type DnsStep, planDns, recordResults, writeOne } from './dns';

// A bulk change must not become one Cloudflare call per hostname: the drain decides every hostname's write first
// (planDns), then sends each zone's writes as `POST /zones/{zone_id}/dns_records/batch` (at most DNS_BATCH_MAX
// records each). Cloudflare applies a batch as one transaction (deletes, then patches, puts, posts), so a batch either
// changes every record in it or none. Ownership stays exact: a batch only holds writes planDns decided, which patch or
// delete records listed in cf_dns_records and create records on names no foreign CNAME/A/AAAA holds.

/** Records per batch: the Free plan's limit (Pro and up allow 3,500), so one size fits every zone. */
export const DNS_BATCH_MAX = 200;

/** How long an account where Cloudflare refused the batch endpoint uses single calls before asking again. */
export const BATCH_REFUSAL_MS = 24 * 60 * 60_000;

/** What happened to each hostname: null = reconciled, otherwise the error. A hostname not in the map was not reached. */
export type DnsResults = Map<string, unknown>;

const chunk = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** Cloudflare's DNS record errors (81xxx): one element of the batch was refused, not the endpoint itself. */
const elementError = (error: unknown): boolean =>
  error instanceof APIError &&
  (error.errors as { code?: unknown }[]).some((e) => typeof e.code === 'number' && e.code >= 81000 && e.code < 82000);

/**
 * The batch endpoint is not available to this account or token: forbidden, unknown path or method, or an answer that
 * says batches are not available. Such an account is remembered and served with single calls.
 */
export function batchRefused(error: unknown): boolean {
  if (elementError(error)) return false;
  const status = statusOf(error);
  if (status === 403 || status === 404 || status === 405 || status === 501) return true;
  return (
    error instanceof APIError && /batch/i.test(error.message) && /\b(not|un)\s?(available|enabled|supported|allowed)/i.test(error.message)
  );
}

const batchAllowed = (ctx: SyncContext): boolean => ctx.dnsBatch.refusedUntil <= ctx.now().getTime();

async function rememberRefusal(ctx: SyncContext, error: unknown): Promise<void> {
  const reason = describeError(error);
  ctx.dnsBatch.refusedUntil = ctx.now().getTime() + BATCH_REFUSAL_MS;
  ctx.dnsBatch.reason = reason;
  console.warn(JSON.stringify({ event: 'dns_batch_refused', account: ctx.account, error: reason }));
  await ctx.dnsBatch.save({ refusedUntil: ctx.dnsBatch.refusedUntil, reason });
}

/**
 * Pairs each written step with the record Cloudflare answered for it: posts by name (then by position, the order they
 * were sent in, should Cloudflare spell a name differently), patches by id.
 */
function recordsOf(steps: DnsStep[], answer: RecordBatchResponse): Map<DnsStep, RecordResponse | null> {
  const byStep = new Map<DnsStep, RecordResponse | null>();
  const posted = answer.posts ?? [];
  let postIndex = 0;
  for (const step of steps) {
    const write = step.write;
    if (!write || write.kind === 'delete') byStep.set(step, null);
    else if (write.kind === 'post') {
      const name = write.body.name.toLowerCase();
      byStep.set(step, posted.find((r) => r.name.toLowerCase() === name) ?? posted[postIndex] ?? null);
      postIndex += 1;
    } else byStep.set(step, answer.patches?.find((r) => r.id === write.recordId) ?? null);
  }
  return byStep;
}

/** One zone's batch; throws what Cloudflare answered when it refused the batch as a whole. */
async function sendBatch(ctx: SyncContext, zoneId: string, steps: DnsStep[]): Promise<Map<DnsStep, RecordResponse | null>> {
  const deletes: { id: string }[] = [];
  const patches: (DnsStep['write'] & { kind: 'patch' })['body'][] = [];
  const patchIds: string[] = [];
  const posts: (DnsStep['write'] & { kind: 'post' })['body'][] = [];
  for (const { write } of steps) {
    if (write?.kind === 'delete') deletes.push({ id: write.recordId });
    if (write?.kind === 'patch') {
      patches.push(write.body);
      patchIds.push(write.recordId);
    }
    if (write?.kind === 'post') posts.push(write.body);
  }
  const answer = await ctx.cf.dns.records.batch({
    zone_id: zoneId,
    ...(deletes.length ? { deletes } : {}),
    ...(patches.length ? { patches: patches.map((body, i) => ({ id: patchIds[i] ?? '', ...body })) } : {}),
    ...(posts.length ? { posts } : {}),
  });
  return recordsOf(steps, answer);
}

interface Run {
  results: DnsResults;
  entries: DnsBookkeeping[];
  /** Set when the token's rate limit stopped the run: nothing more is sent this drain. */
  stopped: boolean;
}

/** Finishes a step whose write succeeded: its bookkeeping joins the run's next D1 batch. */
function finished(run: Run, step: DnsStep, record: RecordResponse | null): void {
  try {
    const entry = step.finish(record);
    if (entry) run.entries.push(entry);
    run.results.set(step.hostname, null);
  } catch (error) {
    run.results.set(step.hostname, error);
  }
}

/** Records the run's results in one D1 batch; if D1 fails, those hostnames are failed (and retried later). */
async function flush(ctx: SyncContext, run: Run, hostnames: string[]): Promise<void> {
  const entries = run.entries.splice(0);
  try {
    await recordResults(ctx, entries);
  } catch (error) {
    for (const hostname of hostnames) if (run.results.get(hostname) === null) run.results.set(hostname, error);
  }
}

/** Each write on its own call: for an account without batches, or to find which element a refused batch tripped on. */
async function sendSingly(ctx: SyncContext, run: Run, steps: DnsStep[]): Promise<void> {
  for (const step of steps) {
    if (run.stopped) return;
    try {
      finished(run, step, step.write ? await writeOne(ctx, step.write) : null);
    } catch (error) {
      run.results.set(step.hostname, error);
      if (rateLimitWait(error, ctx.budget)) run.stopped = true;
    }
  }
}

/** Sends one zone's writes (at most DNS_BATCH_MAX) as one batch, falling back to single calls where that is right. */
async function sendZoneChunk(ctx: SyncContext, run: Run, zoneId: string, steps: DnsStep[]): Promise<void> {
  if (steps.length === 1 || !batchAllowed(ctx)) return sendSingly(ctx, run, steps);
  try {
    const records = await sendBatch(ctx, zoneId, steps);
    for (const step of steps) finished(run, step, records.get(step) ?? null);
    return;
  } catch (error) {
    if (rateLimitWait(error, ctx.budget)) {
      for (const step of steps) run.results.set(step.hostname, error);
      run.stopped = true;
      return;
    }
    if (batchRefused(error)) {
      await rememberRefusal(ctx, error);
      return sendSingly(ctx, run, steps);
    }
    const status = statusOf(error);
    // The batch was refused as a whole because of one element (a record that appeared or went since it was listed):
    // nothing was applied, so send each write alone and let every hostname succeed or fail on its own.
    if (status !== undefined && status >= 400 && status < 500) return sendSingly(ctx, run, steps);
    // 5xx, a timeout, a lost connection: every hostname of the batch fails with it and is retried with backoff.
    for (const step of steps) run.results.set(step.hostname, error);
  }
}

/**
 * Reconciles many hostnames (outbox mode) with one Cloudflare call per zone per DNS_BATCH_MAX writes. Returns each
 * hostname's result; hostnames not in the map were not reached because the token's rate limit stopped the run.
 */
export async function reconcileDnsBatched(ctx: SyncContext, hostnames: string[]): Promise<DnsResults> {
  const run: Run = { results: new Map(), entries: [], stopped: false };
  const byZone = new Map<string, DnsStep[]>();
  const settled: string[] = [];
  for (const hostname of hostnames) {
    let step: DnsStep;
    try {
      step = await planDns(ctx, hostname, { mode: 'outbox' });
    } catch (error) {
      run.results.set(hostname, error);
      if (rateLimitWait(error, ctx.budget)) {
        run.stopped = true;
        break;
      }
      continue;
    }
    if (!step.write) {
      finished(run, step, null);
      settled.push(hostname);
      continue;
    }
    byZone.set(step.write.zoneId, [...(byZone.get(step.write.zoneId) ?? []), step]);
  }
  await flush(ctx, run, settled);
  for (const [zoneId, steps] of byZone) {
    // Even parts of at most DNS_BATCH_MAX (201 writes: 101 + 100, not 200 + a lone one).
    for (const part of chunk(steps, Math.ceil(steps.length / Math.ceil(steps.length / DNS_BATCH_MAX)))) {
      if (run.stopped) return run.results;
      await sendZoneChunk(ctx, run, zoneId, part);
      // Ownership right after each write: a record edgeplane created is recorded before the next call can fail.
      await flush(
        ctx,
        run,
        part.map((s) => s.hostname),
      );
    }
  }
  return run.results;
}
