import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeOutcomes, probeAll, probeTarget, TERMINATION_MESSAGE_LIMIT } from '../../agent/probe';
import { PROBE_SPEC_ENV, runProbeCommand, TERMINATION_PATH_ENV } from '../../agent/probe-command';
import { startLoopbackTargets, type LoopbackTargets } from '../support/loopback-targets';

// The egress probe against real sockets on loopback: DNS (getaddrinfo), TCP connect, TLS handshake, and each failure.

let targets: LoopbackTargets;
beforeAll(async () => {
  targets = await startLoopbackTargets();
});
afterAll(async () => {
  await targets.close();
});

const plain = { tls: false, tlsVerify: true };

describe('probeTarget', () => {
  it('resolves a name and connects over TCP', async () => {
    const outcome = await probeTarget({ host: 'localhost', port: targets.tcpPort, ...plain }, 2000);
    expect(outcome.ok).toBe(true);
    expect(outcome.address === '127.0.0.1' || outcome.address === '::1').toBe(true);
    expect(outcome.ms).toBeGreaterThanOrEqual(0);
    expect(outcome.error).toBeUndefined();
  });

  it('reports a refused connection', async () => {
    const outcome = await probeTarget({ host: '127.0.0.1', port: targets.closedPort, ...plain }, 2000);
    expect(outcome).toMatchObject({ ok: false, address: '127.0.0.1', error: { kind: 'refused' } });
    expect(outcome.error?.message).toContain(`127.0.0.1:${targets.closedPort}: ECONNREFUSED`);
  });

  it('reports a name that does not resolve as a DNS failure', async () => {
    const outcome = await probeTarget({ host: 'db.nonexistent.invalid', port: 5432, ...plain }, 2000);
    expect(outcome).toMatchObject({ ok: false, error: { kind: 'dns' } });
    expect(outcome.error?.message).toContain('db.nonexistent.invalid');
    expect(outcome.address).toBeUndefined();
  });

  it('completes a TLS handshake, verifying the certificate when asked', async () => {
    const insecure = await probeTarget({ host: '127.0.0.1', port: targets.tlsPort, tls: true, tlsVerify: false }, 2000);
    expect(insecure).toMatchObject({ ok: true, address: '127.0.0.1' });
    const verified = await probeTarget({ host: 'localhost', port: targets.tlsPort, tls: true, tlsVerify: true }, 2000);
    expect(verified).toMatchObject({ ok: false, error: { kind: 'tls' } });
    expect(verified.error?.message).toMatch(/self[- ]signed certificate/);
  });

  it('reports a TLS error when the other side does not speak TLS', async () => {
    const outcome = await probeTarget({ host: '127.0.0.1', port: targets.tcpPort, tls: true, tlsVerify: false }, 2000);
    expect(outcome).toMatchObject({ ok: false, error: { kind: 'tls' } });
  });

  it('times out a handshake nobody answers, within the timeout', async () => {
    const started = Date.now();
    const outcome = await probeTarget({ host: '127.0.0.1', port: targets.silentPort, tls: true, tlsVerify: false }, 300);
    expect(outcome).toMatchObject({ ok: false, error: { kind: 'timeout' } });
    expect(outcome.error?.message).toContain('no answer within 300 ms');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('probes several targets keeping their order', async () => {
    const outcomes = await probeAll(
      [
        { host: '127.0.0.1', port: targets.closedPort, ...plain },
        { host: '127.0.0.1', port: targets.tcpPort, ...plain },
      ],
      1000,
    );
    expect(outcomes.map((o) => o.ok)).toEqual([false, true]);
  });
});

describe('the termination message', () => {
  it('fits the kubelet limit with 20 long errors by shortening messages, keeping every kind', () => {
    const outcomes = Array.from({ length: 20 }, (_, i) => ({
      ok: false,
      ms: 1234,
      address: `fd00:1234:5678:9abc::${i}`,
      error: { kind: 'tls' as const, message: 'x'.repeat(300) },
    }));
    const text = encodeOutcomes(outcomes);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(TERMINATION_MESSAGE_LIMIT);
    const parsed = JSON.parse(text) as { v: number; outcomes: { error: { kind: string } }[] };
    expect(parsed.v).toBe(1);
    expect(parsed.outcomes.map((o) => o.error.kind)).toEqual(outcomes.map(() => 'tls'));
  });

  it('is written by `agent probe` to the path its environment names', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'probe-cmd-'));
    const file = path.join(dir, 'termination-log');
    const code = await runProbeCommand({
      [TERMINATION_PATH_ENV]: file,
      [PROBE_SPEC_ENV]: JSON.stringify({ timeoutMs: 1000, targets: [{ host: '127.0.0.1', port: targets.tcpPort, ...plain }] }),
    });
    expect(code).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ v: 1, outcomes: [{ ok: true, address: '127.0.0.1' }] });

    expect(await runProbeCommand({ [TERMINATION_PATH_ENV]: file, [PROBE_SPEC_ENV]: '{"targets": 1}' })).toBe(2);
    const refused = JSON.parse(readFileSync(file, 'utf8')) as { v: number; error: string };
    expect(refused.v).toBe(1);
    expect(refused.error).toContain(`${PROBE_SPEC_ENV} is not a probe spec: ${PROBE_SPEC_ENV}.timeoutMs: expected an integer ≥ 1`);
    rmSync(dir, { recursive: true, force: true });
  });
});
