import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyObject, TAKE_OWNERSHIP } from '../../agent/apply';
import { assessHealth, checkOrigin, editDistance } from '../../agent/health';
import { Kube, type KObject } from '../../agent/kube';
import { executePrune, planPrune } from '../../agent/prune';
import { CREDENTIAL_SECRET, StateStore } from '../../agent/state';
import { FakeKubeApiserver } from '../fakes/kube-apiserver/server';

let fake: FakeKubeApiserver;
let kube: Kube;

beforeAll(async () => {
  fake = await new FakeKubeApiserver({ controllerDelayMs: 5 }).start();
  kube = await Kube.connect(undefined, fake.kubeconfig());
});
afterAll(() => fake.stop());

const labels = { 'app.kubernetes.io/managed-by': 'edgeplane', 'edgeplane.dev/cluster': 'c1' };
const deployment = (name: string, replicas: number, annotations?: Record<string, string>, app = name): KObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'default', labels, ...(annotations ? { annotations } : {}) },
  spec: {
    replicas,
    selector: { matchLabels: { app } },
    template: { metadata: { labels: { app } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } },
  },
});
const configMap = (name: string, data: Record<string, string>, extraLabels: Record<string, string> = labels): KObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default', labels: extraLabels },
  data,
});

describe('apply', () => {
  it('creates, then writes nothing while the object matches, and removes a field it stopped setting', async () => {
    expect((await applyObject(kube, configMap('a', { x: '1', y: '2' }))).result.action).toBe('created');
    const writes = fake.writes;
    expect((await applyObject(kube, configMap('a', { x: '1', y: '2' }))).result.action).toBe('unchanged');
    expect(fake.writes).toBe(writes);
    expect((await applyObject(kube, configMap('a', { x: '1' }))).result.action).toBe('configured');
    expect(fake.objects('ConfigMap', 'default').find((o) => (o.metadata as { name: string }).name === 'a')?.data).toEqual({ x: '1' });
  });

  it('treats a Secret written with stringData as unchanged once stored as data', async () => {
    const secret: KObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', namespace: 'default', labels },
      type: 'Opaque',
      stringData: { token: 'abc' },
    };
    expect((await applyObject(kube, secret)).result.action).toBe('created');
    const writes = fake.writes;
    expect((await applyObject(kube, secret)).result.action).toBe('unchanged');
    expect(fake.writes).toBe(writes);
  });

  it('reports a conflict with the owning manager and does not force it', async () => {
    await fake.store.apply(fake.type('apps', 'Deployment'), 'default', 'owned', deployment('owned', 1) as never, 'helm', false);
    const writesBefore = fake.log.filter((l) => l.force).length;
    const outcome = await applyObject(kube, deployment('owned', 3));
    expect(outcome.result.action).toBe('conflict');
    expect(outcome.conflicts).toEqual([{ object: 'apps/v1/Deployment/default/owned', field: '.spec.replicas', manager: 'helm' }]);
    expect(fake.log.filter((l) => l.force).length).toBe(writesBefore);
    expect(
      (fake.objects('Deployment', 'default').find((o) => (o.metadata as { name: string }).name === 'owned')?.spec as { replicas: number })
        .replicas,
    ).toBe(1);
  });

  it('takes ownership only when the desired object says so', async () => {
    await fake.store.apply(fake.type('apps', 'Deployment'), 'default', 'taken', deployment('taken', 1) as never, 'helm', false);
    const outcome = await applyObject(kube, deployment('taken', 3, { [TAKE_OWNERSHIP]: 'true' }));
    expect(outcome.result.action).toBe('configured');
    expect(fake.log.at(-1)).toMatchObject({ method: 'PATCH', force: true });
  });

  it('recreates an object whose immutable selector changed, and reports other 422s', async () => {
    await applyObject(kube, deployment('moved', 1));
    const outcome = await applyObject(kube, deployment('moved', 1, undefined, 'moved-v2'));
    expect(outcome.result.action).toBe('recreated');
    expect(fake.log.slice(-3).map((l) => l.method)).toEqual(['PATCH', 'DELETE', 'PATCH']);
    const invalid = await applyObject(kube, { ...deployment('bad', 1), spec: { replicas: 'x' } });
    expect(invalid.result.action).toBe('invalid');
    expect(invalid.result.message).toContain('422');
  });
});

describe('prune', () => {
  const ctx = { clusterId: 'c1', revision: 7, now: 1_000_000_000, deletions: [] as number[], approvalUsed: 0 };
  const prune = (maxDeletes: number, allowEmpty = false) => ({ maxDeletes, windowSeconds: 600, allowEmpty, approval: null });

  it('plans only what left the bundle, with the circuit breaker and the empty-bundle guard', () => {
    expect(planPrune(['a', 'b', 'c'], ['a'], prune(5), ctx)).toEqual({ delete: ['b', 'c'] });
    const over = planPrune(['a', 'b', 'c'], ['a'], prune(1), ctx);
    expect(over).toMatchObject({ delete: [], refusedObjects: ['b', 'c'] });
    expect(over.refused).toContain("revision 7: pruning 2 objects exceeds this cluster's limit of 1 deletions per 10 minutes");
    expect(over.refused).toContain('Objects: b, c.');
    expect(over.refused).toContain('POST /v1/clusters/c1/prune-approvals {"revision": 7}');
    expect(planPrune(['a', 'b'], [], prune(10), ctx).refused).toContain('bundle is empty');
    expect(planPrune(['a', 'b'], [], prune(10, true), ctx)).toEqual({ delete: ['a', 'b'] });
  });

  it('counts deletions over the window, so a sweep of small deletes trips it like one large one', () => {
    const minute = 60_000;
    // 20 deleted 5 minutes ago and 4 just now: 6 more is 30 in ten minutes, over 25.
    const deletions = [...Array<number>(20).fill(ctx.now - 5 * minute), ...Array<number>(4).fill(ctx.now - 1000)];
    const six = ['a', 'b', 'c', 'd', 'e', 'f'];
    const refused = planPrune(six, [], prune(25, true), { ...ctx, deletions });
    expect(refused.delete).toEqual([]);
    expect(refused.refused).toContain('pruning 6 objects after 24 already deleted exceeds');
    // One more fits: 25 in the window is the limit, not over it.
    expect(planPrune(['a'], [], prune(25, true), { ...ctx, deletions }).delete).toEqual(['a']);
    // Eleven minutes later the earlier 20 left the window: 4 + 6 is under the limit.
    expect(planPrune(six, [], prune(25, true), { ...ctx, deletions, now: ctx.now + 6 * minute }).delete).toEqual(six);
  });

  it('lets an approval through exactly its set (or part of it), once', () => {
    const approval = { revision: 7, objects: ['b', 'c', 'd'] };
    const withApproval = { ...prune(1), approval };
    expect(planPrune(['a', 'b', 'c', 'd'], ['a'], withApproval, { ...ctx, revision: 8 })).toEqual({ delete: ['b', 'c', 'd'], approved: 7 });
    // Part of the set (one came back into the bundle) is covered too.
    expect(planPrune(['a', 'b', 'c', 'd'], ['a', 'd'], withApproval, ctx)).toEqual({ delete: ['b', 'c'], approved: 7 });
    // A larger set is refused again, naming its own revision.
    const larger = planPrune(['a', 'b', 'c', 'd', 'e'], ['a'], withApproval, { ...ctx, revision: 9 });
    expect(larger).toMatchObject({ delete: [], refusedObjects: ['b', 'c', 'd', 'e'] });
    expect(larger.refused).toContain('revision 9:');
    // An approval already used covers nothing.
    expect(planPrune(['a', 'b', 'c', 'd'], ['a'], withApproval, { ...ctx, approvalUsed: 7 }).delete).toEqual([]);
    // An approval even covers an empty bundle the cluster was not emptied into.
    expect(planPrune(['b', 'c'], [], withApproval, ctx)).toEqual({ delete: ['b', 'c'], approved: 7 });
  });

  it('deletes only objects that still carry edgeplane labels for this cluster', async () => {
    await applyObject(kube, configMap('mine', {}));
    await applyObject(kube, configMap('relabelled', {}, { 'app.kubernetes.io/managed-by': 'helm' }));
    const { results, gone } = await executePrune(
      kube,
      ['mine', 'relabelled', 'never'].map((name) => ({ key: `/ConfigMap/default/${name}`, apiVersion: 'v1' })),
      'c1',
    );
    expect(results.map((r) => [r.name, r.action])).toEqual([
      ['mine', 'pruned'],
      ['relabelled', 'prune_refused'],
    ]);
    expect(gone.sort()).toEqual(['/ConfigMap/default/mine', '/ConfigMap/default/never', '/ConfigMap/default/relabelled']);
    const names = fake.objects('ConfigMap', 'default').map((o) => (o.metadata as { name: string }).name);
    expect(names).toContain('relabelled');
    expect(names).not.toContain('mine');
  });

  it('says so when an object’s kind is no longer served in the apiVersion it was applied with, instead of taking it as gone', async () => {
    const entries = [
      // A group version the API server does not serve (removed by an upgrade, or a CRD not installed)...
      { key: 'policy/PodDisruptionBudget/default/old', apiVersion: 'policy/v1beta1' },
      { key: 'example.com/Widget/default/w', apiVersion: 'example.com/v1' },
      // ...and a kind its served group version does not have.
      { key: '/Widget/default/w2', apiVersion: 'v1' },
    ];
    const { results, gone } = await executePrune(kube, entries, 'c1');
    expect(results.map((r) => [r.kind, r.name, r.action])).toEqual([
      ['PodDisruptionBudget', 'old', 'prune_refused'],
      ['Widget', 'w', 'prune_refused'],
      ['Widget', 'w2', 'prune_refused'],
    ]);
    expect(results[0]?.message).toMatch(/^not deleted, and no longer tracked: the API server does not serve policy\/v1beta1 /);
    expect(results[2]?.message).toContain('does not serve kind Widget in v1');
    expect(results.every((r) => r.message?.endsWith('delete it by hand'))).toBe(true);
    // Forgotten (not retried on every pass), but reported.
    expect(gone.sort()).toEqual(entries.map((e) => e.key).sort());
  });
});

describe('state', () => {
  it('persists revision and inventory, writing only on change', async () => {
    const store = new StateStore(kube, 'default');
    expect(await store.load()).toEqual({ revision: 0, hash: '', inventory: [], prune: { deletions: [], approvalUsed: 0 } });
    const a = { key: 'apps/Deployment/default/a', apiVersion: 'apps/v1' };
    const b = { key: 'apps/Deployment/default/b', apiVersion: 'apps/v1' };
    const memory = { deletions: [1, 2], approvalUsed: 4 };
    await store.save({ revision: 3, hash: 'h', inventory: [b, a], prune: memory });
    const writes = fake.writes;
    await store.save({ revision: 3, hash: 'h', inventory: [a, b], prune: { ...memory } });
    expect(fake.writes).toBe(writes);
    expect(await new StateStore(kube, 'default').load()).toEqual({ revision: 3, hash: 'h', inventory: [a, b], prune: memory });
    expect(await store.loadCredential()).toBeUndefined();
    // Two agents starting at once: one credential wins, and both get it.
    const claims = await Promise.all([
      store.claimCredential('epa.c1.secret'),
      new StateStore(kube, 'default').claimCredential('epa.c1.other'),
    ]);
    expect(claims).toEqual([
      { credential: 'epa.c1.secret', registered: false },
      { credential: 'epa.c1.secret', registered: false },
    ]);
    expect(await new StateStore(kube, 'default').loadCredential()).toEqual({ credential: 'epa.c1.secret', registered: false });
    await store.saveCredential({ credential: 'epa.c1.secret', registered: true });
    expect(await new StateStore(kube, 'default').loadCredential()).toEqual({ credential: 'epa.c1.secret', registered: true });
    // A Secret from before `registered` existed holds a completed registration.
    const old = fake.applyAs('edgeplane', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: CREDENTIAL_SECRET, namespace: 'default' },
      data: { credential: Buffer.from('epa.c1.old').toString('base64') },
    });
    expect(old.ok).toBe(true);
    expect(await store.loadCredential()).toEqual({ credential: 'epa.c1.old', registered: true });
  });
});

describe('health', () => {
  it('follows a Deployment to Current, and to Failed on ProgressDeadlineExceeded', async () => {
    const ok = deployment('cloudflared-t1', 2);
    ok.metadata.labels = { ...labels, 'app.kubernetes.io/name': 'cloudflared' };
    await applyObject(kube, ok);
    const deadline = Date.now() + 3000;
    let health = await assessHealth(kube, [ok], []);
    while (health.status !== 'Current' && Date.now() < deadline) health = await assessHealth(kube, [ok], []);
    expect(health).toMatchObject({ status: 'Current', connectors: { desired: 2, ready: 2 } });

    fake.failing.add('default/doomed');
    const doomed = deployment('doomed', 1);
    await applyObject(kube, doomed);
    let failed = await assessHealth(kube, [doomed], []);
    while (failed.status !== 'Failed' && Date.now() < deadline + 3000) failed = await assessHealth(kube, [doomed], []);
    expect(failed.objects[0]?.message).toContain('ProgressDeadlineExceeded');
  });

  it('names the nearest Service for a missing origin and the real ports for a wrong one', async () => {
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps' } }, false);
    await kube.apply(
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'label-studio-ls-app', namespace: 'apps' },
        spec: { ports: [{ name: 'http', port: 8085, targetPort: 8085 }] },
      },
      false,
    );
    await kube.apply(
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'postgres', namespace: 'apps' }, spec: { ports: [{ port: 5432 }] } },
      false,
    );
    const services = async () => {
      const r = await kube.list('v1', 'Service');
      return r.ok ? r.value : [];
    };
    const missing = await checkOrigin(
      kube,
      { route: 'r1', hostname: 'ls.example.com', namespace: 'apps', name: 'label-studio', port: 8080 },
      services,
    );
    expect(missing).toMatchObject({
      ok: false,
      message: 'Service `label-studio` not found in `apps` — `label-studio-ls-app` exists in `apps`',
    });
    const port = await checkOrigin(
      kube,
      { route: 'r1', hostname: 'ls.example.com', namespace: 'apps', name: 'label-studio-ls-app', port: 8080 },
      services,
    );
    expect(port).toMatchObject({ ok: false, message: 'Service apps/label-studio-ls-app has no port 8080; it has 8085 (http) → 8085' });
    const good = await checkOrigin(
      kube,
      { route: 'r1', hostname: 'ls.example.com', namespace: 'apps', name: 'label-studio-ls-app', port: 8085 },
      services,
    );
    expect(good.ok).toBe(true);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});

describe('lists', () => {
  it('page with limit/continue in key order, and Kube.list pages through a list longer than one page', async () => {
    fake.applyAs('kubectl', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'paged' } });
    for (let i = 0; i < 230; i++)
      fake.applyAs('kubectl', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `cm-${String(i).padStart(3, '0')}`, namespace: 'paged', labels: { page: 'yes' } },
        data: { i: String(i) },
      });
    const first = (await (await fetch(`${fake.url}/api/v1/namespaces/paged/configmaps?limit=100`)).json()) as {
      items: { metadata: { name: string } }[];
      metadata: { continue?: string };
    };
    expect(first.items.map((i) => i.metadata.name).slice(0, 2)).toEqual(['cm-000', 'cm-001']);
    expect(first.items).toHaveLength(100);
    expect(first.metadata.continue).toBeTruthy();
    const second = (await (
      await fetch(`${fake.url}/api/v1/namespaces/paged/configmaps?limit=100&continue=${first.metadata.continue ?? ''}`)
    ).json()) as { items: { metadata: { name: string } }[] };
    expect(second.items[0]?.metadata.name).toBe('cm-100');
    expect((await fetch(`${fake.url}/api/v1/namespaces/paged/configmaps?limit=10&continue=nonsense`)).status).toBe(400);

    const requestsBefore = fake.log.length;
    const listed = await kube.list('v1', 'ConfigMap', 'paged', 'page=yes');
    expect(listed.ok && listed.value.map((o) => o.metadata.name)).toEqual(
      Array.from({ length: 230 }, (_, i) => `cm-${String(i).padStart(3, '0')}`),
    );
    expect(listed.ok && listed.value[0]?.kind).toBe('ConfigMap');
    expect(fake.log.length - requestsBefore).toBe(3);
  });
});
