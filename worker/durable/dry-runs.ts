/** How long a requested dry run is offered to the agent; after that it reads as `expired`. */
export const DRY_RUN_PENDING_MS = 5 * 60_000;
/** How long a dry run (pending or completed) is kept for GET /v1/clusters/{id}/dry-runs/{dryRunId}. */
export const DRY_RUN_KEEP_MS = 15 * 60_000;
/** Dry runs waiting for one cluster's agent at once: each is a full bundle the agent applies with dryRun=All. */
export const DRY_RUN_MAX_PENDING = 5;

/** A dry run as the notifier keeps it. The bundle is encrypted by the Worker before it gets here (it holds secrets). */
export interface StoredDryRun {
  id: string;
  revision: number;
  /** ms, the Worker's clock. */
  requestedAt: number;
  /** The encrypted request the agent fetches (`{objects}`); dropped once the result is in. */
  payload: string | null;
  /** The agent's result, JSON of `AgentDryRunResult` (field paths and messages, no values). */
  result: string | null;
  completedAt: number | null;
}

/** What `putDryRun` did: told the agent (`sockets` > 0), or why it could not. */
export type DryRunPut = { stored: true; sockets: number } | { stored: false; reason: 'no_socket' | 'busy' };

const PREFIX = 'dry-run:';

/**
 * The cluster-side pre-flight's mailbox inside the cluster's notifier (ADR 0015): the plan leaves a dry run here and
 * the notify socket tells the agent; the agent fetches the pending ones over HTTPS and posts each result, which wakes
 * the plan request waiting on it. Kept in the object's storage, so an eviction between request and result loses
 * nothing; entries are swept DRY_RUN_KEEP_MS after their request.
 */
export class DryRunBox {
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(private readonly kv: SyncKvStorage) {}

  put(run: StoredDryRun, sockets: WebSocket[], now: number): DryRunPut {
    this.sweep(now);
    if (sockets.length === 0) return { stored: false, reason: 'no_socket' };
    if (this.pending(now).length >= DRY_RUN_MAX_PENDING) return { stored: false, reason: 'busy' };
    this.kv.put(PREFIX + run.id, run);
    const message = JSON.stringify({ dryRun: run.id });
    let told = 0;
    for (const socket of sockets) {
      try {
        socket.send(message);
        told++;
      } catch {
        // A socket that died without a close frame: the agent reconnects and asks for pending dry runs on connect.
      }
    }
    return { stored: true, sockets: told };
  }

  /** The dry runs still waiting for the agent (requested within DRY_RUN_PENDING_MS, no result yet). */
  pending(now: number): StoredDryRun[] {
    const out: StoredDryRun[] = [];
    for (const [, run] of this.kv.list<StoredDryRun>({ prefix: PREFIX }))
      if (run.result === null && run.payload !== null && now - run.requestedAt < DRY_RUN_PENDING_MS) out.push(run);
    return out.sort((a, b) => a.requestedAt - b.requestedAt);
  }

  /** Records the agent's result; false when the dry run is unknown, expired or already completed. */
  complete(id: string, result: string, now: number): boolean {
    const run = this.kv.get<StoredDryRun>(PREFIX + id);
    if (!run || run.result !== null || now - run.requestedAt >= DRY_RUN_PENDING_MS) return false;
    this.kv.put(PREFIX + id, { ...run, payload: null, result, completedAt: now });
    for (const wake of this.waiters.get(id) ?? []) wake();
    this.waiters.delete(id);
    return true;
  }

  /** The dry run (without its payload), once completed or after `waitMs`, whichever comes first; null when unknown. */
  async read(id: string, waitMs: number, now: number): Promise<StoredDryRun | null> {
    this.sweep(now);
    const current = this.kv.get<StoredDryRun>(PREFIX + id);
    if (!current) return null;
    if (current.result === null && waitMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, waitMs);
        const set = this.waiters.get(id) ?? new Set<() => void>();
        this.waiters.set(id, set);
        set.add(done);
        function done(): void {
          clearTimeout(timer);
          set.delete(done);
          resolve();
        }
      });
    }
    const run = this.kv.get<StoredDryRun>(PREFIX + id);
    return run ? { ...run, payload: null } : null;
  }

  private sweep(now: number): void {
    for (const [key, run] of this.kv.list<StoredDryRun>({ prefix: PREFIX }))
      if (now - run.requestedAt >= DRY_RUN_KEEP_MS) this.kv.delete(key);
  }
}
