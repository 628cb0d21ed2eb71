import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeInventory, encodeInventory } from '../../agent/inventory';
import { Kube, type KObject } from '../../agent/kube';
import { Metrics } from '../../agent/metrics';
import { STATE_CONFIGMAP, StateStore } from '../../agent/state';
import { Syncer } from '../../agent/sync';
import type { Transport } from '../../agent/transport';
import type { AgentStatus, DesiredBundle } from '../../src/shared/api/agent';
import { FakeKubeApiserver } from '../fakes/kube-apiserver/server';

// The inventory keys objects by group, kind, namespace and name: a bundle that moves an object to another apiVersion
// still holds it, so prune never deletes it (issue 9). Driven through the Syncer against the fake apiserver, which
// serves HTTPRoute as gateway.networking.k8s.io/v1 and /v1beta1 (one object, two versions, as the Gateway API CRDs do).

const CLUSTER = 'c1';
const NAMESPACE = 'edgeplane-system';
const labels = { 'app.kubernetes.io/managed-by': 'edgeplane', 'edgeplane.dev/cluster': CLUSTER };

let fake: FakeKubeApiserver;
let kube: Kube;

beforeAll(async () => {
  fake = await new FakeKubeApiserver({ controllerDelayMs: 5 }).start();
  kube = await Kube.connect(undefined, fake.kubeconfig());
  fake.applyAs('kubectl', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
});
afterAll(() => fake.stop());

const httpRoute = (name: string, apiVersion: string, hostname: string): KObject => ({
  apiVersion,
  kind: 'HTTPRoute',
  metadata: { name, namespace: 'default', labels },
  spec: {
    parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'gateways', name: 'public' }],
    hostnames: [hostname],
    rules: [{ backendRefs: [{ name: 'web', port: 80 }] }],
  },
});

const configMap = (name: string): KObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default', labels },
  data: { a: '1' },
});

/** The Worker as the Syncer sees it: serves the bundle set last, keeps the reports. */
class FakeWorker implements Pick<Transport, 'fetchDesired' | 'postStatus'> {
  bundle: DesiredBundle | undefined;
  /** The Worker cannot be reached: the agent repairs drift from its last bundle and prunes nothing. */
  offline = false;
  readonly reports: AgentStatus[] = [];

  serve(revision: number, objects: KObject[]): void {
    this.bundle = {
      clusterId: CLUSTER,
      revision,
      hash: `h${revision}`,
      objects,
      origins: [],
      prune: { maxDeletes: 10, windowSeconds: 600, allowEmpty: false, approval: null },
      probes: [],
    };
  }

  fetchDesired(): ReturnType<Transport['fetchDesired']> {
    const bundle = this.offline ? undefined : this.bundle;
    return Promise.resolve(
      bundle ? { kind: 'bundle', bundle, etag: `"${bundle.revision}"` } : { kind: 'unreachable', message: 'no bundle yet' },
    );
  }

  postStatus(report: AgentStatus): ReturnType<Transport['postStatus']> {
    this.reports.push(report);
    return Promise.resolve({ ok: true, value: null });
  }
}

const routes = () => fake.objects('HTTPRoute', 'default').map((o) => (o.metadata as { name: string }).name);
const stateData = () =>
  fake.objects('ConfigMap', NAMESPACE).find((o) => (o.metadata as { name: string }).name === STATE_CONFIGMAP)?.data as
    Record<string, string> | undefined;
const deletesSince = (mark: number) => fake.log.slice(mark).filter((l) => l.method === 'DELETE');

async function syncer(worker: FakeWorker): Promise<Syncer> {
  const store = new StateStore(kube, NAMESPACE);
  const state = await store.load();
  return new Syncer(CLUSTER, kube, worker, store, state, new Metrics(), 4);
}

beforeEach(async () => {
  // Each test starts from an empty state ConfigMap and no HTTPRoutes.
  for (const name of routes())
    await kube.delete({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', namespace: 'default', name });
  await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: NAMESPACE, name: STATE_CONFIGMAP });
});

describe('an object moved to another apiVersion', () => {
  it('is applied under the new version and never pruned: no DELETE is sent', async () => {
    const worker = new FakeWorker();
    const agent = await syncer(worker);
    worker.serve(1, [httpRoute('web', 'gateway.networking.k8s.io/v1beta1', 'a.example.com')]);
    expect(await agent.sync()).toBe('applied');
    expect(routes()).toEqual(['web']);
    expect(JSON.parse(stateData()?.inventory ?? '')).toEqual([{ id: 'gateway.networking.k8s.io/HTTPRoute/default/web', v: 'v1beta1' }]);

    const mark = fake.log.length;
    worker.serve(2, [httpRoute('web', 'gateway.networking.k8s.io/v1', 'b.example.com')]);
    expect(await agent.sync()).toBe('applied');
    expect(deletesSince(mark)).toEqual([]);
    const [route] = fake.objects('HTTPRoute', 'default');
    expect(route?.spec).toMatchObject({ hostnames: ['b.example.com'] });
    // The same object (uid kept), now written through v1.
    const managers = (route?.metadata as { managedFields: { manager: string; apiVersion: string }[] }).managedFields;
    expect(managers.find((m) => m.manager === 'edgeplane')?.apiVersion).toBe('gateway.networking.k8s.io/v1');
    const report = worker.reports.at(-1);
    expect(report).toMatchObject({ revision: 2, applied: true, pruned: [] });
    expect(report?.results.map((r) => [r.apiVersion, r.name, r.action])).toEqual([['gateway.networking.k8s.io/v1', 'web', 'configured']]);
    // Recorded under the version it now has, so a later prune addresses it by a version the bundle still uses.
    expect(JSON.parse(stateData()?.inventory ?? '')).toEqual([{ id: 'gateway.networking.k8s.io/HTTPRoute/default/web', v: 'v1' }]);

    // The same holds after a restart (the inventory read back from the ConfigMap) and back to the older version.
    const restarted = await syncer(worker);
    worker.serve(3, [httpRoute('web', 'gateway.networking.k8s.io/v1beta1', 'b.example.com')]);
    await restarted.sync();
    expect(deletesSince(mark)).toEqual([]);
    expect(routes()).toEqual(['web']);
  });

  it('still prunes an object that left the bundle, by the version it was applied with', async () => {
    const worker = new FakeWorker();
    const agent = await syncer(worker);
    worker.serve(1, [
      httpRoute('kept', 'gateway.networking.k8s.io/v1beta1', 'k.example.com'),
      httpRoute('gone', 'gateway.networking.k8s.io/v1beta1', 'g.example.com'),
    ]);
    await agent.sync();
    expect(routes()).toEqual(['gone', 'kept']);
    const mark = fake.log.length;
    worker.serve(2, [httpRoute('kept', 'gateway.networking.k8s.io/v1', 'k.example.com')]);
    await agent.sync();
    expect(routes()).toEqual(['kept']);
    expect(deletesSince(mark).map((l) => l.path)).toEqual(['/apis/gateway.networking.k8s.io/v1beta1/namespaces/default/httproutes/gone']);
    expect(worker.reports.at(-1)?.pruned).toEqual(['gateway.networking.k8s.io/v1beta1/HTTPRoute/default/gone']);
  });
  it('keeps the version it was applied with until the new one is applied, so a later prune still finds the object', async () => {
    const worker = new FakeWorker();
    const agent = await syncer(worker);
    worker.serve(1, [configMap('moving'), configMap('anchor')]);
    await agent.sync();
    // A version the API server does not serve: the apply fails and the object stays recorded under v1.
    worker.serve(2, [{ ...configMap('moving'), apiVersion: 'v2' }, configMap('anchor')]);
    await agent.sync();
    expect(worker.reports.at(-1)?.results.find((r) => r.name === 'moving')).toMatchObject({ apiVersion: 'v2', action: 'error' });
    expect(JSON.parse(stateData()?.inventory ?? '')).toContainEqual({ id: '/ConfigMap/default/moving', v: 'v1' });
    const mark = fake.log.length;
    worker.serve(3, [configMap('anchor')]);
    await agent.sync();
    expect(deletesSince(mark).map((l) => l.path)).toEqual(['/api/v1/namespaces/default/configmaps/moving']);
    expect(worker.reports.at(-1)?.pruned).toEqual(['v1/ConfigMap/default/moving']);
  });
});

describe('an inventory written before the version left the key', () => {
  it('is migrated on read: the moved object survives, what left the bundle is pruned, the ConfigMap is rewritten', async () => {
    // What an agent of the first format left behind: objects applied through v1beta1, keys with the apiVersion.
    const oldRoute = httpRoute('legacy', 'gateway.networking.k8s.io/v1beta1', 'l.example.com');
    expect(fake.applyAs('edgeplane', oldRoute as never).ok).toBe(true);
    expect(fake.applyAs('edgeplane', configMap('leftover') as never).ok).toBe(true);
    expect(
      fake.applyAs('edgeplane', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: STATE_CONFIGMAP, namespace: NAMESPACE },
        data: {
          revision: '7',
          hash: 'h7',
          inventory: JSON.stringify(['gateway.networking.k8s.io/v1beta1/HTTPRoute/default/legacy', 'v1/ConfigMap/default/leftover']),
        },
      }).ok,
    ).toBe(true);

    const store = new StateStore(kube, NAMESPACE);
    expect(await store.load()).toEqual({
      revision: 7,
      hash: 'h7',
      inventory: [
        { key: '/ConfigMap/default/leftover', apiVersion: 'v1' },
        { key: 'gateway.networking.k8s.io/HTTPRoute/default/legacy', apiVersion: 'gateway.networking.k8s.io/v1beta1' },
      ],
      // A state written before the prune breaker kept a window: nothing deleted, no approval used.
      prune: { deletions: [], approvalUsed: 0 },
    });

    const worker = new FakeWorker();
    const agent = await syncer(worker);
    const mark = fake.log.length;
    worker.serve(8, [httpRoute('legacy', 'gateway.networking.k8s.io/v1', 'l.example.com')]);
    await agent.sync();
    expect(routes()).toEqual(['legacy']);
    expect(deletesSince(mark).map((l) => l.path)).toEqual(['/api/v1/namespaces/default/configmaps/leftover']);
    expect(JSON.parse(stateData()?.inventory ?? '')).toEqual([{ id: 'gateway.networking.k8s.io/HTTPRoute/default/legacy', v: 'v1' }]);
  });

  it('is rewritten in the current format even when nothing else changes', async () => {
    expect(
      fake.applyAs('edgeplane', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: STATE_CONFIGMAP, namespace: NAMESPACE },
        data: { revision: '1', hash: 'h', inventory: JSON.stringify(['v1/Namespace//edgeplane-tunnels']) },
      }).ok,
    ).toBe(true);
    const store = new StateStore(kube, NAMESPACE);
    await store.save(await store.load());
    expect(JSON.parse(stateData()?.inventory ?? '')).toEqual([{ id: '/Namespace//edgeplane-tunnels', v: 'v1' }]);
    // Current now: the next identical save writes nothing.
    const writes = fake.writes;
    const again = new StateStore(kube, NAMESPACE);
    await again.save(await again.load());
    expect(fake.writes).toBe(writes);
  });
});

describe('decodeInventory', () => {
  it('reads both formats, merges an object recorded under two versions, and drops what it cannot read', () => {
    expect(
      decodeInventory(
        JSON.stringify([
          'policy/v1beta1/PodDisruptionBudget/edgeplane-tunnels/cloudflared-t1',
          'policy/v1/PodDisruptionBudget/edgeplane-tunnels/cloudflared-t1',
          'apps/v1/Deployment/edgeplane-tunnels/cloudflared-t1',
          'v1/Namespace//edgeplane-tunnels',
          'nonsense',
          42,
        ]),
      ),
    ).toEqual({
      entries: [
        { key: '/Namespace//edgeplane-tunnels', apiVersion: 'v1' },
        { key: 'apps/Deployment/edgeplane-tunnels/cloudflared-t1', apiVersion: 'apps/v1' },
        { key: 'policy/PodDisruptionBudget/edgeplane-tunnels/cloudflared-t1', apiVersion: 'policy/v1' },
      ],
      current: false,
    });
    const entries = [
      { key: 'apps/Deployment/edgeplane-tunnels/cloudflared-t1', apiVersion: 'apps/v1' },
      { key: '/Secret/edgeplane-tunnels/cloudflared-t1', apiVersion: 'v1' },
    ];
    expect(decodeInventory(encodeInventory(entries))).toEqual({ entries: [entries[1], entries[0]], current: true });
    expect(decodeInventory('{not json')).toEqual({ entries: [], current: false });
    expect(decodeInventory(undefined)).toEqual({ entries: [], current: true });
  });
});

describe('a refused prune', () => {
  it('is reported again by an offline pass, which decides nothing about pruning, instead of reading as lifted', async () => {
    const worker = new FakeWorker();
    const agent = await syncer(worker);
    worker.serve(1, [configMap('keep'), configMap('gone-1'), configMap('gone-2')]);
    await agent.sync();
    worker.serve(2, [configMap('keep')]);
    if (worker.bundle) worker.bundle.prune = { ...worker.bundle.prune, maxDeletes: 1 };
    await agent.sync();
    const refused = worker.reports.at(-1);
    expect(refused?.pruneRefusedObjects).toHaveLength(2);

    worker.offline = true;
    await agent.sync();
    // The offline pass's own report (its conflicts or health may differ) carries the standing refusal.
    const offline = worker.reports.at(-1);
    expect(offline?.pruneRefused).toBe(refused?.pruneRefused);
    expect(offline?.pruneRefusedObjects).toEqual(refused?.pruneRefusedObjects);
    expect(fake.objects('ConfigMap', 'default').map((o) => (o.metadata as { name: string }).name)).toEqual(
      expect.arrayContaining(['keep', 'gone-1', 'gone-2']),
    );
  });
});
