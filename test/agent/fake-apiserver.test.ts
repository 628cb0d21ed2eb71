import { ApiException, KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeKubeApiserver } from '../fakes/kube-apiserver/server';

let fake: FakeKubeApiserver;
let client: KubernetesObjectApi;

beforeAll(async () => {
  fake = await new FakeKubeApiserver({ controllerDelayMs: 5 }).start();
  const kc = new KubeConfig();
  kc.loadFromString(fake.kubeconfig());
  client = KubernetesObjectApi.makeApiClient(kc);
});
afterAll(() => fake.stop());

const deployment = (name: string, replicas: number, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'default', labels: { app: name, 'app.kubernetes.io/managed-by': 'edgeplane' } },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } },
    ...extra,
  },
});

const apply = (object: KubernetesObject & Record<string, unknown>, manager: string, force = false) =>
  client.patch(object, undefined, undefined, manager, force, PatchStrategy.ServerSideApply);

/** The rejected promise's ApiException, with its parsed Status body. */
async function failure(
  promise: Promise<unknown>,
): Promise<{ code: number; body: { reason: string; message: string; details?: { causes?: { field: string; message: string }[] } } }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiException) return { code: error.code, body: JSON.parse(String(error.body)) as never };
    throw error;
  }
  throw new Error('expected the request to fail');
}

async function until<T>(read: () => Promise<T> | T, ok: (value: T) => boolean, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms; last value ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('fake kube-apiserver through @kubernetes/client-node', () => {
  it('creates by server-side apply with managedFields, resourceVersion and generation', async () => {
    const created = await apply(deployment('web', 2), 'edgeplane');
    expect(created.metadata?.generation).toBe(1);
    expect(created.metadata?.managedFields?.map((m) => [m.manager, m.operation])).toEqual([['edgeplane', 'Apply']]);
    expect(JSON.stringify(created.metadata?.managedFields?.[0]?.fieldsV1)).toContain('"f:replicas"');

    const again = await apply(deployment('web', 2), 'edgeplane');
    expect(again.metadata?.generation).toBe(1);
    // A no-op apply stores nothing: the resourceVersion stays (a ConfigMap has no controller moving its status).
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'noop', namespace: 'default' }, data: { a: '1' } };
    const first = await apply(cm, 'edgeplane');
    expect((await apply(cm, 'edgeplane')).metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);

    const changed = await apply(deployment('web', 3), 'edgeplane');
    expect(Number(changed.metadata?.resourceVersion)).toBeGreaterThan(Number(created.metadata?.resourceVersion));
    expect(changed.metadata?.generation).toBe(2);
  });

  it('answers 409 naming the other manager, and force takes the field', async () => {
    await apply(deployment('shared', 1), 'helm');
    const conflict = await failure(apply(deployment('shared', 4), 'edgeplane'));
    expect(conflict.code).toBe(409);
    expect(conflict.body.reason).toBe('Conflict');
    expect(conflict.body.message).toBe('Apply failed with 1 conflict: conflict with "helm" using apps/v1: .spec.replicas');
    expect(conflict.body.details?.causes).toEqual([
      { reason: 'FieldManagerConflict', message: 'conflict with "helm" using apps/v1', field: '.spec.replicas' },
    ]);

    // Same values are shared ownership, not a conflict.
    const shared = await apply(deployment('shared', 1), 'edgeplane');
    expect(shared.metadata?.managedFields?.map((m) => m.manager).sort()).toEqual(['edgeplane', 'helm']);

    const forced = await apply(deployment('shared', 4), 'edgeplane', true);
    expect((forced as { spec?: { replicas?: number } }).spec?.replicas).toBe(4);
    const helm = forced.metadata?.managedFields?.find((m) => m.manager === 'helm');
    expect(JSON.stringify(helm?.fieldsV1 ?? {})).not.toContain('f:replicas');
  });

  it('removes a field its only manager stopped applying', async () => {
    await apply(
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'default' }, data: { a: '1', b: '2' } },
      'edgeplane',
    );
    const after = await apply(
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'default' }, data: { a: '1' } },
      'edgeplane',
    );
    expect((after as { data?: Record<string, string> }).data).toEqual({ a: '1' });
  });

  it('lists by label selector, deletes, and answers 404 with a Status', async () => {
    await apply(
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'l1', namespace: 'default', labels: { team: 'a' } }, data: {} },
      'edgeplane',
    );
    await apply(
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'l2', namespace: 'default', labels: { team: 'b' } }, data: {} },
      'edgeplane',
    );
    const list = await client.list('v1', 'ConfigMap', 'default', undefined, undefined, undefined, undefined, 'team=a');
    expect(list.items.map((i) => i.metadata?.name)).toEqual(['l1']);
    const notIn = await client.list('v1', 'ConfigMap', 'default', undefined, undefined, undefined, undefined, 'team,team notin (a)');
    expect(notIn.items.map((i) => i.metadata?.name)).toEqual(['l2']);

    await client.delete({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'l1', namespace: 'default' } });
    const missing = await failure(client.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'l1', namespace: 'default' } }));
    expect(missing).toMatchObject({ code: 404, body: { reason: 'NotFound', message: 'configmaps "l1" not found' } });
  });

  it('answers 422 for schema errors and immutable fields, and 404 for a missing namespace', async () => {
    const bad = await failure(apply({ ...deployment('bad', 1), spec: { ...deployment('bad', 1).spec, replicas: 'two' } }, 'edgeplane'));
    expect(bad.code).toBe(422);
    expect(bad.body.reason).toBe('Invalid');
    expect(bad.body.details?.causes?.[0]?.field).toBe('spec.replicas');

    await apply(deployment('sel', 1), 'edgeplane');
    const moved = deployment('sel', 1);
    moved.spec.selector = { matchLabels: { app: 'other' } };
    moved.spec.template.metadata.labels = { app: 'other' };
    const immutable = await failure(apply(moved, 'edgeplane'));
    expect(immutable.code).toBe(422);
    expect(immutable.body.message).toContain('spec.selector');
    expect(immutable.body.message).toContain('field is immutable');

    const nowhere = await failure(
      apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'nope' }, data: {} }, 'edgeplane'),
    );
    expect(nowhere).toMatchObject({ code: 404, body: { message: 'namespaces "nope" not found' } });
  });

  it('moves Deployment status to ready, and to ProgressDeadlineExceeded when told to fail', async () => {
    await apply(deployment('rollout', 3), 'edgeplane');
    const ready = await until(
      () => client.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'rollout', namespace: 'default' } }),
      (d) => (d as { status?: { readyReplicas?: number } }).status?.readyReplicas === 3,
    );
    expect((ready as { status?: { observedGeneration?: number } }).status?.observedGeneration).toBe(1);

    fake.failing.add('default/broken');
    await apply(deployment('broken', 1), 'edgeplane');
    const failed = await until(
      () => client.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'broken', namespace: 'default' } }),
      (d) =>
        ((d as { status?: { conditions?: { reason?: string }[] } }).status?.conditions ?? []).some(
          (c) => c.reason === 'ProgressDeadlineExceeded',
        ),
    );
    expect((failed as { status?: { readyReplicas?: number } }).status?.readyReplicas).toBe(0);
  });

  it('counts writes and logs requests with their field manager', async () => {
    const before = fake.writes;
    await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'counted' } }, 'edgeplane');
    await client.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'counted' } });
    expect(fake.writes).toBe(before + 1);
    const last = fake.log.filter((l) => l.method === 'PATCH').at(-1);
    expect(last).toMatchObject({
      path: '/api/v1/namespaces/counted',
      fieldManager: 'edgeplane',
      contentType: 'application/apply-patch+yaml',
      status: 201,
    });
    const response = await fetch(`${fake.url}/__fake/writes`);
    expect(((await response.json()) as { writes: number }).writes).toBe(fake.writes);
  });

  it("serves HTTPRoute as v1 and v1beta1: one object in two versions, the writer's version in managedFields", async () => {
    const groups = (await (await fetch(`${fake.url}/apis`)).json()) as {
      groups: { name: string; versions: { version: string }[]; preferredVersion: { version: string } }[];
    };
    expect(groups.groups.find((g) => g.name === 'gateway.networking.k8s.io')).toMatchObject({
      versions: [{ version: 'v1' }, { version: 'v1beta1' }],
      preferredVersion: { version: 'v1' },
    });
    const route = (apiVersion: string, hostname: string) => ({
      apiVersion,
      kind: 'HTTPRoute',
      metadata: { name: 'versions', namespace: 'default' },
      spec: { parentRefs: [{ name: 'public' }], hostnames: [hostname] },
    });
    const header = (apiVersion: string) => ({ apiVersion, kind: 'HTTPRoute', metadata: { name: 'versions', namespace: 'default' } });
    await apply(route('gateway.networking.k8s.io/v1beta1', 'a.example.com'), 'edgeplane');
    const asV1 = (await client.read(header('gateway.networking.k8s.io/v1'))) as KubernetesObject & { spec: { hostnames: string[] } };
    expect(asV1.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(asV1.spec.hostnames).toEqual(['a.example.com']);
    expect(asV1.metadata?.managedFields?.map((m) => m.apiVersion)).toEqual(['gateway.networking.k8s.io/v1beta1']);
    await apply(route('gateway.networking.k8s.io/v1', 'b.example.com'), 'edgeplane');
    const asV1beta1 = await client.read(header('gateway.networking.k8s.io/v1beta1'));
    expect(asV1beta1.apiVersion).toBe('gateway.networking.k8s.io/v1beta1');
    expect(asV1beta1.metadata?.uid).toBe(asV1.metadata?.uid);
    expect(asV1beta1.metadata?.managedFields?.map((m) => m.apiVersion)).toEqual(['gateway.networking.k8s.io/v1']);
    const listed = (await (await fetch(`${fake.url}/apis/gateway.networking.k8s.io/v1beta1/namespaces/default/httproutes`)).json()) as {
      apiVersion: string;
      items: { metadata: { name: string } }[];
    };
    expect(listed.apiVersion).toBe('gateway.networking.k8s.io/v1beta1');
    expect(listed.items.map((i) => i.metadata.name)).toEqual(['versions']);
    await client.delete(header('gateway.networking.k8s.io/v1beta1'));
    expect((await failure(client.read(header('gateway.networking.k8s.io/v1')))).code).toBe(404);
  });
});
