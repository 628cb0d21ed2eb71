import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { FakeKubeApiserver } from '../fakes/kube-apiserver/server';
import type { JsonObject } from '../fakes/kube-apiserver/fields';
import { freePort, migrate, tempDir, waitFor, WorkerProcess } from '../support/worker';
import { CREDENTIAL_SECRET, newCredential } from '../../agent/state';
import { AgentProcess, removeAgentBundle, writeFile } from './harness';

// End to end: the Worker in workerd (wrangler dev, local D1), the agent as a real process (bundled file), and the fake
// kube-apiserver. Every wait is on an observable event, with a deadline.

/** SIGKILL rounds: the spec's 50 by default (≈ 50 s of this file's ≈ 105 s on two cores); E2E_KILLS lowers it on a slow machine. */
const KILLS = Number(process.env.E2E_KILLS ?? 50);

let worker: WorkerProcess;
let fake: FakeKubeApiserver;
let dir: string;
let kubeconfig: string;
let agent: AgentProcess | undefined;
const cluster = 'oceanid';
const tunnel = 'main';

type Meta = { name: string; namespace?: string; labels?: Record<string, string> };
const meta = (o: JsonObject) => o.metadata as unknown as Meta;
const KINDS = ['Namespace', 'Secret', 'ConfigMap', 'Service', 'Deployment', 'PodDisruptionBudget', 'Ingress', 'HTTPRoute'];

/** Every object in the fake carrying edgeplane's labels for the cluster, as `Kind/namespace/name`. */
function edgeplaneObjects(): string[] {
  return KINDS.flatMap((kind) =>
    fake
      .objects(kind)
      .filter(
        (o) => meta(o).labels?.['app.kubernetes.io/managed-by'] === 'edgeplane' && meta(o).labels?.['edgeplane.dev/cluster'] === cluster,
      )
      .map((o) => `${kind}/${meta(o).namespace ?? ''}/${meta(o).name}`),
  ).sort();
}

/** The objects of the current desired bundle, as `Kind/namespace/name`. */
async function desiredObjects(credential: string): Promise<{ revision: number; keys: string[] }> {
  const response = await fetch(`${worker.url}/agent/v1/desired`, { headers: { authorization: `Bearer ${credential}` } });
  const bundle = (await response.json()) as { revision: number; objects: { kind: string; metadata: Meta }[] };
  return {
    revision: bundle.revision,
    keys: bundle.objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort(),
  };
}

/** The agent's credential Secret in a namespace, decoded: `{credential, registered}`. */
function credentialSecret(namespace: string): Record<string, string> {
  const secret = fake.objects('Secret', namespace).find((s) => meta(s).name === CREDENTIAL_SECRET);
  const data = (secret?.data as Record<string, string> | undefined) ?? {};
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

/** The agent credential it stored in its namespace, once its registration completed. */
function storedCredential(): string {
  const { credential, registered } = credentialSecret('edgeplane-system');
  if (!credential || registered !== 'true') throw new Error('the agent has not completed its registration yet');
  return credential;
}

const register = (token: string, body: Record<string, unknown>) =>
  fetch(`${worker.url}/agent/v1/register`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ kubernetesVersion: 'v1', nodeCount: 1, agentVersion: '0', ...body }),
  });

/** The ids (`group/kind/namespace/name`) of the agent's stored inventory. */
function inventory(): string[] {
  const cm = fake.objects('ConfigMap', 'edgeplane-system').find((c) => meta(c).name === 'edgeplane-agent-state');
  return (JSON.parse((cm?.data as Record<string, string> | undefined)?.inventory ?? '[]') as { id: string }[]).map((e) => e.id);
}

const ingresses = () => fake.objects('Ingress').map((o) => `${meta(o).namespace ?? ''}/${meta(o).name}`);

async function startAgent(): Promise<AgentProcess> {
  agent = await AgentProcess.start({
    workerUrl: worker.url,
    clusterId: cluster,
    kubeconfigPath: kubeconfig,
    bootstrapTokenPath: `${dir}/token`,
    port: await freePort(),
  });
  return agent;
}

/** Installs the manifest from the API into the fake (as kubectl would, unless `apply` is false); returns its bootstrap token. */
async function installManifest(clusterId: string, apply = true): Promise<string> {
  const response = await worker.api('GET', `/v1/clusters/${clusterId}/install.yaml`);
  expect(response.status).toBe(200);
  const docs = parseAllDocuments(await response.text()).map((d) => d.toJSON() as JsonObject);
  if (apply) for (const doc of docs) expect(fake.applyAs('kubectl', doc).ok).toBe(true);
  const secret = docs.find((d) => d.kind === 'Secret');
  return String((secret?.stringData as Record<string, string> | undefined)?.token ?? '');
}

beforeAll(async () => {
  dir = tempDir('e2e');
  migrate(dir);
  worker = new WorkerProcess(await freePort(), dir);
  fake = await new FakeKubeApiserver({ controllerDelayMs: 10 }).start();
  kubeconfig = writeFile(dir, 'kubeconfig', fake.kubeconfig());
  await worker.start();
  // The apps the routes point at, deployed by Helm (not by edgeplane).
  fake.applyAs('helm', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps' } });
  // k3s' Traefik, the ingress controller the tunnel's `ingress` mode sends traffic to (an origin the agent checks).
  fake.applyAs('helm', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'traefik', namespace: 'kube-system' },
    spec: {
      type: 'LoadBalancer',
      ports: [
        { name: 'web', port: 80 },
        { name: 'websecure', port: 443 },
      ],
    },
  });
  fake.applyAs('helm', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'label-studio-ls-app', namespace: 'apps' },
    spec: { ports: [{ name: 'http', port: 8085 }] },
  });
  await worker.apiOk('POST', '/v1/clusters', { id: cluster, name: 'Oceanid' });
  await worker.apiOk('POST', '/v1/tunnels', {
    id: tunnel,
    cluster,
    account: '0123456789abcdef0123456789abcdef',
    mode: { type: 'ingress' },
  });
  writeFile(dir, 'token', await installManifest(cluster));
}, 120_000);

afterAll(async () => {
  await agent?.kill();
  await worker?.stop();
  await fake?.stop();
  rmSync(dir, { recursive: true, force: true });
  removeAgentBundle();
});

describe('agent end to end', () => {
  let credential = '';

  it('registers, applies a route created through the API, and reports it', async () => {
    await startAgent();
    await waitFor(
      'the agent to register',
      () => storedCredential(),
      (c) => c.startsWith(`epa.${cluster}.`),
    );
    credential = storedCredential();
    const route = await worker.apiOk<{ id: string }>('POST', '/v1/routes', {
      tunnel,
      hostname: 'ls.example.com',
      origin: { service: { namespace: 'apps', name: 'label-studio-ls-app', port: 8085 } },
      dns: false,
    });
    expect(route.id).toBeTruthy();
    await waitFor(
      "the route's Ingress in the cluster",
      ingresses,
      (i) => i.some((n) => n.startsWith('apps/') && n.includes('ls.example.com')),
      15_000,
    );
    const desired = await desiredObjects(credential);
    await waitFor('the cluster to hold exactly the bundle', edgeplaneObjects, (o) => JSON.stringify(o) === JSON.stringify(desired.keys));
    const view = await waitFor(
      'the applied revision in the API',
      () =>
        worker.apiOk<{ appliedRevision: number | null; connection: string; kubernetesVersion: string; nodeCount: number }>(
          'GET',
          `/v1/clusters/${cluster}`,
        ),
      (c) => c.appliedRevision === desired.revision,
    );
    expect(view).toMatchObject({ connection: 'connected', kubernetesVersion: 'v1.31.4+k3s1', nodeCount: 4 });
    // The cluster CA the agent read from kube-root-ca.crt in its namespace reached the Worker: the WARP kubeconfig has it.
    const warp = await worker.apiOk<{ missing: { reason: string }[]; kubeconfig: string | null }>(
      'GET',
      `/v1/clusters/${cluster}/kubeconfig-warp`,
    );
    expect(warp.missing.map((m) => m.reason)).not.toContain('ca_not_reported');
    expect(warp.kubeconfig).toContain(`certificate-authority-data: ${Buffer.from(fake.rootCa ?? 'none').toString('base64')}`);
    // Every write went through server-side apply as edgeplane, never forced (the state ConfigMap/Secret aside).
    const writes = fake.log.filter((l) => l.method === 'PATCH' && l.fieldManager === 'edgeplane' && !l.path.includes('/edgeplane-system/'));
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.every((l) => l.contentType === 'application/apply-patch+yaml' && !l.force)).toBe(true);
    expect(agent?.output).not.toContain(credential.split('.')[2] ?? 'x');
  }, 60_000);

  it('writes nothing to the cluster while idle', async () => {
    const live = agent;
    if (!live) throw new Error('no agent');
    await waitFor(
      'health to settle',
      () => worker.apiOk<{ items: { health: { status: string } }[] }>('GET', `/v1/clusters/${cluster}/reports?limit=1`),
      (r) => r.items[0]?.health.status === 'Current',
      15_000,
    );
    const before = fake.writes;
    const syncs = (await live.metrics())['edgeplane_agent_syncs_total{result="ok"}'] ?? 0;
    // Three more resync passes (2 s each in this test) against an unchanged bundle.
    await waitFor(
      'three idle resyncs',
      () => live.metrics(),
      (m) => (m['edgeplane_agent_syncs_total{result="ok"}'] ?? 0) >= syncs + 3,
      15_000,
    );
    expect(fake.writes).toBe(before);
    const health = await fetch(`http://127.0.0.1:${live.port}/healthz`);
    expect(health.status).toBe(200);
  }, 30_000);

  it('reports an object owned by helm as a conflict and forces nothing', async () => {
    const ingress = fake.objects('Ingress', 'apps')[0];
    if (!ingress) throw new Error('no Ingress');
    const spec = structuredClone(ingress.spec) as { ingressClassName?: string };
    spec.ingressClassName = 'nginx';
    fake.applyAs(
      'helm',
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: meta(ingress).name, namespace: 'apps' },
        spec,
      } as JsonObject,
      { force: true },
    );
    const forcedBefore = fake.log.filter((l) => l.force && l.fieldManager === 'edgeplane' && !l.path.includes('/edgeplane-system/')).length;
    // Any revision makes the agent converge again (it would also on its timer).
    await worker.apiOk('PATCH', `/v1/clusters/${cluster}`, { name: 'Oceanid 2' });
    const reports = await waitFor(
      'a conflict report naming helm',
      () =>
        worker.apiOk<{ items: { conflicts: { manager: string; field: string; object: string }[]; applied: boolean }[] }>(
          'GET',
          `/v1/clusters/${cluster}/reports?limit=1`,
        ),
      (r) => (r.items[0]?.conflicts.length ?? 0) > 0,
      15_000,
    );
    expect(reports.items[0]?.applied).toBe(false);
    expect(reports.items[0]?.conflicts).toEqual([expect.objectContaining({ manager: 'helm', field: '.spec.ingressClassName' })]);
    const live = fake.objects('Ingress', 'apps')[0]?.spec as { ingressClassName?: string };
    expect(live.ingressClassName).toBe('nginx');
    expect(fake.log.filter((l) => l.force && l.fieldManager === 'edgeplane' && !l.path.includes('/edgeplane-system/')).length).toBe(
      forcedBefore,
    );
    // Hand the field back: the next pass applies cleanly.
    fake.applyAs(
      'helm',
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: meta(ingress).name, namespace: 'apps' },
        spec: ingress.spec,
      } as JsonObject,
      { force: true },
    );
    await worker.apiOk('PATCH', `/v1/clusters/${cluster}`, { name: 'Oceanid' });
    await waitFor(
      'a clean report',
      () => worker.apiOk<{ items: { applied: boolean }[] }>('GET', `/v1/clusters/${cluster}/reports?limit=1`),
      (r) => r.items[0]?.applied === true,
      15_000,
    );
  }, 40_000);

  it('prunes the Ingress of a deleted route', async () => {
    const routes = await worker.apiOk<{ items: { id: string }[] }>('GET', `/v1/routes?tunnel=${tunnel}`);
    for (const r of routes.items) await worker.apiOk('DELETE', `/v1/routes/${r.id}`);
    await waitFor('the Ingress to be pruned', ingresses, (i) => i.length === 0, 15_000);
    const desired = await desiredObjects(credential);
    expect(edgeplaneObjects()).toEqual(desired.keys);
    expect(fake.objects('Service', 'apps').map((s) => meta(s).name)).toEqual(['label-studio-ls-app']);
  }, 30_000);

  it(`converges after being SIGKILLed at random points ${KILLS} times: no orphan, no duplicate`, async () => {
    await agent?.kill();
    const hosts: string[] = [];
    for (let round = 0; round < KILLS; round++) {
      // Change the desired state: add a route, or remove the oldest one.
      if (hosts.length < 3 || round % 3 === 2) {
        const hostname = `h${round}.example.com`;
        await worker.apiOk('POST', '/v1/routes', {
          tunnel,
          hostname,
          origin: { service: { namespace: 'apps', name: 'label-studio-ls-app', port: 8085 } },
          dns: false,
        });
        hosts.push(hostname);
      } else {
        const all = await worker.apiOk<{ items: { id: string; hostname: string }[] }>('GET', `/v1/routes?tunnel=${tunnel}&limit=100`);
        const oldest = all.items.find((r) => r.hostname === hosts[0]);
        if (oldest) await worker.apiOk('DELETE', `/v1/routes/${oldest.id}`);
        hosts.shift();
      }
      const live = await startAgent();
      const writes = fake.writes;
      // Kill somewhere between start-up and a finished pass, often in the middle of the applies.
      const killAfterWrites = 1 + Math.floor(Math.random() * 6);
      const passes = () => live.output.split('"msg":"converged"').length - 1;
      await waitFor(
        'agent activity',
        () => fake.writes - writes,
        (n) => n >= killAfterWrites || passes() > 0 || live.child.exitCode !== null,
        10_000,
        1,
      );
      await live.kill('SIGKILL');
    }
    await startAgent();
    const desired = await desiredObjects(credential);
    expect(desired.keys.filter((k) => k.startsWith('Ingress/')).length).toBe(hosts.length);
    await waitFor(
      'the cluster to hold exactly the bundle',
      edgeplaneObjects,
      (o) => JSON.stringify(o) === JSON.stringify(desired.keys),
      20_000,
    );
    const keys = (k: string) => {
      const parts = k.split('/');
      return `${parts.at(-3) ?? ''}/${parts.at(-2) ?? ''}/${parts.at(-1) ?? ''}`;
    };
    await waitFor(
      'the inventory to equal the bundle',
      () => inventory().map(keys).sort(),
      (inv) => JSON.stringify(inv) === JSON.stringify(desired.keys),
    );
    const names = edgeplaneObjects();
    expect(new Set(names).size).toBe(names.length);
  }, 240_000);

  it('keeps the cluster while the Worker is down, stays healthy, and catches up when it returns', async () => {
    const live = agent;
    if (!live) throw new Error('no agent');
    const before = edgeplaneObjects();
    await worker.stop();
    await waitFor(
      'the agent to notice',
      () => live.metrics(),
      (m) => m.edgeplane_agent_worker_reachable === 0,
      15_000,
    );
    const offlineSyncs = (await live.metrics())['edgeplane_agent_syncs_total{result="offline"}'] ?? 0;
    await waitFor(
      'more offline passes',
      () => live.metrics(),
      (m) => (m['edgeplane_agent_syncs_total{result="offline"}'] ?? 0) >= offlineSyncs + 2,
      15_000,
    );
    expect(edgeplaneObjects()).toEqual(before);
    expect((await fetch(`http://127.0.0.1:${live.port}/healthz`)).status).toBe(200);

    await worker.start();
    await worker.apiOk('POST', '/v1/routes', {
      tunnel,
      hostname: 'back.example.com',
      origin: { service: { namespace: 'apps', name: 'label-studio-ls-app', port: 8085 } },
      dns: false,
    });
    await waitFor(
      'the change made after the outage to be applied',
      ingresses,
      (i) => i.some((n) => n.includes('back.example.com')),
      30_000,
    );
    expect(live.child.exitCode).toBeNull();
  }, 120_000);

  it("refuses a reused bootstrap token and keeps cluster A's credential out of cluster B", async () => {
    const token = readFileSync(`${dir}/token`, 'utf8');
    const reuse = await register(token, {
      clusterId: cluster,
      credential: newCredential(cluster),
      identity: 'x',
    });
    expect(reuse.status).toBe(401);
    expect(((await reuse.json()) as { error: { message: string } }).error.message).toContain('already used');

    await worker.apiOk('POST', '/v1/clusters', { id: 'other', name: 'Other' });
    const secretOfA = credential.split('.')[2] ?? '';
    const asB = await fetch(`${worker.url}/agent/v1/desired`, { headers: { authorization: `Bearer epa.other.${secretOfA}` } });
    expect(asB.status).toBe(401);
    const own = (await (await fetch(`${worker.url}/agent/v1/desired`, { headers: { authorization: `Bearer ${credential}` } })).json()) as {
      clusterId: string;
    };
    expect(own.clusterId).toBe(cluster);
  }, 30_000);

  /** A new edgeplane cluster with no tunnels, its agent namespace in the fake and its bootstrap token in a file. */
  async function freshCluster(id: string): Promise<{ id: string; namespace: string; tokenFile: string }> {
    await worker.apiOk('POST', '/v1/clusters', { id, name: id });
    const namespace = `edgeplane-${id}`;
    fake.applyAs('kubectl', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    return { id, namespace, tokenFile: writeFile(dir, `token-${id}`, await installManifest(id, false)) };
  }

  /** An agent for such a cluster, in its own namespace so the agent above is left alone. */
  const agentFor = async (c: { id: string; namespace: string; tokenFile: string }) =>
    AgentProcess.start({
      workerUrl: worker.url,
      clusterId: c.id,
      kubeconfigPath: kubeconfig,
      bootstrapTokenPath: c.tokenFile,
      port: await freePort(),
      env: { EDGEPLANE_NAMESPACE: c.namespace },
    });

  /** Waits until the cluster's agent has applied its (empty) bundle and is connected. */
  const converged = (id: string) =>
    waitFor(
      `cluster ${id} to be connected and its bundle applied`,
      () => worker.apiOk<{ connection: string; appliedRevision: number | null; desiredRevision: number }>('GET', `/v1/clusters/${id}`),
      (c) => c.appliedRevision === c.desiredRevision && c.connection === 'connected',
    );

  it('completes a registration cut off after the Worker accepted it, with the credential it stored beforehand', async () => {
    // What an agent killed at the worst moment leaves: the credential it made, stored as not yet registered, and a
    // bootstrap token the Worker already spent on it.
    const c = await freshCluster('cutoff');
    const credential = newCredential(c.id);
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    fake.applyAs('edgeplane', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: CREDENTIAL_SECRET, namespace: c.namespace },
      type: 'Opaque',
      data: { credential: b64(credential), registered: b64('false') },
    });
    const kubeSystem = fake.objects('Namespace').find((n) => meta(n).name === 'kube-system');
    const identity = (kubeSystem?.metadata as { uid?: string } | undefined)?.uid;
    const accepted = await register(readFileSync(c.tokenFile, 'utf8'), { clusterId: c.id, credential, identity });
    expect(accepted.status).toBe(201);

    const cut = await agentFor(c);
    try {
      const line = await waitFor(
        'the agent to complete its registration',
        () => cut.logs().find((l) => l.msg === 'registered' || l.level === 'error'),
        (l) => l !== undefined,
      );
      expect(line).toMatchObject({ msg: 'registered', completed: 'a registration cut off before its answer' });
      expect(credentialSecret(c.namespace)).toEqual({ credential, registered: 'true' });
      await converged(c.id);
      expect(cut.output).not.toContain(credential.split('.')[2] ?? 'x');
    } finally {
      await cut.kill('SIGTERM');
    }
  }, 60_000);

  it('registers with one bootstrap token despite SIGKILLs at every step of its registration', async () => {
    const c = await freshCluster('killed');
    // Kill after the agent's n-th call to the apiserver (read the Secret, store the new credential, read kube-system,
    // the version and the nodes, mark it registered, …), n = 0…7 and again, each a few random ms later.
    for (let round = 0; round < 16; round++) {
      const calls = fake.log.length;
      const victim = await agentFor(c);
      const reached = await waitFor(
        `the agent's call ${round % 8}`,
        () => ({ calls: fake.log.length - calls, exited: victim.child.exitCode !== null }),
        (v) => v.calls >= round % 8 || v.exited,
        10_000,
        1,
      );
      expect(reached.exited, `the agent exited by itself in round ${round}:\n${victim.output}`).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
      await victim.kill('SIGKILL');
    }
    const last = await agentFor(c);
    try {
      await converged(c.id);
      const { credential, registered } = credentialSecret(c.namespace);
      expect(registered).toBe('true');
      expect((await fetch(`${worker.url}/agent/v1/desired`, { headers: { authorization: `Bearer ${credential}` } })).status).toBe(200);
      expect(last.logs().filter((l) => l.level === 'error')).toEqual([]);
    } finally {
      await last.kill('SIGTERM');
    }
  }, 90_000);

  it("refuses to start with another cluster's credential in its namespace, naming both clusters", async () => {
    const c = await freshCluster('stray');
    fake.applyAs('edgeplane', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: CREDENTIAL_SECRET, namespace: c.namespace },
      data: { credential: Buffer.from(newCredential(cluster)).toString('base64') },
    });
    const stray = await agentFor(c);
    expect(await stray.exited).toBe(1);
    expect(stray.logs().at(-1)).toMatchObject({
      level: 'error',
      error: expect.stringContaining(`holds the credential of edgeplane cluster "${cluster}", not "stray"`) as string,
    });
  }, 30_000);

  it('exits cleanly on SIGTERM', async () => {
    const live = agent;
    if (!live) throw new Error('no agent');
    expect(await live.kill('SIGTERM')).toBe(0);
    expect(live.logs().at(-1)?.msg).toBe('agent stopped');
  }, 20_000);
});
