import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { JsonObject } from '../fakes/kube-apiserver/fields';
import { FakeKubeApiserver } from '../fakes/kube-apiserver/server';
import { freePort, migrate, ROOT, tempDir, waitFor, WorkerProcess } from '../support/worker';
import { AgentProcess, writeFile } from './harness';

// The install manifest as a cluster would run it, and the prune breaker's way forward, end to end: the Worker under
// `wrangler dev`, the fake kube-apiserver, and the agent started from the manifest's own Deployment — its command line,
// its environment and the bundle from its ConfigMap, with every volume mounted from a temporary directory. So the
// manifest and the tested agent cannot drift apart. Two things differ from a pod, both named: a kubeconfig stands in
// for the in-cluster service account, and the health port is a free one (tests run side by side).

let worker: WorkerProcess;
let fake: FakeKubeApiserver;
let dir: string;
let kubeconfig: string;
let agent: AgentProcess | undefined;
const cluster = 'pi';
const tunnel = 'home';

interface Container {
  image: string;
  command?: string[];
  args?: string[];
  env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  volumeMounts: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  volumes: { name: string; configMap?: { name: string }; secret?: { secretName: string } }[];
}

type Meta = { name: string; namespace?: string };
const meta = (o: JsonObject) => o.metadata as unknown as Meta;
const ingresses = () =>
  fake
    .objects('Ingress', 'apps')
    .map((o) => meta(o).name)
    .sort();

let docs: JsonObject[] = [];
let launch: { command: string[]; env: Record<string, string> } | undefined;

/** The Deployment's container as a process: volumes become directories holding the ConfigMap/Secret data. */
function processFromManifest(objects: JsonObject[]): { command: string[]; env: Record<string, string> } {
  const deployment = objects.find((d) => d.kind === 'Deployment');
  const pod = (deployment?.spec as unknown as { template: { spec: PodSpec } }).template.spec;
  const [container] = pod.containers;
  if (!container?.command) throw new Error('the manifest runs no command');
  const mounts = new Map<string, string>();
  for (const mount of container.volumeMounts) {
    const volume = pod.volumes.find((v) => v.name === mount.name);
    const source = objects.find(
      (d) =>
        (volume?.configMap && d.kind === 'ConfigMap' && meta(d).name === volume.configMap.name) ||
        (volume?.secret && d.kind === 'Secret' && meta(d).name === volume.secret.secretName),
    );
    const files = (source?.data ?? source?.stringData ?? {}) as Record<string, string>;
    const local = path.join(dir, 'mounts', mount.name);
    mkdirSync(local, { recursive: true });
    for (const [name, content] of Object.entries(files)) writeFileSync(path.join(local, name), content);
    mounts.set(mount.mountPath, local);
  }
  const local = (value: string) => {
    for (const [mountPath, localPath] of mounts) if (value.startsWith(`${mountPath}/`)) return localPath + value.slice(mountPath.length);
    return value;
  };
  const command = [...container.command, ...(container.args ?? [])].map(local);
  // The downward API is the kubelet's: the pod's own name is the one field the manifest asks for.
  const downward = (e: (typeof container.env)[number]) =>
    e.valueFrom?.fieldRef?.fieldPath === 'metadata.name' ? 'edgeplane-agent-0' : undefined;
  const env = Object.fromEntries(
    container.env
      .map((e) => [e.name, e.value !== undefined ? local(e.value) : downward(e)])
      .filter((e): e is [string, string] => e[1] !== undefined),
  );
  return { command, env };
}

/** Starts the agent exactly as the manifest's Deployment would (see the note at the top). */
async function startFromManifest(): Promise<AgentProcess> {
  if (!launch) throw new Error('no manifest');
  const [program, ...args] = launch.command;
  expect(program).toBe('node');
  const port = await freePort();
  const child = spawn(process.execPath, args, {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', ...launch.env, KUBECONFIG: kubeconfig, EDGEPLANE_LISTEN_PORT: String(port) },
  });
  agent = AgentProcess.attach(child, port);
  return agent;
}

beforeAll(async () => {
  dir = tempDir('install-e2e');
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
    metadata: { name: 'web', namespace: 'apps' },
    spec: { ports: [{ name: 'http', port: 8080 }] },
  });
  await worker.apiOk('POST', '/v1/clusters', { id: cluster, name: 'Raspberry Pi' });
  await worker.apiOk('POST', '/v1/tunnels', {
    id: tunnel,
    cluster,
    account: '0123456789abcdef0123456789abcdef',
    mode: { type: 'ingress' },
  });
  const response = await worker.api('GET', `/v1/clusters/${cluster}/install.yaml`);
  expect(response.status).toBe(200);
  docs = parseAllDocuments(await response.text()).map((d) => d.toJSON() as JsonObject);
  for (const doc of docs) expect(fake.applyAs('kubectl', doc).ok).toBe(true);
  launch = processFromManifest(docs);
}, 120_000);

afterAll(async () => {
  await agent?.kill();
  await worker?.stop();
  await fake?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The Node flags and environment agent/Dockerfile runs the agent with, read from the file itself. */
function dockerfileRuntime(): { flags: string[]; env: Record<string, string> } {
  const text = readFileSync(path.join(ROOT, 'agent/Dockerfile'), 'utf8');
  const stage = text.slice(text.lastIndexOf('\nFROM '));
  const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(stage)?.[1] ?? '[]') as string[];
  const env = Object.fromEntries([...stage.matchAll(/^ENV (\w+)=(\S+)$/gm)].map((m) => [m[1] ?? '', m[2] ?? '']));
  return { flags: entrypoint.filter((a) => a.startsWith('--')), env };
}

const route = (hostname: string) =>
  worker.apiOk<{ id: string }>('POST', '/v1/routes', {
    tunnel,
    hostname,
    origin: { service: { namespace: 'apps', name: 'web', port: 8080 } },
    dns: false,
  });

interface Report {
  revision: number;
  pruned: string[];
  pruneRefused: string | null;
  pruneRefusedObjects: string[] | null;
  pruneApproval: { revision: number; approvedBy: string } | null;
}
const latestReport = async () => (await worker.apiOk<{ items: Report[] }>('GET', `/v1/clusters/${cluster}/reports?limit=1`)).items[0];
/** The newest report that refused a prune (a slow CI machine may add a report of an offline pass after it). */
const latestRefusal = async () =>
  (await worker.apiOk<{ items: Report[] }>('GET', `/v1/clusters/${cluster}/reports?limit=10`)).items.find((r) => r.pruneRefusedObjects);

describe('the install manifest on a cluster', () => {
  it('runs the same Node flags and malloc settings as agent/Dockerfile, on the bundle from its ConfigMap', () => {
    const docker = dockerfileRuntime();
    const [, ...args] = launch?.command ?? [];
    expect(args.slice(0, -1)).toEqual(docker.flags);
    for (const [name, value] of Object.entries(docker.env)) expect(launch?.env[name], name).toBe(value);
    const bundle = docs.find((d) => d.kind === 'ConfigMap' && meta(d).name === 'edgeplane-agent-bundle');
    expect(readFileSync(args.at(-1) ?? '', 'utf8')).toBe((bundle?.data as Record<string, string>)['agent.cjs']);
  });

  it('registers and applies a route with the manifest as its only configuration', async () => {
    await startFromManifest();
    await worker.apiOk('PATCH', `/v1/clusters/${cluster}`, { prune: { maxDeletes: 3, windowMinutes: 10 } });
    for (const n of [1, 2, 3, 4, 5, 6]) await route(`r${n}.example.com`);
    await waitFor('six Ingresses', ingresses, (i) => i.length === 6, 30_000);
    await waitFor(
      'the agent connected with its bundle applied',
      () => worker.apiOk<{ appliedRevision: number | null; desiredRevision: number }>('GET', `/v1/clusters/${cluster}`),
      (c) => c.appliedRevision === c.desiredRevision,
      30_000,
    );
  }, 90_000);
});

describe('prune breaker and approval', () => {
  const routeIds = async () =>
    (await worker.apiOk<{ items: { id: string; hostname: string }[] }>('GET', `/v1/routes?tunnel=${tunnel}&limit=100`)).items;
  const remove = async (hostnames: string[]) => {
    for (const r of await routeIds()) if (hostnames.includes(r.hostname)) await worker.apiOk('DELETE', `/v1/routes/${r.id}`);
  };

  it('counts deletions over the window: three deletes pass, the next two are refused, naming revision and objects', async () => {
    await remove(['r1.example.com', 'r2.example.com', 'r3.example.com']);
    await waitFor('three Ingresses pruned', ingresses, (i) => i.length === 3, 30_000);
    await remove(['r4.example.com', 'r5.example.com']);
    const refused = await waitFor('a refusal naming two objects', latestReport, (r) => r?.pruneRefusedObjects?.length === 2, 30_000);
    expect(refused?.pruneRefused).toContain(`revision ${refused?.revision}:`);
    expect(refused?.pruneRefused).toContain(`POST /v1/clusters/${cluster}/prune-approvals {"revision": ${refused?.revision}}`);
    expect(refused?.pruneRefusedObjects?.every((k) => k.startsWith('networking.k8s.io/Ingress/apps/'))).toBe(true);
    expect(ingresses()).toHaveLength(3);
  }, 60_000);

  it('an approval covers exactly the refused set: a larger one is refused again, then approved and deleted exactly', async () => {
    // The agent is down while the operator approves and then deletes one more route: its next pass sees a larger set.
    // The refusal is read once the agent is down: while it runs, it may report the same refusal under a newer revision.
    expect(await agent?.kill('SIGTERM')).toBe(0);
    const first = await latestRefusal();
    if (!first?.pruneRefusedObjects) throw new Error('no refusal');
    expect(first.pruneRefusedObjects).toHaveLength(2);
    await worker.apiOk('POST', `/v1/clusters/${cluster}/prune-approvals`, { revision: first.revision });
    await remove(['r6.example.com']);
    await startFromManifest();
    const larger = await waitFor(
      'the larger set refused again',
      latestReport,
      (r) => (r?.pruneRefusedObjects?.length ?? 0) === 3 && (r?.revision ?? 0) > first.revision,
      30_000,
    );
    expect(larger?.pruneRefusedObjects).toEqual(expect.arrayContaining(first.pruneRefusedObjects));
    expect(ingresses()).toHaveLength(3);

    const approval = await worker.apiOk<{ approvedBy: string }>('POST', `/v1/clusters/${cluster}/prune-approvals`, {
      revision: larger?.revision,
    });
    await waitFor('the approved set deleted', ingresses, (i) => i.length === 0, 30_000);
    const used = await waitFor('the report of the approved prune', latestReport, (r) => r?.pruneApproval !== null, 15_000);
    expect(used?.pruneApproval).toMatchObject({ revision: larger?.revision, approvedBy: approval.approvedBy });
    expect(used?.pruned).toHaveLength(3);
    const audit = await worker.apiOk<{ items: { action: string; actor: string; after: { revision: number; objects: string[] } }[] }>(
      'GET',
      `/v1/audit?entityType=cluster&entityId=${cluster}&limit=100`,
    );
    const approvals = audit.items.filter((a) => a.action === 'approve_prune');
    expect(approvals.map((a) => a.after.revision).sort()).toEqual([first.revision, larger?.revision].sort());
    expect(approvals.every((a) => a.actor === approval.approvedBy)).toBe(true);
  }, 90_000);

  it('refuses a later, bigger set again: the approval was used once and the window still holds three deletes', async () => {
    const hosts = ['s1.example.com', 's2.example.com', 's3.example.com', 's4.example.com'];
    for (const h of hosts) await route(h);
    await waitFor('four new Ingresses', ingresses, (i) => i.length === 4, 30_000);
    await remove(hosts);
    const refused = await waitFor('the bigger set refused', latestReport, (r) => r?.pruneRefusedObjects?.length === 4, 30_000);
    expect(refused?.pruneRefused).toContain('after 3 already deleted');
    expect(ingresses()).toHaveLength(4);
  }, 90_000);
});
