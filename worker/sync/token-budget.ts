import { DurableObject } from 'cloudflare:workers';
import { type Budget, type BudgetState, DEFAULT_BUDGET, RateBudget, RateLimitWait } from './rate-budget';

// Cloudflare's 1200 requests / 5 min (and the 5-minute block after a 429) belong to the API token, not to an account:
// every account managed with one token shares them. So the budget lives in one Durable Object per token
// (`idFromName(sha256(token))`), and every account writer using that token spends from it, one call at a time.

/** The answer to a request for one call: go, or wait until `until` (epoch ms) and why. */
export type Grant = { ok: true } | { ok: false; until: number; reason: string };

/** The shared budget of one API token (the Durable Object only ever sees the token's hash, as its name). */
export class TokenBudget extends DurableObject<Env> {
  private budget: RateBudget | undefined;

  private async load(): Promise<RateBudget> {
    this.budget ??= new RateBudget((await this.ctx.storage.get<BudgetState>('budget')) ?? RateBudget.fresh(), DEFAULT_BUDGET, () =>
      Date.now(),
    );
    return this.budget;
  }

  /** Reserves one call for a writer, or says until when every writer of this token must wait. */
  async take(): Promise<Grant> {
    const budget = await this.load();
    try {
      budget.take();
    } catch (error) {
      if (error instanceof RateLimitWait) return { ok: false, until: error.until.getTime(), reason: error.reason };
      throw error;
    }
    await this.ctx.storage.put('budget', budget.snapshot());
    return { ok: true };
  }

  /** Records Cloudflare's 429 for the token: no writer calls until `retry-after` (or five minutes) has passed. */
  async blocked(retryAfter: string | null): Promise<number> {
    const budget = await this.load();
    const until = budget.blocked(retryAfter).getTime();
    await this.ctx.storage.put('budget', budget.snapshot());
    return until;
  }

  /** The budget's state (GET /v1/sync shows waits per account; tests read and seed it). */
  async state(): Promise<BudgetState> {
    return (await this.load()).snapshot();
  }

  /** Replaces the state (tests: a used-up window, or a retry-after period that has passed). */
  async reset(state: BudgetState = RateBudget.fresh()): Promise<void> {
    this.budget = new RateBudget(state, DEFAULT_BUDGET, () => Date.now());
    await this.ctx.storage.put('budget', state);
  }
}

/** The Durable Object name of a token's budget: its SHA-256, so the token itself is never a name or a key anywhere. */
export async function tokenBudgetName(token: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The budget object of a token. */
export async function tokenBudget(env: Env, token: string) {
  return env.TOKEN_BUDGET.get(env.TOKEN_BUDGET.idFromName(await tokenBudgetName(token)));
}

type TokenBudgetStub = Awaited<ReturnType<typeof tokenBudget>>;

/** One writer's view of its token's shared budget: every call asks the token's object first. */
export class SharedBudget implements Budget {
  calls = 0;
  private until: number | null = null;
  private readonly stub: TokenBudgetStub;
  private readonly now: () => number;

  constructor(stub: TokenBudgetStub, now: () => number = () => Date.now()) {
    this.stub = stub;
    this.now = now;
  }

  /** When calls may resume, as this writer last heard it (a refused call or a 429), or null. */
  waitUntil(): Date | null {
    return this.until !== null && this.until > this.now() ? new Date(this.until) : null;
  }

  wrap(inner: typeof fetch): typeof fetch {
    return async (input, init) => {
      const grant = await this.stub.take();
      if (!grant.ok) {
        this.until = grant.until;
        throw new RateLimitWait(new Date(grant.until), grant.reason);
      }
      this.calls += 1;
      const response = await inner(input, init);
      if (response.status === 429) this.until = await this.stub.blocked(response.headers.get('retry-after'));
      return response;
    };
  }
}
