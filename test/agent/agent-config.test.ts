import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../agent/config';
import { fromKubeconfig } from '../../agent/kubeconfig';
import { log } from '../../agent/log';
import { planPrune } from '../../agent/prune';
import { backoff } from '../../agent/transport';

const kubeconfig = (cluster: string, user: string) => `
apiVersion: v1
kind: Config
current-context: c
contexts: [{ name: c, context: { cluster: k, user: u } }]
clusters: [{ name: k, cluster: ${cluster} }]
users: [{ name: u, user: ${user} }]
`;

describe('agent configuration', () => {
  it('names every missing or bad variable', () => {
    expect(() => parseConfig({ EDGEPLANE_URL: 'not a url', EDGEPLANE_POLL_INTERVAL_SECONDS: '-1' })).toThrow(
      /EDGEPLANE_URL: .*Worker's URL.*EDGEPLANE_CLUSTER_ID: .*EDGEPLANE_POLL_INTERVAL_SECONDS/,
    );
    const config = parseConfig({
      EDGEPLANE_URL: 'https://edge.example.com/',
      EDGEPLANE_CLUSTER_ID: 'oceanid',
      EDGEPLANE_BOOTSTRAP_TOKEN: ' epb_x ',
    });
    expect(config).toMatchObject({
      url: 'https://edge.example.com',
      namespace: 'edgeplane-system',
      pollIntervalMs: 30_000,
      resyncIntervalMs: 120_000,
    });
    expect(config.bootstrapToken()).toBe('epb_x');
  });

  it('reads static kubeconfigs and refuses plain HTTP without insecure-skip-tls-verify', () => {
    expect(() => fromKubeconfig(kubeconfig('{ server: "http://127.0.0.1:1" }', '{ token: t }'))).toThrow(/HTTP protocol is not allowed/);
    const plain = fromKubeconfig(kubeconfig('{ server: "http://127.0.0.1:1/", insecure-skip-tls-verify: true }', '{ token: t0k }'));
    expect(plain?.server).toBe('http://127.0.0.1:1');
    expect(plain?.authorization()).toBe('Bearer t0k');
    const tls = fromKubeconfig(
      kubeconfig(
        `{ server: "https://10.43.0.1", certificate-authority-data: ${Buffer.from('CA').toString('base64')} }`,
        '{ username: a, password: b }',
      ),
    );
    expect(tls?.tls.ca?.toString()).toBe('CA');
    expect(tls?.authorization()).toBe(`Basic ${Buffer.from('a:b').toString('base64')}`);
    expect(fromKubeconfig(kubeconfig('{ server: "https://x" }', '{ exec: { command: aws } }'))).toBeUndefined();
  });
});

describe('agent logs', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('never writes a token, by key or by shape', () => {
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    log('info', 'registered with epa.oceanid.AAAAAAAAAAAAAAAAAAAAAAAA', {
      credential: 'epa.oceanid.secret',
      nested: { authorization: 'Bearer x', note: 'epb_BBBBBBBBBBBBBBBBBBBBBB' },
    });
    const line = lines.join('');
    expect(line).not.toContain('AAAAAAAA');
    expect(line).not.toContain('BBBBBBBB');
    expect(line).not.toContain('secret');
    expect(line).not.toContain('Bearer');
    expect(JSON.parse(line)).toMatchObject({ level: 'info', credential: '[redacted]' });
  });
});

describe('backoff and prune guard', () => {
  it('jitters within the exponential cap', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const wait = backoff(attempt, 100, 2000);
      expect(wait).toBeGreaterThanOrEqual(0);
      expect(wait).toBeLessThanOrEqual(Math.min(2000, 100 * 2 ** attempt));
    }
  });

  it('keeps the circuit breaker at exactly maxDeletes', () => {
    const prune = { maxDeletes: 2, windowSeconds: 600, allowEmpty: false, approval: null };
    const ctx = { clusterId: 'c1', revision: 1, now: Date.now(), deletions: [], approvalUsed: 0 };
    expect(planPrune(['a', 'b'], ['c'], prune, ctx)).toEqual({ delete: ['a', 'b'] });
    expect(planPrune(['a', 'b', 'c'], ['d'], prune, ctx).delete).toEqual([]);
  });
});
