import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { ClusterDryRun } from '../../src/shared/api/cluster-dry-run';
import type { PlanReport } from '../../src/shared/api/plan';
import type { JsonObject } from '../fakes/kube-apiserver/fields';
import { FakeKubeApiserver } from '../fakes/kube-apiserver/server';
import { freePort, migrate, tempDir, waitFor, WorkerProcess } from '../support/worker';
import { AgentProcess, removeAgentBundle, writeFile } from './harness';

// The cluster pre-flight end to end: the Worker in workerd (wrangler dev, local D1, the ClusterNotifier), the agent as
// a real process and the fake kube-apiserver. A plan asks for a server-side dry run; the agent is told over its notify
// socket, dry-runs the plan's bundle and the plan answers per object. Every wait is on an observable event.

let worker: WorkerProcess;
let fake: FakeKubeApiserver;
let dir: string;
let kubeconfig: string;
let agent: AgentProcess | undefined;
const cluster = 'preflight';
const tunnel = 'main';

type Meta = { name: string; namespace?: string };
const meta = (o: JsonObject) => o.metadata as unknown as Meta;
const ingresses = () => fake.objects('Ingress').map((o) => `${meta(o).namespace ?? ''}/${meta(o).name}`);

const newRoute = (hostname: string) => ({
  action: 'route.create',
  route: { tunnel, hostname, origin: { service: { namespace: 'apps', name: 'label-studio-ls-app', port: 8085 } }, dns: false },
});

async function dryRunOf(body: unknown): Promise<ClusterDryRun | undefined> {
  const report = await worker.apiOk<PlanReport>('POST', '/v1/plan', body);
  return report.clusters.find((c) => c.id === cluster)?.dryRun;
}

beforeAll(async () => {
  dir = tempDir('dry-run-e2e');
  migrate(dir);
  worker = new WorkerProcess(await freePort(), dir);
  fake = await new FakeKubeApiserver({ controllerDelayMs: 10 }).start();
  kubeconfig = writeFile(dir, 'kubeconfig', fake.kubeconfig());
  await worker.start();
  fake.applyAs('helm', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps' } });
  fake.applyAs('helm', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'traefik', namespace: 'kube-system' },
    spec: { type: 'LoadBalancer', ports: [{ name: 'web', port: 80 }] },
  });
  fake.applyAs('helm', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'label-studio-ls-app', namespace: 'apps' },
    spec: { ports: [{ name: 'http', port: 8085 }] },
  });
  await worker.apiOk('POST', '/v1/clusters', { id: cluster, name: 'Pre-flight' });
  await worker.apiOk('POST', '/v1/tunnels', {
    id: tunnel,
    cluster,
    account: '0123456789abcdef0123456789abcdef',
    mode: { type: 'ingress' },
  });
  await worker.apiOk('POST', '/v1/routes', newRoute('ls.example.com').route);
  const manifest = await worker.api('GET', `/v1/clusters/${cluster}/install.yaml`);
  const docs = parseAllDocuments(await manifest.text()).map((d) => d.toJSON() as JsonObject);
  for (const doc of docs) expect(fake.applyAs('kubectl', doc).ok).toBe(true);
  const secret = docs.find((d) => d.kind === 'Secret');
  writeFile(dir, 'token', String((secret?.stringData as Record<string, string> | undefined)?.token ?? ''));
}, 120_000);

afterAll(async () => {
  await agent?.kill();
  await worker?.stop();
  await fake?.stop();
  rmSync(dir, { recursive: true, force: true });
  removeAgentBundle();
});

describe('cluster pre-flight end to end', () => {
  it('says no agent is registered before one is, and runs nothing', async () => {
    const dryRun = await dryRunOf({ changes: [newRoute('early.example.com')], cluster: { dryRun: true } });
    expect(dryRun?.status).toBe('no_agent');
    expect(dryRun?.message).toContain(`no agent has registered for cluster "${cluster}"`);
    expect(fake.log.some((l) => l.dryRun)).toBe(false);
  });

  it("reports another manager's field as a conflict and an object the API server refuses as invalid, and saves nothing", async () => {
    agent = await AgentProcess.start({
      workerUrl: worker.url,
      clusterId: cluster,
      kubeconfigPath: kubeconfig,
      bootstrapTokenPath: `${dir}/token`,
      port: await freePort(),
    });
    const live = agent;
    await waitFor("the route's Ingress in the cluster", ingresses, (i) => i.some((n) => n.includes('ls.example.com')), 30_000);
    await waitFor(
      'the notify socket',
      async () => (await fetch(`http://127.0.0.1:${live.port}/healthz`)).json() as Promise<{ notify: string }>,
      (h) => h.notify === 'connected',
      15_000,
    );
    // Helm takes a field of edgeplane's Ingress; an admission policy refuses hosts under blocked.example.com.
    const ingress = fake.objects('Ingress', 'apps').find((o) => meta(o).name.includes('ls.example.com'));
    if (!ingress) throw new Error('no Ingress');
    fake.applyAs(
      'helm',
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: meta(ingress).name, namespace: 'apps' },
        spec: { ...(ingress.spec as JsonObject), ingressClassName: 'nginx' },
      } as JsonObject,
      { force: true },
    );
    fake.store.admission.push({
      name: 'no-blocked-hosts',
      kinds: ['Ingress'],
      deny: (o) =>
        JSON.stringify(o.spec).includes('blocked.example.com')
          ? "failed expression: !object.spec.rules.exists(r, r.host.endsWith('blocked.example.com'))"
          : undefined,
    });
    const routesBefore = (await worker.apiOk<{ items: unknown[] }>('GET', '/v1/routes')).items.length;
    const dryRunsBefore = fake.log.filter((l) => l.dryRun).length;

    const dryRun = await dryRunOf({ changes: [newRoute('app.blocked.example.com')], cluster: { dryRun: true, waitSeconds: 20 } });
    expect(dryRun).toMatchObject({ status: 'completed', cluster, kubernetesVersion: 'v1.31.4+k3s1' });
    const objects = dryRun?.objects ?? [];
    const conflict = objects.find((o) => o.kind === 'Ingress' && o.name.includes('ls.example.com'));
    expect(conflict).toMatchObject({ outcome: 'conflict', conflicts: [{ field: '.spec.ingressClassName', manager: 'helm' }] });
    const invalid = objects.find((o) => o.kind === 'Ingress' && o.name.includes('blocked.example.com'));
    expect(invalid?.outcome).toBe('invalid');
    expect(invalid?.message).toContain("ValidatingAdmissionPolicy 'no-blocked-hosts'");
    // Everything else is the bundle the agent already applied, secrets included: the same objects, unchanged.
    expect(objects.filter((o) => o !== conflict && o !== invalid).map((o) => [o.key, o.outcome])).toEqual(
      objects.filter((o) => o !== conflict && o !== invalid).map((o) => [o.key, 'unchanged']),
    );
    expect(dryRun?.summary).toMatchObject({ conflict: 1, invalid: 1, created: 0, changed: 0, error: 0 });

    // Every object went to the API server once as a dry run by edgeplane; nothing was saved, there or in D1.
    const dryRuns = fake.log.filter((l) => l.dryRun).slice(dryRunsBefore);
    expect(dryRuns.length).toBe(objects.length);
    expect(dryRuns.every((l) => l.method === 'PATCH' && l.fieldManager === 'edgeplane' && !l.force)).toBe(true);
    expect(ingresses().some((n) => n.includes('blocked.example.com'))).toBe(false);
    expect((fake.objects('Ingress', 'apps').find((o) => meta(o).name === meta(ingress).name)?.spec as JsonObject).ingressClassName).toBe(
      'nginx',
    );
    expect((await worker.apiOk<{ items: unknown[] }>('GET', '/v1/routes')).items.length).toBe(routesBefore);
    // The result stays readable at its URL.
    const later = await worker.apiOk<ClusterDryRun>('GET', dryRun?.url ?? '');
    expect(later.objects).toEqual(objects);
    fake.store.admission.length = 0;
  }, 90_000);

  it('says the agent cannot be asked once its notify socket is gone', async () => {
    await agent?.kill();
    agent = undefined;
    const dryRun = await waitFor(
      'the notifier to see the socket close',
      () => dryRunOf({ changes: [newRoute('late.example.com')], cluster: { dryRun: true, waitSeconds: 0 } }),
      (d) => d?.status === 'no_agent',
      15_000,
    );
    expect(dryRun?.message).toContain('has no notify channel open');
  }, 30_000);
});
