import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kube, type KObject } from '../../agent/kube';
import { Metrics } from '../../agent/metrics';
import { ProbeRunner } from '../../agent/probe-runner';
import { StateStore } from '../../agent/state';
import { Syncer } from '../../agent/sync';
import type { Transport } from '../../agent/transport';
import type { AgentStatus, DesiredBundle } from '../../src/shared/api/agent';
import type { ProbeRequest } from '../../src/shared/api/probe';
import { FakeKubeApiserver } from '../fakes/kube-apiserver/server';
import { ROOT } from '../support/worker';
import { startLoopbackTargets, type LoopbackTargets } from '../support/loopback-targets';

// The egress matrix end to end on the cluster side: the agent reads its own pod, creates one Job per node in its
// namespace, the fake's Job controller and kubelet run the agent's own command with `probe` on each "node" (a local
// process behind that node's firewall rules), and the agent reads each result from the pod's termination message,
// then deletes the Jobs. Targets are loopback servers started here.

const CLUSTER = 'c1';
const NAMESPACE = 'edgeplane-system';
const AGENT_POD = 'edgeplane-agent-7d9f8-abcde';
/** The agent's container as the fake's kubelet can run it: this Node with tsx, on the agent's entry point. */
const AGENT_COMMAND = [process.execPath, '--import', 'tsx', path.join(ROOT, 'agent/main.ts')];

let fake: FakeKubeApiserver;
let kube: Kube;
let targets: LoopbackTargets;

beforeAll(async () => {
  targets = await startLoopbackTargets();
  fake = await new FakeKubeApiserver({ nodes: ['cp-1', 'worker-1', 'worker-2'] }).start();
  kube = await Kube.connect(undefined, fake.kubeconfig());
  fake.applyAs('kubectl', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  // The agent's own pod, as its Deployment would have made it: the bundle from a ConfigMap, a bootstrap Secret.
  fake.applyAs('kube-controller-manager', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: AGENT_POD, namespace: NAMESPACE, labels: { app: 'edgeplane-agent' } },
    spec: {
      serviceAccountName: 'edgeplane-agent',
      securityContext: { runAsNonRoot: true, runAsUser: 1000 },
      containers: [
        {
          name: 'agent',
          image: 'node:24-slim',
          command: AGENT_COMMAND,
          securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
          volumeMounts: [
            { name: 'agent-bundle', mountPath: '/opt/edgeplane', readOnly: true },
            { name: 'bootstrap', mountPath: '/var/run/edgeplane/bootstrap', readOnly: true },
          ],
        },
      ],
      volumes: [
        { name: 'agent-bundle', configMap: { name: 'edgeplane-agent-bundle' } },
        { name: 'bootstrap', secret: { secretName: 'edgeplane-bootstrap' } },
      ],
    },
  });
  // worker-1's firewall drops packets to the TCP target (timeout), worker-2's rejects them (refused).
  fake.jobs.firewalls.set('worker-1', { drop: [`127.0.0.1:${targets.tcpPort}`] });
  fake.jobs.firewalls.set('worker-2', { reject: [`127.0.0.1:${targets.tcpPort}`] });
});
afterAll(async () => {
  await fake.stop();
  await targets.close();
});

const probe = (id: string, nodes: string[] | null = null): ProbeRequest => ({
  id,
  targets: [
    { host: '127.0.0.1', port: targets.tcpPort, tls: false, tlsVerify: true },
    { host: 'db.nonexistent.invalid', port: 5432, tls: false, tlsVerify: true },
    { host: '127.0.0.1', port: targets.silentPort, tls: true, tlsVerify: false },
  ],
  nodes,
  timeoutMs: 1500,
  hostNetwork: false,
});

const runner = (onDone: () => void = () => undefined) =>
  new ProbeRunner({ kube, clusterId: CLUSTER, namespace: NAMESPACE, podName: AGENT_POD, onDone, startBudgetMs: 30_000, pollMs: 100 });

describe('egress probes through per-node Jobs', () => {
  it('runs one Job per node with the agent image and command, reads each matrix row from the termination message, and cleans up', async () => {
    let done = 0;
    const probes = runner(() => done++);
    const mark = fake.log.length;
    probes.want([probe('prb_all')]);
    await probes.idle();
    expect(done).toBe(1);
    const [report] = probes.reports();
    expect(report?.id).toBe('prb_all');
    const rows = new Map(report?.nodes.map((n) => [n.node, n]));
    expect([...rows.keys()].sort()).toEqual(['cp-1', 'worker-1', 'worker-2']);
    for (const row of rows.values()) expect(row.ran).toBe(true);
    const kinds = (node: string) => rows.get(node)?.outcomes.map((o) => (o.ok ? 'ok' : o.error?.kind));
    expect(kinds('cp-1')).toEqual(['ok', 'dns', 'timeout']);
    expect(kinds('worker-1')).toEqual(['timeout', 'dns', 'timeout']);
    expect(kinds('worker-2')).toEqual(['refused', 'dns', 'timeout']);
    expect(rows.get('worker-2')?.outcomes[0]?.error?.message).toContain('ECONNREFUSED');

    // The kubelet ran the agent's own command with `probe`, once per node.
    expect(fake.jobs.ran.map((r) => r.node).sort()).toEqual(['cp-1', 'worker-1', 'worker-2']);
    for (const r of fake.jobs.ran) expect(r.command).toEqual([...AGENT_COMMAND, 'probe']);

    // Every call stayed in the agent's namespace (Jobs and Pods), apart from listing the nodes.
    const calls = fake.log.slice(mark).map((l) => `${l.method} ${l.path}`);
    for (const call of calls)
      expect(call).toMatch(
        /^(GET \/api\/v1\/nodes|GET \/apis?\/[^ ]*|(GET|POST|DELETE) \/apis?\/[a-z0-9./]+\/namespaces\/edgeplane-system\/(pods|jobs)(\/.*)?)$/,
      );
    expect(calls.filter((c) => c.startsWith('POST')).length).toBe(3);
    // Cleaned up: no Job and no probe pod left.
    expect(fake.objects('Job', NAMESPACE)).toEqual([]);
    expect(fake.objects('Pod', NAMESPACE).map((p) => (p.metadata as { name: string }).name)).toEqual([AGENT_POD]);
  }, 60_000);

  it('builds the Job pinned to its node, tolerating taints, with no credentials and only the bundle ConfigMap', async () => {
    const probes = runner();
    const created: KObject[] = [];
    const original = kube.create.bind(kube);
    kube.create = (object) => {
      created.push(object);
      return original(object);
    };
    probes.want([probe('prb_one', ['worker-1', 'ghost'])]);
    await probes.idle();
    kube.create = original;
    expect(created).toHaveLength(1);
    const job = created[0] as KObject & {
      spec: { backoffLimit: number; ttlSecondsAfterFinished: number; template: { spec: Record<string, unknown> } };
    };
    expect(job.metadata.namespace).toBe(NAMESPACE);
    expect(job.spec.backoffLimit).toBe(0);
    expect(job.spec.ttlSecondsAfterFinished).toBeGreaterThan(0);
    const pod = job.spec.template.spec as {
      nodeName: string;
      automountServiceAccountToken: boolean;
      hostNetwork?: boolean;
      tolerations: unknown[];
      volumes: { name: string }[];
      containers: { image: string; command: string[]; args: string[]; volumeMounts: { name: string }[]; securityContext: unknown }[];
    };
    expect(pod.nodeName).toBe('worker-1');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.hostNetwork).toBeUndefined();
    expect(pod.tolerations).toEqual([
      { operator: 'Exists', effect: 'NoSchedule' },
      { operator: 'Exists', effect: 'NoExecute' },
    ]);
    expect(pod.volumes.map((v) => v.name)).toEqual(['agent-bundle']);
    expect(pod.containers[0]).toMatchObject({
      image: 'node:24-slim',
      command: AGENT_COMMAND,
      args: ['probe'],
      volumeMounts: [{ name: 'agent-bundle' }],
      securityContext: { readOnlyRootFilesystem: true },
    });
    const rows = probes.reports()[0]?.nodes ?? [];
    expect(rows.map((r) => [r.node, r.ran])).toEqual([
      ['worker-1', true],
      ['ghost', false],
    ]);
    expect(rows[1]?.message).toBe('node ghost does not exist in the cluster');
  }, 60_000);

  it('reports a node whose pod never runs as not run, with the reason, once the deadline passes', async () => {
    // A Node object whose kubelet is gone: the pod is bound but never started.
    fake.applyAs('k3s', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'worker-3' } });
    fake.jobs.deadNodes.add('worker-3');
    const probes = new ProbeRunner({
      kube,
      clusterId: CLUSTER,
      namespace: NAMESPACE,
      podName: AGENT_POD,
      onDone: () => undefined,
      startBudgetMs: 300,
      pollMs: 50,
    });
    probes.want([probe('prb_dead', ['worker-3'])]);
    await probes.idle();
    const [row] = probes.reports()[0]?.nodes ?? [];
    expect(row).toMatchObject({ node: 'worker-3', ran: false, outcomes: [] });
    expect(row?.message).toContain('did not finish before the deadline (phase Pending');
    expect(fake.objects('Job', NAMESPACE)).toEqual([]);
  }, 30_000);

  it('says why when the agent cannot read its own pod', async () => {
    const probes = new ProbeRunner({ kube, clusterId: CLUSTER, namespace: NAMESPACE, podName: 'gone', onDone: () => undefined });
    probes.want([probe('prb_nopod', ['cp-1'])]);
    await probes.idle();
    expect(probes.reports()[0]?.nodes[0]).toMatchObject({ node: 'cp-1', ran: false });
    expect(probes.reports()[0]?.nodes[0]?.message).toContain(`cannot read the agent's own pod ${NAMESPACE}/gone (404`);
  });
});

/** The Worker as the Syncer sees it: serves one bundle, keeps the reports. */
class FakeWorker implements Pick<Transport, 'fetchDesired' | 'postStatus'> {
  readonly reports: AgentStatus[] = [];
  constructor(public bundle: DesiredBundle) {}

  fetchDesired(): ReturnType<Transport['fetchDesired']> {
    return Promise.resolve({ kind: 'bundle', bundle: this.bundle, etag: `"${this.bundle.revision}"` });
  }

  postStatus(report: AgentStatus): ReturnType<Transport['postStatus']> {
    this.reports.push(report);
    return Promise.resolve({ ok: true, value: null });
  }
}

describe('probes travel in the bundle and come back in status reports', () => {
  it('runs a bundle probe once, reports it until the bundle drops it, then forgets it', async () => {
    const bundle: DesiredBundle = {
      clusterId: CLUSTER,
      revision: 5,
      hash: 'h5',
      objects: [],
      origins: [],
      prune: { maxDeletes: 10, windowSeconds: 600, allowEmpty: true, approval: null },
      probes: [probe('prb_bundle', ['cp-1'])],
    };
    const worker = new FakeWorker(bundle);
    const store = new StateStore(kube, NAMESPACE);
    let woken = 0;
    const probes = runner(() => woken++);
    const agent = new Syncer(CLUSTER, kube, worker, store, await store.load(), new Metrics(), 4, probes);
    await agent.sync();
    expect(worker.reports.at(-1)?.probes).toBeUndefined();
    await probes.idle();
    expect(woken).toBe(1);
    await agent.sync();
    expect(worker.reports.at(-1)?.probes?.[0]).toMatchObject({ id: 'prb_bundle', nodes: [{ node: 'cp-1', ran: true }] });
    // The same bundle again: nothing re-run, the same report not sent twice.
    const sent = worker.reports.length;
    const ran = fake.jobs.ran.length;
    await agent.sync();
    expect(worker.reports.length).toBe(sent);
    expect(fake.jobs.ran.length).toBe(ran);
    // The Worker recorded it: the next bundle no longer lists it, and the report drops it.
    worker.bundle = { ...bundle, revision: 6, probes: [] };
    await agent.sync();
    expect(worker.reports.at(-1)?.probes).toBeUndefined();
  }, 60_000);
});
