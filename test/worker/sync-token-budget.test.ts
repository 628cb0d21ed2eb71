import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_BUDGET } from '../../worker/sync/rate-budget';
import { api } from './helpers';
import { addRoute, drain, expectNoViolations, fake, forgetRateLimit, newAccount, setup, syncStatus, tokenBudgetStub } from './sync-helpers';

// Cloudflare's 1200 requests / 5 min and its 5-minute block after a 429 belong to the API token. Every account of
// these tests is managed with the one token the Worker is configured with, so they share one budget.

/** An account whose only Cloudflare work is one split-tunnel entry: its drain costs exactly a GET and a PUT. */
async function splitTunnelAccount(): Promise<string> {
  const account = newAccount();
  const created = await api('POST', '/v1/split-tunnel', { body: { account, mode: 'include', address: '10.42.0.0/16' } });
  expect(created.status).toBe(201);
  return account;
}

afterEach(async () => {
  await forgetRateLimit();
});

describe('one rate budget per API token, shared by every account writer', () => {
  it('calls made for one account use up the budget of another account on the same token', async () => {
    const first = await splitTunnelAccount();
    const { account: second, tunnel, zone } = await setup();
    await addRoute(tunnel, `app.${zone}`);
    const budget = await tokenBudgetStub();
    // Five calls left in this 5-minute window for the token.
    await budget.reset({ windowStart: Date.now(), used: DEFAULT_BUDGET - 5, blockedUntil: 0 });
    const tokensBefore = await fake.tokens();

    const a = await drain(first);
    expect(a).toMatchObject({ calls: 2, errors: [], waitingUntil: null });
    // The second account's writer (another Durable Object) gets what is left, 3 calls, then waits for the window.
    const b = await drain(second);
    expect(b.calls).toBe(3);
    expect(b.waitingUntil).not.toBeNull();
    expect(b.errors.at(-1)?.error).toMatch(new RegExp(`own budget of ${DEFAULT_BUDGET} calls per 5 minutes used up`));
    expect((await budget.state()).used).toBe(DEFAULT_BUDGET);
    expect((await syncStatus()).accounts.find((s) => s.account === second)?.waiting).toMatch(/^waiting for rate limit until /);

    // The fake saw both accounts' calls under one token, and counted them against it.
    const calls = [...(await fake.calls(first)), ...(await fake.calls(second))];
    expect(calls).toHaveLength(5);
    const tokens = new Set(calls.map((c) => c.token));
    expect(tokens.size).toBe(1);
    const [token = ''] = [...tokens];
    expect(((await fake.tokens())[token] ?? 0) - (tokensBefore[token] ?? 0)).toBeGreaterThanOrEqual(5);

    // Once the window has passed (the test's stand-in: a fresh budget), the second account converges.
    await forgetRateLimit();
    expect((await drain(second)).errors).toEqual([]);
    await expectNoViolations(first);
    await expectNoViolations(second);
  });

  it("a 429 answered to one account's writer stops every writer on the token until retry-after", async () => {
    const first = await splitTunnelAccount();
    const second = await splitTunnelAccount();
    await fake.fault({ account: first, status: 429, retryAfter: 90, times: 1 });
    const a = await drain(first);
    expect(a.waitingUntil).not.toBeNull();
    expect(Date.parse(a.waitingUntil ?? '') - Date.now()).toBeGreaterThan(60_000);
    // The other account has made no call of its own yet, and makes none now: Cloudflare would block the token.
    const b = await drain(second);
    expect(b).toMatchObject({ calls: 0, waitingUntil: a.waitingUntil });
    expect(b.errors[0]?.error).toMatch(/Cloudflare answered 429/);
    expect(await fake.calls(second)).toEqual([]);
  });
});
