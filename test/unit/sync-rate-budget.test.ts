import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffMs, MAX_BACKOFF_MS } from '../../worker/sync/backoff';
import { RateBudget, RateLimitWait, WINDOW_MS } from '../../worker/sync/rate-budget';

describe('rate budget of the Cloudflare writer', () => {
  it('allows `limit` calls per 5-minute window, then waits until the window ends', () => {
    let now = 1_000_000;
    const budget = new RateBudget(RateBudget.fresh(), 3, () => now);
    budget.take();
    budget.take();
    budget.take();
    expect(() => budget.take()).toThrow(RateLimitWait);
    expect(budget.waitUntil()?.getTime()).toBe(1_000_000 + WINDOW_MS);
    now += WINDOW_MS;
    expect(budget.waitUntil()).toBeNull();
    budget.take();
    expect(budget.calls).toBe(4);
  });

  it('honours retry-after after a 429, and the documented 5 minutes without one', () => {
    let now = 0;
    const budget = new RateBudget(RateBudget.fresh(), 600, () => now);
    expect(budget.blocked('30').getTime()).toBe(30_000);
    expect(() => budget.take()).toThrow(/waiting for rate limit until 1970-01-01T00:00:30.000Z \(Cloudflare answered 429\)/);
    now = 30_000;
    budget.take();
    expect(budget.blocked(null).getTime()).toBe(30_000 + 5 * 60_000);
  });

  it('counts every call made through the wrapped fetch and notes a 429', async () => {
    const now = 0;
    const budget = new RateBudget(RateBudget.fresh(), 600, () => now);
    const responses = [new Response('{}', { status: 200 }), new Response('{}', { status: 429, headers: { 'retry-after': '120' } })];
    const fetcher = budget.wrap(async () => responses.shift() ?? new Response(null, { status: 500 }));
    expect((await fetcher('https://x')).status).toBe(200);
    expect((await fetcher('https://x')).status).toBe(429);
    expect(budget.calls).toBe(2);
    expect(budget.waitUntil()?.getTime()).toBe(120_000);
    await expect(fetcher('https://x')).rejects.toBeInstanceOf(RateLimitWait);
    expect(budget.calls).toBe(2);
  });

  it('survives a restart: the persisted state keeps the window and the block', () => {
    const budget = new RateBudget(RateBudget.fresh(), 1, () => 10);
    budget.take();
    const restored = new RateBudget(budget.snapshot(), 1, () => 20);
    expect(() => restored.take()).toThrow(RateLimitWait);
  });
});

describe('retry backoff', () => {
  it('doubles per attempt with jitter between half and the full step, capped at 10 minutes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), (attempts, r) => {
        const step = Math.min(MAX_BACKOFF_MS, 2_000 * 2 ** (attempts - 1));
        const delay = backoffMs(attempts, () => r);
        return delay >= Math.round(step / 2) && delay <= step;
      }),
    );
    expect(backoffMs(1, () => 0)).toBe(1_000);
    expect(backoffMs(3, () => 0.999999)).toBe(8_000);
    expect(backoffMs(40, () => 0.5)).toBe(Math.round(MAX_BACKOFF_MS * 0.75));
  });
});
