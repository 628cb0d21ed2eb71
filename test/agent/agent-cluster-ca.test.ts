import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterCaReader } from '../../agent/cluster-ca';
import { Kube } from '../../agent/kube';
import { Metrics } from '../../agent/metrics';
import { StateStore } from '../../agent/state';
import { Syncer } from '../../agent/sync';
import type { Transport } from '../../agent/transport';
import { agentStatus, type AgentStatus, type DesiredBundle } from '../../src/shared/api/agent';
import { FakeKubeApiserver } from '../fakes/kube-apiserver/server';
import { FAKE_ROOT_CA, ROOT_CA_CONFIGMAP } from '../fakes/kube-apiserver/root-ca';

// The cluster CA for the WARP kubeconfig (docs/diagnostics.md): the agent reads `ca.crt` of the `kube-root-ca.crt`
// ConfigMap that Kubernetes publishes in its namespace (by name: its Role grants get on that one ConfigMap) and sends it
// with its status report, where the Worker keeps it.

const CLUSTER = 'c-ca';
const NAMESPACE = 'edgeplane-system';
const CA_PATH = `/api/v1/namespaces/${NAMESPACE}/configmaps/${ROOT_CA_CONFIGMAP}`;

let fake: FakeKubeApiserver;
let kube: Kube;

beforeAll(async () => {
  fake = await new FakeKubeApiserver().start();
  kube = await Kube.connect(undefined, fake.kubeconfig());
  // The install manifest creates the namespace; the fake's root-ca publisher then writes kube-root-ca.crt into it.
  fake.applyAs('kubectl', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
});
afterAll(async () => {
  await fake.stop();
});

class FakeWorker implements Pick<Transport, 'fetchDesired' | 'postStatus'> {
  readonly reports: AgentStatus[] = [];
  readonly bundle: DesiredBundle = {
    clusterId: CLUSTER,
    revision: 1,
    hash: 'h1',
    objects: [],
    origins: [],
    prune: { maxDeletes: 10, windowSeconds: 600, allowEmpty: true, approval: null },
    probes: [],
  };

  fetchDesired(): ReturnType<Transport['fetchDesired']> {
    return Promise.resolve({ kind: 'bundle', bundle: this.bundle, etag: `"${this.bundle.revision}"` });
  }

  postStatus(report: AgentStatus): ReturnType<Transport['postStatus']> {
    // What the Worker would accept: the report as the status schema reads it.
    this.reports.push(agentStatus.parse(report));
    return Promise.resolve({ ok: true, value: null });
  }
}

const caConfigMap = () => fake.objects('ConfigMap', NAMESPACE).find((c) => (c.metadata as { name: string }).name === ROOT_CA_CONFIGMAP);

describe('the agent reports the cluster CA', () => {
  it('the fake publishes kube-root-ca.crt in a new namespace, as kube-controller-manager does', () => {
    expect(caConfigMap()).toMatchObject({ data: { 'ca.crt': FAKE_ROOT_CA } });
  });

  it('sends ca.crt of its namespace in the status report, read by name, and waits for it while it is not published', async () => {
    const configMaps = fake.type('', 'ConfigMap');
    fake.store.delete(configMaps, NAMESPACE, ROOT_CA_CONFIGMAP);
    const worker = new FakeWorker();
    const store = new StateStore(kube, NAMESPACE);
    const agent = new Syncer(CLUSTER, kube, worker, store, await store.load(), new Metrics(), 4);

    await agent.sync();
    expect(worker.reports).toHaveLength(1);
    expect(worker.reports[0]?.clusterCa).toBeUndefined();

    // Published now (as the controller does for a namespace it has not reached yet): the next pass reports it at once.
    fake.publishRootCa(NAMESPACE);
    const before = fake.log.length;
    await agent.sync();
    expect(worker.reports).toHaveLength(2);
    expect(worker.reports[1]?.clusterCa).toBe(FAKE_ROOT_CA);
    // One GET of that one ConfigMap, never a list of ConfigMaps (the Role names it with resourceNames).
    const reads = fake.log.slice(before).filter((r) => r.path.includes('/configmaps'));
    expect(reads.filter((r) => r.path.startsWith(CA_PATH))).toEqual([expect.objectContaining({ method: 'GET', status: 200 })]);
    expect(reads.some((r) => r.method === 'GET' && /\/configmaps(\?|$)/.test(r.path))).toBe(false);

    // Unchanged: the same report is not sent again.
    await agent.sync();
    expect(worker.reports).toHaveLength(2);
  });

  it('reads the CA again after its interval (a CA rotation publishes a bundle of two)', async () => {
    const reader = new ClusterCaReader(kube, NAMESPACE, 1000);
    expect(await reader.read(0)).toBe(FAKE_ROOT_CA);
    const rotated = FAKE_ROOT_CA + FAKE_ROOT_CA;
    fake.applyAs('kube-controller-manager', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: ROOT_CA_CONFIGMAP, namespace: NAMESPACE },
      data: { 'ca.crt': rotated },
    });
    expect(await reader.read(500)).toBe(FAKE_ROOT_CA);
    expect(await reader.read(1500)).toBe(rotated);
  });

  it('keeps the last CA when the ConfigMap holds no certificate, and reports none it never read', async () => {
    fake.applyAs('kube-controller-manager', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: ROOT_CA_CONFIGMAP, namespace: NAMESPACE },
      data: { 'ca.crt': 'not a certificate' },
    });
    expect(await new ClusterCaReader(kube, NAMESPACE).read()).toBeUndefined();
    const reader = new ClusterCaReader(kube, NAMESPACE, 0);
    fake.applyAs('kube-controller-manager', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: ROOT_CA_CONFIGMAP, namespace: NAMESPACE },
      data: { 'ca.crt': FAKE_ROOT_CA },
    });
    expect(await reader.read()).toBe(FAKE_ROOT_CA);
    fake.store.delete(fake.type('', 'ConfigMap'), NAMESPACE, ROOT_CA_CONFIGMAP);
    expect(await reader.read()).toBe(FAKE_ROOT_CA);
  });
});
