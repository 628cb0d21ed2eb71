import { describe, expect, it } from 'vitest';
import { compileClusterBundle, compileTunnelConfig, diffBundles, diffTunnelConfig, type DesiredTunnel } from '../../../src/shared/compiler';
import { makeCluster, makeRoute, makeTunnel } from './arbitraries';

const svc = (name: string) => ({ service: { namespace: 'web', name, port: 80 } });
const desired = (
  routes = [makeRoute('a', 'app.example.com', null, svc('web')), makeRoute('b', 'app.example.com', '/api', svc('api'))],
): DesiredTunnel => ({
  tunnel: makeTunnel('t1', {
    mode: { type: 'ingress', className: 'traefik', controller: { namespace: 'kube-system', name: 'traefik', port: 80 } },
  }),
  routes,
  privateNetworks: [],
  connectorToken: 'tok',
});

describe('diffTunnelConfig', () => {
  it('reports no change for the same config', () => {
    const config = compileTunnelConfig(desired());
    expect(diffTunnelConfig(config, compileTunnelConfig(desired()))).toEqual({ noop: true, rules: [], reordered: false });
  });

  it('reports added, removed and changed rules keyed by hostname and path', () => {
    const before = compileTunnelConfig(desired());
    const after = compileTunnelConfig(
      desired([
        makeRoute('a', 'app.example.com', null, svc('web'), { originRequest: { noTLSVerify: true } }),
        makeRoute('c', 'new.example.com', null, svc('new')),
      ]),
    );
    const diff = diffTunnelConfig(before, after);
    expect(diff.noop).toBe(false);
    expect(diff.rules.map((r) => [r.change, r.key])).toEqual([
      ['changed', 'app.example.com'],
      ['added', 'new.example.com'],
      ['removed', 'app.example.com ^/api(/|$)'],
    ]);
    expect(diff.rules[0]?.after?.originRequest).toEqual({ noTLSVerify: true });
  });

  it('treats a missing current config as everything added, and reports warp-routing and default changes', () => {
    const after = compileTunnelConfig({
      ...desired(),
      privateNetworks: [
        { id: 'p', tunnel: 't1', cidr: '10.43.0.0/16', virtualNetworkId: null, comment: '', etag: '', createdAt: '', updatedAt: '' },
      ],
    });
    const diff = diffTunnelConfig(null, after);
    expect(diff.rules.map((r) => r.change)).toEqual(['added', 'added', 'added']);
    expect(diff.warpRouting).toEqual({ before: false, after: true });
    const defaults = diffTunnelConfig(after, { ...after, originRequest: { connectTimeout: 5 } });
    expect(defaults.originRequest).toEqual({ before: null, after: { connectTimeout: 5 } });
  });
});

describe('diffBundles', () => {
  it('lists objects created, changed and deleted by group/kind/namespace/name', () => {
    const cluster = makeCluster();
    const before = compileClusterBundle({ cluster, tunnels: [desired()] });
    expect(diffBundles(before, compileClusterBundle({ cluster, tunnels: [desired()] }))).toMatchObject({
      noop: true,
      created: [],
      changed: [],
      deleted: [],
    });
    const after = compileClusterBundle({
      cluster,
      tunnels: [
        {
          ...desired([makeRoute('c', 'new.example.com', null, svc('new'))]),
          tunnel: makeTunnel('t1', { placement: { type: 'cluster', replicas: 3 }, mode: desired().tunnel.mode }),
        },
      ],
    });
    const diff = diffBundles(before, after);
    expect(diff.noop).toBe(false);
    expect(diff.created.map((r) => r.key)).toEqual(['networking.k8s.io/Ingress/web/edgeplane-t1-new.example.com']);
    expect(diff.changed.map((r) => r.key)).toEqual(['apps/Deployment/edgeplane-tunnels/cloudflared-t1']);
    expect(diff.deleted.map((r) => r.key)).toEqual(['networking.k8s.io/Ingress/web/edgeplane-t1-app.example.com']);
    expect(diff.deleted[0]).toMatchObject({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace: 'web' });
    expect(diff.hash).toEqual({ before: before.hash, after: after.hash });
    expect(diffBundles(null, after).created).toHaveLength(after.objects.length);
  });

  it('shows an object moved to another apiVersion as changed, not deleted and created (as the agent applies it)', () => {
    const cluster = makeCluster();
    const after = compileClusterBundle({ cluster, tunnels: [desired()] });
    const moved = (o: (typeof after.objects)[number]) =>
      o.kind === 'PodDisruptionBudget'
        ? { ...o, apiVersion: 'policy/v1beta1' }
        : o.kind === 'Ingress'
          ? { ...o, apiVersion: 'networking.k8s.io/v1beta1' }
          : o;
    const before = { hash: 'old', objects: after.objects.map(moved) };
    const diff = diffBundles(before, after);
    expect(diff.created).toEqual([]);
    expect(diff.deleted).toEqual([]);
    expect(diff.changed.map((r) => [r.key, r.apiVersion])).toEqual([
      ['policy/PodDisruptionBudget/edgeplane-tunnels/cloudflared-t1', 'policy/v1'],
      ['networking.k8s.io/Ingress/web/edgeplane-t1-app.example.com', 'networking.k8s.io/v1'],
    ]);
    expect(diff.unchanged).toBe(after.objects.length - 2);
    expect(diff.noop).toBe(false);
  });
});
