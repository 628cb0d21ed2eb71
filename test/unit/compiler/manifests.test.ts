import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1';
import fc from 'fast-check';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Namespace, Secret } from 'kubernetes-models/v1';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  compileClusterBundle,
  type DesiredTunnel,
  HTTPROUTE_MAX_RULES,
  type KubeObject,
  objectKey,
  redactSecrets,
} from '../../../src/shared/compiler';
import { desiredClusterArb, makeCluster, makeRoute, makeTunnel } from './arbitraries';

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/Ingress': Ingress,
  'gateway.networking.k8s.io/v1/HTTPRoute': HTTPRoute,
};

/** Validates an object against its Kubernetes schema; throws with the object named when it does not. */
function validate(object: KubeObject): void {
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!Model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  try {
    new Model(structuredClone(object) as never).validate();
  } catch (error) {
    throw new Error(`${objectKey(object)} does not validate: ${String(error)}`);
  }
}

const byKind = (objects: KubeObject[], kind: string) => objects.filter((o) => o.kind === kind);
const spec = (o: KubeObject | undefined): Record<string, unknown> => (o?.spec ?? {}) as Record<string, unknown>;

describe('compileClusterBundle', () => {
  it('emits only objects that validate against the Kubernetes and Gateway API schemas, all labelled, with unique identities', () => {
    fc.assert(
      fc.property(desiredClusterArb, (desired) => {
        const { objects } = compileClusterBundle(desired);
        for (const object of objects) {
          validate(object);
          expect(object.metadata.labels).toMatchObject({
            'app.kubernetes.io/managed-by': 'edgeplane',
            'edgeplane.dev/cluster': desired.cluster.id,
          });
        }
        expect(new Set(objects.map(objectKey)).size).toBe(objects.length);
        expect(byKind(objects, 'Deployment')).toHaveLength(desired.tunnels.length);
      }),
      { numRuns: 150 },
    );
  });

  it('is deterministic: same state in any order → byte-identical objects and the same hash, which is SHA-256 of the canonical JSON', () => {
    fc.assert(
      fc.property(
        desiredClusterArb.chain((d) =>
          fc.tuple(
            fc.constant(d),
            fc.shuffledSubarray(d.tunnels, { minLength: d.tunnels.length, maxLength: d.tunnels.length }),
            fc.integer({ min: 0, max: 1000 }),
          ),
        ),
        ([desired, tunnels, seed]) => {
          const shuffled = tunnels.map((t, i) => ({ ...t, routes: rotate(t.routes, seed + i) }));
          const a = compileClusterBundle(desired);
          const b = compileClusterBundle({ ...desired, tunnels: shuffled });
          expect(JSON.stringify(b.objects)).toBe(JSON.stringify(a.objects));
          expect(b.hash).toBe(a.hash);
          expect(a.hash).toBe(createHash('sha256').update(canonicalJson(a.objects)).digest('hex'));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('the schema check used above rejects a broken object (so it can fail)', () => {
    const deployment = byKind(compileClusterBundle({ cluster: makeCluster(), tunnels: [connector({})] }).objects, 'Deployment')[0];
    if (!deployment) throw new Error('no Deployment compiled');
    expect(() => validate({ ...deployment, spec: { ...spec(deployment), replicas: 'two' } })).toThrow(/does not validate/);
    expect(() => validate({ ...deployment, spec: { ...spec(deployment), selector: undefined } })).toThrow(/does not validate/);
  });

  it('changes the hash when anything in the bundle changes', () => {
    const tunnel = connector({ connectorToken: 'token-1' });
    const a = compileClusterBundle({ cluster: makeCluster(), tunnels: [tunnel] });
    const b = compileClusterBundle({ cluster: makeCluster(), tunnels: [{ ...tunnel, connectorToken: 'token-2' }] });
    expect(b.hash).not.toBe(a.hash);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('runs cloudflared with the token from the Secret, ≥ 2 replicas spread across nodes, a PDB and readiness on /ready', () => {
    const { objects } = compileClusterBundle({ cluster: makeCluster(), tunnels: [connector({ connectorToken: 'eyJhIjoiYiJ9' })] });
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Namespace/edgeplane-tunnels',
      'Secret/cloudflared-t1-token',
      'Deployment/cloudflared-t1',
      'PodDisruptionBudget/cloudflared-t1',
    ]);
    const secret = byKind(objects, 'Secret')[0];
    expect(secret?.data).toEqual({ token: Buffer.from('eyJhIjoiYiJ9').toString('base64') });
    const deployment = byKind(objects, 'Deployment')[0];
    expect(spec(deployment).replicas).toBe(2);
    const pod = (spec(deployment).template as { spec: Record<string, unknown> }).spec;
    const container = (pod.containers as Record<string, unknown>[])[0];
    expect(container?.command).toEqual(['cloudflared', 'tunnel', '--no-autoupdate', '--metrics', '0.0.0.0:2000', 'run']);
    expect(container?.env).toEqual([{ name: 'TUNNEL_TOKEN', valueFrom: { secretKeyRef: { name: 'cloudflared-t1-token', key: 'token' } } }]);
    expect(container?.readinessProbe).toMatchObject({ httpGet: { path: '/ready', port: 'metrics' } });
    expect(JSON.stringify(pod.affinity)).toContain('"topologyKey":"kubernetes.io/hostname"');
    expect(pod.hostNetwork).toBeUndefined();
    expect(spec(byKind(objects, 'PodDisruptionBudget')[0])).toMatchObject({ maxUnavailable: 1 });
  });

  it('pins a node-placed connector to its node with host networking and one replica, and emits no PDB', () => {
    const { objects } = compileClusterBundle({
      cluster: makeCluster(),
      tunnels: [connector({ tunnel: makeTunnel('gpu', { placement: { type: 'node', node: 'gpu-1' } }) })],
    });
    const deployment = byKind(objects, 'Deployment')[0];
    const pod = (spec(deployment).template as { spec: Record<string, unknown> }).spec;
    expect(spec(deployment).replicas).toBe(1);
    expect(pod).toMatchObject({
      nodeSelector: { 'kubernetes.io/hostname': 'gpu-1' },
      hostNetwork: true,
      dnsPolicy: 'ClusterFirstWithHostNet',
    });
    expect(spec(deployment).strategy).toEqual({ type: 'Recreate' });
    expect(byKind(objects, 'PodDisruptionBudget')).toEqual([]);
  });

  it('emits a data-less Secret annotated "pending" until the tunnel has a token, and redaction never shows a token', () => {
    const pending = compileClusterBundle({ cluster: makeCluster(), tunnels: [connector({})] }).objects;
    const secret = byKind(pending, 'Secret')[0];
    expect(secret?.data).toBeUndefined();
    expect(secret?.metadata.annotations).toEqual({ 'edgeplane.dev/token': 'pending' });
    const withToken = compileClusterBundle({
      cluster: makeCluster(),
      tunnels: [connector({ connectorToken: 'super-secret-token' })],
    }).objects;
    const redacted = redactSecrets(withToken);
    const encoded = Buffer.from('super-secret-token').toString('base64');
    expect(JSON.stringify(withToken)).toContain(encoded);
    expect(JSON.stringify(redacted)).not.toContain(encoded);
    expect(byKind(redacted, 'Secret')[0]?.metadata.annotations).toEqual({ 'edgeplane.dev/redacted': 'token' });
    for (const object of redacted) validate(object);
  });

  it('mode ingress: one Ingress per hostname in the Service namespace, Prefix paths longest first, the configured class', () => {
    const svc = (namespace: string, name: string, port: number) => ({ service: { namespace, name, port } });
    const tunnel = connector({
      tunnel: makeTunnel('t1', {
        mode: { type: 'ingress', className: 'traefik', controller: { namespace: 'kube-system', name: 'traefik', port: 80 } },
      }),
      routes: [
        makeRoute('r1', 'app.example.com', null, svc('web', 'web', 80)),
        makeRoute('r2', 'app.example.com', '/api', svc('web', 'api', 8080)),
        makeRoute('r3', 'ls.example.com', null, svc('ml', 'label-studio-ls-app', 8085)),
        makeRoute('r4', 'raw.example.com', null, { url: 'http://10.0.0.5:8000' }),
      ],
    });
    const ingresses = byKind(compileClusterBundle({ cluster: makeCluster(), tunnels: [tunnel] }).objects, 'Ingress');
    expect(ingresses.map((i) => `${i.metadata.namespace}/${i.metadata.name}`)).toEqual([
      'ml/edgeplane-t1-ls.example.com',
      'web/edgeplane-t1-app.example.com',
    ]);
    expect(spec(ingresses[1])).toEqual({
      ingressClassName: 'traefik',
      rules: [
        {
          host: 'app.example.com',
          http: {
            paths: [
              { path: '/api', pathType: 'Prefix', backend: { service: { name: 'api', port: { number: 8080 } } } },
              { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } },
            ],
          },
        },
      ],
    });
  });

  it('mode gateway: HTTPRoutes with hostnames, PathPrefix matches and the Gateway as parent, split at the 16-rule limit', () => {
    const routes = Array.from({ length: HTTPROUTE_MAX_RULES + 3 }, (_, i) =>
      makeRoute(`r${i}`, 'api.example.com', `/v${i}`, { service: { namespace: 'web', name: 'api', port: 8080 } }),
    );
    const tunnel = connector({
      tunnel: makeTunnel('t1', {
        mode: { type: 'gateway', gateway: { namespace: 'gw', name: 'public' }, service: { namespace: 'gw', name: 'public-gw', port: 80 } },
      }),
      routes,
    });
    const httpRoutes = byKind(compileClusterBundle({ cluster: makeCluster(), tunnels: [tunnel] }).objects, 'HTTPRoute');
    expect(httpRoutes).toHaveLength(2);
    for (const r of httpRoutes) validate(r);
    const first = spec(httpRoutes[0]);
    expect(first.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'gw', name: 'public' }]);
    expect(first.hostnames).toEqual(['api.example.com']);
    const rules = [...httpRoutes.flatMap((r) => spec(r).rules as { matches: { path: { value: string } }[] }[])];
    expect(rules.map((r) => r.matches[0]?.path.value).sort()).toEqual(routes.map((r) => r.path).sort());
  });

  it('emits nothing for a cluster without tunnels', () => {
    expect(compileClusterBundle({ cluster: makeCluster(), tunnels: [] }).objects).toEqual([]);
  });
});

function connector(overrides: Partial<DesiredTunnel>): DesiredTunnel {
  return { tunnel: makeTunnel('t1'), routes: [], privateNetworks: [], ...overrides };
}

function rotate<T>(items: T[], by: number): T[] {
  if (items.length === 0) return items;
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
