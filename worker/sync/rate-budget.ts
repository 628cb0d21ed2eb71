// Cloudflare allows 1200 requests per 5 minutes per token and, once that is exceeded, blocks every call for five minutes.
// The writer keeps its own budget well below that (the dashboard and other tools share the token), and when Cloudflare
// answers 429 anyway it stops calling until `retry-after` has passed.

export const WINDOW_MS = 5 * 60_000;
/** Half of Cloudflare's 1200 / 5 min: room for the dashboard, Terraform and people with curl on the same token. */
export const DEFAULT_BUDGET = 600;
const DEFAULT_BLOCK_MS = WINDOW_MS;

/** Thrown before a call the budget does not allow, or after a 429; the writer stops and resumes at `until`. */
export class RateLimitWait extends Error {
  readonly until: Date;
  readonly reason: string;

  constructor(until: Date, reason: string) {
    super(`waiting for rate limit until ${until.toISOString()} (${reason})`);
    this.name = 'RateLimitWait';
    this.until = until;
    this.reason = reason;
  }
}

/** The budget's persisted state: a fixed window of counted calls and an optional block from a 429. */
export interface BudgetState {
  windowStart: number;
  used: number;
  blockedUntil: number;
}

/** What a drain needs of a budget: the calls it made, when calls may resume, and a fetch that spends the budget. */
export interface Budget {
  readonly calls: number;
  waitUntil(): Date | null;
  wrap(inner: typeof fetch): typeof fetch;
}

/** Counts calls against the budget and wraps `fetch` so every SDK request is counted and every 429 honoured. */
export class RateBudget implements Budget {
  calls = 0;
  private state: BudgetState;
  private readonly limit: number;
  private readonly now: () => number;

  constructor(state: BudgetState, limit: number, now: () => number) {
    this.state = { ...state };
    this.limit = limit;
    this.now = now;
  }

  static fresh(): BudgetState {
    return { windowStart: 0, used: 0, blockedUntil: 0 };
  }

  snapshot(): BudgetState {
    return { ...this.state };
  }

  /** When calls may resume, or null when they may go now. */
  waitUntil(): Date | null {
    const now = this.now();
    if (this.state.blockedUntil > now) return new Date(this.state.blockedUntil);
    if (now - this.state.windowStart >= WINDOW_MS) return null;
    return this.state.used >= this.limit ? new Date(this.state.windowStart + WINDOW_MS) : null;
  }

  /** Reserves one call or throws RateLimitWait. */
  take(): void {
    const wait = this.waitUntil();
    if (wait)
      throw new RateLimitWait(
        wait,
        this.state.blockedUntil > this.now() ? 'Cloudflare answered 429' : `own budget of ${this.limit} calls per 5 minutes used up`,
      );
    const now = this.now();
    if (now - this.state.windowStart >= WINDOW_MS) this.state = { ...this.state, windowStart: now, used: 0 };
    this.state.used += 1;
    this.calls += 1;
  }

  /** Records a 429: no call until `retry-after` seconds (or the documented five minutes) have passed. */
  blocked(retryAfter: string | null): Date {
    const seconds = retryAfter === null ? Number.NaN : Number(retryAfter);
    const ms = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : DEFAULT_BLOCK_MS;
    this.state.blockedUntil = Math.max(this.state.blockedUntil, this.now() + ms);
    return new Date(this.state.blockedUntil);
  }

  /** A fetch that spends the budget first and notes a 429's retry-after; the SDK then raises its own RateLimitError. */
  wrap(inner: typeof fetch): typeof fetch {
    return async (input, init) => {
      this.take();
      const response = await inner(input, init);
      if (response.status === 429) this.blocked(response.headers.get('retry-after'));
      return response;
    };
  }
}
