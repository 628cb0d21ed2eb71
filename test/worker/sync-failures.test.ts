import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import {
  addRoute,
  cloudflareTunnelId,
  drain,
  drainAll,
  expectNoViolations,
  fake,
  forgetRateLimit,
  makeRetriesDue,
  pendingRows,
  setup,
  syncStatus,
} from './sync-helpers';

describe('Cloudflare sync: failures never lose intent', () => {
  it('a 429 storm mid-sync stops the writer, keeps every row, shows the wait, and converges after retry-after', async () => {
    const { account, tunnel, zone } = await setup();
    await addRoute(tunnel, `a.${zone}`);
    await addRoute(tunnel, `b.${zone}`);
    const intents = (await pendingRows(account)).filter((r) => r.kind !== 'tunnel').map((r) => `${r.kind}:${r.target}`);
    // The tunnel and its token go through; then Cloudflare rate-limits everything.
    await fake.fault({ account, path: '/dns_records|/configurations', status: 429, retryAfter: 120, times: 50 });
    const stormed = await drain(account);
    expect(stormed.waitingUntil).not.toBeNull();
    expect(stormed.errors).toEqual([{ target: `tunnel_config:${tunnel}`, error: expect.stringMatching(/^waiting for rate limit until /) }]);
    const callsAfterStorm = await fake.calls(account);
    expect(callsAfterStorm.filter((c) => c.status === 429)).toHaveLength(1); // stopped at the first 429: no hammering
    expect((await pendingRows(account)).map((r) => `${r.kind}:${r.target}`).sort()).toEqual([...intents].sort());
    const waiting = (await syncStatus()).accounts.find((a) => a.account === account);
    expect(waiting?.waiting).toMatch(/^waiting for rate limit until 20\d\d-/);
    expect(Date.parse(waiting?.rateLimitedUntil ?? '') - Date.now()).toBeGreaterThan(100_000); // retry-after: 120 s

    // Before retry-after has passed the writer makes no call at all, even with rows due.
    await makeRetriesDue(account);
    expect((await drain(account)).calls).toBe(0);
    expect(await fake.calls(account)).toHaveLength(callsAfterStorm.length);

    // The storm is over and retry-after has passed: everything converges.
    await fake.clearFaults(account);
    await forgetRateLimit();
    await makeRetriesDue(account);
    const reports = await drainAll(account);
    expect(reports.flatMap((r) => r.errors)).toEqual([]);
    const cfId = await cloudflareTunnelId(tunnel);
    const state = await fake.state(account);
    expect(state.configs[cfId]?.config?.ingress.map((r) => r.hostname).sort()).toEqual([`a.${zone}`, `b.${zone}`, undefined].sort());
    expect(state.records.map((r) => r.name).sort()).toEqual([`a.${zone}`, `b.${zone}`]);
    expect(await pendingRows(account)).toEqual([]);
    expect((await syncStatus()).accounts.find((a) => a.account === account)?.waiting).toBeNull();
    await expectNoViolations(account);
  });

  it('a 5xx on the DNS step after a successful config PUT is retried with backoff and converges', async () => {
    const { account, tunnel, zone } = await setup();
    const host = `web.${zone}`;
    await addRoute(tunnel, host);
    await fake.fault({ account, method: 'POST', path: '/dns_records$', status: 503, times: 1 });
    const first = await drain(account);
    expect(first.errors).toEqual([{ target: `dns:${host}`, error: expect.stringMatching(/503/) }]);
    const cfId = await cloudflareTunnelId(tunnel);
    let state = await fake.state(account);
    expect(state.configs[cfId]?.version).toBe(1);
    expect(state.records).toEqual([]);
    expect(await pendingRows(account)).toEqual([{ kind: 'dns', target: host, attempts: 1, last_error: expect.stringMatching(/503/) }]);
    expect((await syncStatus()).targets.find((t) => t.kind === 'dns' && t.target === host)).toMatchObject({
      attempts: 1,
      pending: 1,
      lastError: expect.stringMatching(/503/),
    });

    // Backoff: not due yet, so a drain now does nothing.
    expect((await drain(account)).targets).toBe(0);
    await makeRetriesDue(account);
    const second = await drain(account);
    expect(second.errors).toEqual([]);
    state = await fake.state(account);
    expect(state.records.map((r) => [r.name, r.content])).toEqual([[host, `${cfId}.cfargotunnel.com`]]);
    expect(state.configs[cfId]?.version).toBe(1); // the config was not written again
    expect(await pendingRows(account)).toEqual([]);
    expect((await syncStatus()).targets.find((t) => t.kind === 'dns' && t.target === host)).toMatchObject({
      attempts: 0,
      pending: 0,
      lastError: null,
    });
    await expectNoViolations(account);
  });

  it('a hung config call times out; the CNAME waits for the config; both converge on retry', async () => {
    const { account, tunnel, zone } = await setup();
    const host = `slow.${zone}`;
    await addRoute(tunnel, host);
    await fake.fault({ account, method: 'GET', path: '/configurations$', hang: true, times: 1 });
    const first = await drain(account);
    expect(first.errors).toEqual([{ target: `tunnel_config:${tunnel}`, error: expect.stringMatching(/timed out/i) }]);
    expect((await fake.state(account)).records).toEqual([]); // DNS did not run ahead of the config
    expect((await pendingRows(account)).map((r) => r.kind).sort()).toEqual(['dns', 'tunnel_config']);
    await makeRetriesDue(account);
    expect((await drainAll(account)).flatMap((r) => r.errors)).toEqual([]);
    expect((await fake.state(account)).records.map((r) => r.name)).toEqual([host]);
    await expectNoViolations(account);
  });

  it('keeps a row of an unknown kind visible with its error instead of spinning on it', async () => {
    const { account } = await setup();
    await env.DB.prepare(`INSERT INTO outbox (account, kind, target, payload, created_at) VALUES (?, 'access_app', 'x', '{}', ?)`)
      .bind(account, new Date().toISOString())
      .run();
    const report = await drain(account);
    expect(report.errors).toContainEqual({ target: 'access_app:x', error: expect.stringMatching(/unknown outbox kind "access_app"/) });
    const row = (await pendingRows(account)).find((r) => r.kind === 'access_app');
    expect(row).toMatchObject({ attempts: 1, last_error: expect.stringMatching(/unknown outbox kind/) });
    expect((await drain(account)).errors.filter((e) => e.target === 'access_app:x')).toEqual([]); // backed off, not retried at once
  });
});
