import { DurableObject } from 'cloudflare:workers';
import { type Deps, openDb } from '../deps';
import { configOf } from '../env';
import { newId } from '../ids';
import { cloudflareClient } from './client';
import { type DnsBatchMemory, type SyncContext, describeError, emptyZoneCache } from './context';
import { noteAccountError } from './sync-state';
import { type DrainReport, drainOutbox } from './drain';
import { type DriftReport, checkDrift } from './drift';
import { SharedBudget, tokenBudget } from './token-budget';

const DEFAULT_DEBOUNCE_MS = 1_500;
const DEFAULT_TIMEOUT_MS = 30_000;
const RETRY_AFTER_FAILURE_MS = 10 * 60_000;
const DNS_BATCH_KEY = 'dnsBatch';

/**
 * The single writer of one Cloudflare account (`idFromName(account)`): every change to Cloudflare goes through it, so
 * two drains never race. A kick arms an alarm a short time after the first change (bursts of edits become one drain);
 * the alarm drains the outbox and re-arms itself for the earliest retry or the end of a rate-limit wait.
 */
export class AccountWriter extends DurableObject<Env> {
  private readonly zones = emptyZoneCache();
  /** Whether Cloudflare refused this account the DNS batch endpoint (read from storage once per object). */
  private dnsBatch: DnsBatchMemory | undefined;
  private running: Promise<unknown> = Promise.resolve();

  /** Notes that the account has work; the drain starts after the debounce unless one is already scheduled sooner. */
  async kick(account: string, options: { immediate?: boolean } = {}): Promise<void> {
    await this.ctx.storage.put('account', account);
    const at = Date.now() + (options.immediate ? 0 : this.debounceMs());
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  override async alarm(): Promise<void> {
    const account = await this.ctx.storage.get<string>('account');
    if (!account) return;
    try {
      const report = await this.drain(account);
      if (report.nextRunAt) await this.ctx.storage.setAlarm(Math.max(Date.parse(report.nextRunAt), Date.now() + this.debounceMs()));
    } catch (error) {
      // Not configured (no API token) or D1 unavailable: say so on the account in GET /v1/sync and try again later;
      // the rows stay pending, and a kick or the cron starts the writer sooner.
      const message = describeError(error);
      console.error(JSON.stringify({ event: 'sync_drain_failed', account, error: message }));
      await noteAccountError(openDb(this.env.DB), account, message);
      await this.ctx.storage.setAlarm(Date.now() + RETRY_AFTER_FAILURE_MS);
    }
  }

  /** Drains the account's due outbox rows now (serialised with any drain already running). */
  async drain(account: string, runId: string = newId('sync')): Promise<DrainReport> {
    await this.ctx.storage.put('account', account);
    return this.exclusive((ctx) => drainOutbox(ctx), account, runId);
  }

  /** Re-reads the remote state of the account and reports (or reverts) drift. */
  async driftCheck(account: string, runId: string = newId('drift')): Promise<DriftReport> {
    await this.ctx.storage.put('account', account);
    return this.exclusive((ctx) => checkDrift(ctx), account, runId);
  }

  private timeoutMs(): number {
    const configured = Number(this.env.EDGEPLANE_CLOUDFLARE_TIMEOUT_MS);
    return Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_TIMEOUT_MS;
  }

  private debounceMs(): number {
    const configured = Number(this.env.EDGEPLANE_SYNC_DEBOUNCE_MS);
    return Number.isFinite(configured) && configured >= 0 ? configured : DEFAULT_DEBOUNCE_MS;
  }

  private async dnsBatchMemory(): Promise<DnsBatchMemory> {
    if (this.dnsBatch) return this.dnsBatch;
    const stored = await this.ctx.storage.get<{ refusedUntil: number; reason: string | null }>(DNS_BATCH_KEY);
    this.dnsBatch = {
      refusedUntil: stored?.refusedUntil ?? 0,
      reason: stored?.reason ?? null,
      save: (memory) => this.ctx.storage.put(DNS_BATCH_KEY, memory),
    };
    return this.dnsBatch;
  }

  private async exclusive<T>(work: (ctx: SyncContext) => Promise<T>, account: string, runId: string): Promise<T> {
    const run = this.running.then(async () => {
      const config = configOf(this.env);
      // The budget is the token's, shared with every other account's writer that uses the same token.
      const budget = new SharedBudget(await tokenBudget(this.env, config.CLOUDFLARE_API_TOKEN ?? ''));
      const db = openDb(this.env.DB);
      const deps: Deps = {
        db,
        config,
        env: this.env,
        now: () => new Date(),
        requestId: runId,
        actor: { id: 'cloudflare-sync', role: 'admin' },
        defer: (promise) => this.ctx.waitUntil(promise),
      };
      const ctx: SyncContext = {
        deps,
        db,
        config,
        cf: cloudflareClient(
          config,
          budget.wrap((input, init) => fetch(input, init)),
          this.timeoutMs(),
        ),
        budget,
        account,
        now: () => new Date(),
        zones: this.zones,
        records: new Map(),
        dnsPlans: new Map(),
        dnsBatch: await this.dnsBatchMemory(),
        runId,
      };
      return work(ctx);
    });
    // The next run waits for this one whether it succeeds or fails.
    this.running = run.catch(() => undefined);
    return run;
  }
}
