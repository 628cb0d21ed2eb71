import { AppError } from '../errors';

/** The rate window: calls per token are counted in fixed minutes aligned to the clock. */
export const RATE_PERIOD_MS = 60_000;

/** What the token's rate object grants: up to `want` calls of the current window, 0 once the window is spent. */
export type LeaseCall = (want: number) => Promise<number>;

/** How many calls an isolate asks for at a time: a twentieth of the limit, at least 1, at most 100. */
export const chunkOf = (limit: number): number => Math.max(1, Math.min(100, Math.ceil(limit / 20)));

interface KeyState {
  /** End of the window (ms) these counts belong to. */
  windowEnds: number;
  /** Calls granted to this isolate and not used yet. */
  left: number;
  /** Calls admitted before a grant covered them (the first of a window, or while a grant was on its way). */
  debt: number;
  /** The object granted less than asked: the window is spent once `left` is. */
  exhausted: boolean;
  /** The lease call on its way, if any. */
  pending: Promise<void> | undefined;
}

/**
 * Per-isolate leases on each token's rate (ADR 0014). The token's rate object (`InferenceRate`, one per token) counts
 * every call of a window across isolates; an isolate asks it for a chunk of calls at a time, ahead of need and after
 * the response (`defer`), and spends them locally, so in steady use no call waits on it. A call that finds no grant
 * left is admitted on credit, up to one chunk, and paid from the next grant; past that it waits for the grant on its
 * way. Once the object grants less than asked, the token's calls in this isolate are refused (429, Retry-After to the
 * window's end) as soon as what was granted is spent. Over a window the calls admitted are at most the limit plus one
 * chunk per isolate (credit never paid).
 */
export class RateLeases {
  private readonly keys = new Map<string, KeyState>();
  /** End of the window whose ended keys were last dropped: the map is swept once a window, not on every new key. */
  private sweptUntil = 0;

  /**
   * Admits one call of `key` at `now` or throws the 429. When its grant runs low, asks the rate object for more with
   * `lease` (this request's binding) through `defer` (waitUntil). Returns a promise only when the call has to wait:
   * a chunk of calls is already on credit and the lease that would pay for them has not come back.
   */
  admit(key: string, limit: number, now: number, lease: LeaseCall, defer: (work: Promise<unknown>) => void): Promise<void> | undefined {
    let state = this.keys.get(key);
    if (!state || now >= state.windowEnds) {
      state = {
        windowEnds: (Math.floor(now / RATE_PERIOD_MS) + 1) * RATE_PERIOD_MS,
        left: 0,
        debt: 0,
        exhausted: false,
        pending: undefined,
      };
      this.keys.set(key, state);
      this.forgetEnded(now);
    }
    if (state.exhausted && state.left === 0) {
      const retryAfter = Math.max(1, Math.ceil((state.windowEnds - now) / 1000));
      throw new AppError('rate_limited', `too many requests for token ${key} (limit ${limit} a minute); retry in ${retryAfter} s`, {
        headers: { 'retry-after': String(retryAfter) },
      });
    }
    const chunk = chunkOf(limit);
    if (state.left > 0) state.left -= 1;
    else if (state.debt < chunk) state.debt += 1;
    else {
      // Credit is bounded: past a chunk, calls wait for the lease (the rate object is slower than the calls).
      const pending = state.pending ?? this.ask(key, state, chunk + state.debt, limit, lease);
      return pending.then(() => this.admit(key, limit, now, lease, defer));
    }
    if (!state.pending && !state.exhausted && state.left <= chunk / 2) defer(this.ask(key, state, chunk + state.debt, limit, lease));
    return undefined;
  }

  /** Asks the rate object for `want` calls and books the answer; the promise is the state's `pending` until it lands. */
  private ask(key: string, state: KeyState, want: number, limit: number, lease: LeaseCall): Promise<void> {
    const pending = this.book(key, state, want, limit, lease).finally(() => {
      if (state.pending === pending) state.pending = undefined;
    });
    state.pending = pending;
    return pending;
  }

  private async book(key: string, state: KeyState, want: number, limit: number, lease: LeaseCall): Promise<void> {
    let granted: number;
    try {
      granted = await lease(want);
    } catch (error) {
      // The calls go on uncounted rather than failing: the limit guards the GPU, it is not a reason to refuse work.
      // A local allowance of one chunk spaces the next attempts out instead of asking on every call.
      console.warn(JSON.stringify({ event: 'inference_rate_lease_failed', error: String(error) }));
      state.debt = 0;
      state.left += chunkOf(limit);
      return;
    }
    if (this.keys.get(key) !== state) return; // a new window started meanwhile
    const paid = Math.min(granted, state.debt);
    state.debt -= paid;
    state.left += granted - paid;
    if (granted < want) state.exhausted = true;
  }

  /** Drops the keys whose window has ended, once a window, so the map is bounded by the tokens used in one window. */
  private forgetEnded(now: number): void {
    if (now < this.sweptUntil) return;
    this.sweptUntil = (Math.floor(now / RATE_PERIOD_MS) + 1) * RATE_PERIOD_MS;
    for (const [key, state] of this.keys) if (now >= state.windowEnds) this.keys.delete(key);
  }
}
