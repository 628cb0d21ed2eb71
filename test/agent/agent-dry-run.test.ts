import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyObject, TAKE_OWNERSHIP } from '../../agent/apply';
import { changedFields, dryRunBundle } from '../../agent/dry-run';
import { Kube, type KObject } from '../../agent/kube';
import type { JsonObject } from '../fakes/kube-apiserver/fields';
import { FakeKubeApiserver } from '../fakes/kube-apiserver/server';

// The agent's half of the cluster pre-flight (agent/dry-run.ts) and the fake apiserver's dryRun=All, which it relies
// on: validation, admission, managedFields conflicts and merge exactly as for a real apply, and nothing stored.

let fake: FakeKubeApiserver;
let kube: Kube;

beforeAll(async () => {
  fake = await new FakeKubeApiserver({ controllerDelayMs: 5 }).start();
  kube = await Kube.connect(undefined, fake.kubeconfig());
  fake.applyAs('helm', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps' } });
});
afterAll(() => fake.stop());

const labels = { 'app.kubernetes.io/managed-by': 'edgeplane', 'edgeplane.dev/cluster': 'c1' };
const configMap = (name: string, data: Record<string, string>, namespace = 'apps', annotations?: Record<string, string>): KObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace, labels, ...(annotations ? { annotations } : {}) },
  data,
});
const deployment = (name: string, replicas: number): KObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'apps', labels },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } },
  },
});

/** A desired object as the fake's test API takes it. */
const json = (o: KObject): JsonObject => o as unknown as JsonObject;

/**
 * Everything the fake stores, as a client would read it, for "nothing changed" assertions; status aside, which the
 * fake's Deployment controller moves on its own (its resourceVersion bumps too).
 */
const everything = () =>
  JSON.stringify(
    fake.store.all().map(({ object: { status: _s, ...rest } }) => {
      const meta = rest.metadata as JsonObject;
      return rest.kind === 'Deployment' ? { ...rest, metadata: { ...meta, resourceVersion: null } } : rest;
    }),
  );

async function raw(method: string, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${fake.url}${path}`, {
    method,
    headers: { 'content-type': 'application/apply-patch+yaml' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('the fake apiserver honours dryRun=All', () => {
  it('answers a create as it would be, stores nothing and counts it apart from writes', async () => {
    const before = everything();
    const writes = fake.writes;
    const reply = await raw(
      'PATCH',
      '/api/v1/namespaces/apps/configmaps/dry?fieldManager=edgeplane&dryRun=All',
      configMap('dry', { a: '1' }),
    );
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ kind: 'ConfigMap', data: { a: '1' }, metadata: { name: 'dry', namespace: 'apps' } });
    expect((reply.body.metadata as { managedFields: { manager: string }[] }).managedFields.map((m) => m.manager)).toEqual(['edgeplane']);
    expect(everything()).toBe(before);
    expect(fake.writes).toBe(writes);
    expect(fake.log.at(-1)).toMatchObject({ method: 'PATCH', dryRun: true, fieldManager: 'edgeplane', status: 201 });
    expect((await fetch(`${fake.url}/api/v1/namespaces/apps/configmaps/dry`)).status).toBe(404);
  });

  it('merges an update without moving resourceVersion, and detects the conflict with another manager', async () => {
    fake.applyAs('helm', json(configMap('owned', { x: 'helm' })));
    const before = everything();
    const stored = fake.objects('ConfigMap', 'apps').find((o) => (o.metadata as JsonObject).name === 'owned');
    const path = '/api/v1/namespaces/apps/configmaps/owned?fieldManager=edgeplane&dryRun=All';
    const conflict = await raw('PATCH', path, configMap('owned', { x: 'edgeplane' }));
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({
      reason: 'Conflict',
      details: { causes: [{ field: '.data.x', message: expect.stringContaining('"helm"') }] },
    });
    const merged = await raw('PATCH', path, configMap('owned', { x: 'helm', y: 'new' }));
    expect(merged.status).toBe(200);
    expect(merged.body.data).toEqual({ x: 'helm', y: 'new' });
    expect((merged.body.metadata as JsonObject).resourceVersion).toBe((stored?.metadata as JsonObject).resourceVersion);
    const forced = await raw('PATCH', `${path}&force=true`, configMap('owned', { x: 'edgeplane' }));
    expect(forced.status).toBe(200);
    expect(everything()).toBe(before);
  });

  it('validates the schema, runs admission and checks the namespace; refuses any dryRun but All', async () => {
    const bad = await raw('PATCH', '/apis/apps/v1/namespaces/apps/deployments/bad?fieldManager=edgeplane&dryRun=All', {
      ...deployment('bad', 1),
      spec: { replicas: 'three', selector: { matchLabels: { app: 'bad' } }, template: {} },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.reason).toBe('Invalid');
    fake.store.admission.push({
      name: 'max-replicas',
      kinds: ['Deployment'],
      deny: (o) => (Number((o.spec as JsonObject).replicas) > 5 ? 'failed expression: object.spec.replicas <= 5' : undefined),
    });
    const denied = await raw(
      'PATCH',
      '/apis/apps/v1/namespaces/apps/deployments/big?fieldManager=edgeplane&dryRun=All',
      deployment('big', 9),
    );
    expect(denied.status).toBe(422);
    expect(String(denied.body.message)).toContain(
      "ValidatingAdmissionPolicy 'max-replicas' with binding 'max-replicas-binding' denied request",
    );
    fake.store.admission.length = 0;
    const missing = await raw(
      'PATCH',
      '/api/v1/namespaces/nowhere/configmaps/x?fieldManager=edgeplane&dryRun=All',
      configMap('x', {}, 'nowhere'),
    );
    expect(missing.status).toBe(404);
    const other = await raw('PATCH', '/api/v1/namespaces/apps/configmaps/x?fieldManager=edgeplane&dryRun=Some', configMap('x', {}));
    expect(other.status).toBe(400);
    expect(String(other.body.message)).toContain('supported values: "All"');
  });
});

describe('dryRunBundle', () => {
  it('reports created, changed with the fields, unchanged, conflict, invalid and unchecked, and writes nothing', async () => {
    expect((await applyObject(kube, configMap('same', { a: '1' }))).result.action).toBe('created');
    expect((await applyObject(kube, configMap('moving', { a: '1', b: '2' }))).result.action).toBe('created');
    expect((await applyObject(kube, deployment('web', 2))).result.action).toBe('created');
    fake.applyAs('helm', json(configMap('helmish', { owner: 'helm' })));
    fake.applyAs('helm', json(configMap('taken', { owner: 'helm' })));
    fake.store.admission.push({
      name: 'max-replicas',
      kinds: ['Deployment'],
      deny: (o) => (Number((o.spec as JsonObject).replicas) > 5 ? 'failed expression: object.spec.replicas <= 5' : undefined),
    });
    const before = everything();
    const writes = fake.writes;
    const bundle: KObject[] = [
      configMap('same', { a: '1' }),
      configMap('moving', { a: '1', c: '3' }),
      configMap('fresh', { a: '1' }),
      configMap('helmish', { owner: 'edgeplane' }),
      configMap('taken', { owner: 'edgeplane' }, 'apps', { [TAKE_OWNERSHIP]: 'true' }),
      deployment('web', 9),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'inside', namespace: 'brand-new', labels }, data: { a: '1' } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'brand-new', labels } },
    ];
    const results = await dryRunBundle(kube, bundle);
    fake.store.admission.length = 0;
    expect(results.map((r) => [r.name, r.outcome])).toEqual([
      ['same', 'unchanged'],
      ['moving', 'changed'],
      ['fresh', 'created'],
      ['helmish', 'conflict'],
      ['taken', 'changed'],
      ['web', 'invalid'],
      ['inside', 'unchecked'],
      ['brand-new', 'created'],
    ]);
    expect(results[1]?.fields).toEqual(['.data.b', '.data.c']);
    expect(results[3]?.conflicts).toEqual([{ field: '.data.owner', manager: 'helm' }]);
    // Forced: helm's field becomes edgeplane's value; the annotation asking for it is new too.
    expect(results[4]?.fields).toEqual(['.data.owner', '.metadata.annotations.edgeplane.dev/take-ownership']);
    expect(results[5]?.message).toContain("ValidatingAdmissionPolicy 'max-replicas'");
    expect(results[6]?.message).toContain('namespace "brand-new" does not exist yet');
    expect(results[0]).toEqual({
      key: '/ConfigMap/apps/same',
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: 'apps',
      name: 'same',
      outcome: 'unchanged',
    });
    // Every PATCH of the pass was a dry run as edgeplane, forced only where the object asks to take ownership.
    expect(everything()).toBe(before);
    expect(fake.writes).toBe(writes);
    const patches = fake.log.slice(-bundle.length * 2).filter((l) => l.method === 'PATCH');
    expect(patches.length).toBe(bundle.length);
    expect(patches.every((l) => l.dryRun === true && l.fieldManager === 'edgeplane')).toBe(true);
    expect(patches.filter((l) => l.force).map((l) => l.path)).toEqual(['/api/v1/namespaces/apps/configmaps/taken']);
  });

  it("reports an immutable field as a change the apply makes by recreating, and never quotes a Secret's value", async () => {
    const typed: KObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'typed', namespace: 'apps', labels },
      type: 'kubernetes.io/basic-auth',
      stringData: { username: 'u', password: 'p' },
    };
    expect((await applyObject(kube, typed)).result.action).toBe('created');
    fake.store.admission.push({
      name: 'no-weak-tokens',
      kinds: ['Secret'],
      deny: (o) => {
        const token = Buffer.from(String((o.data as JsonObject | undefined)?.token ?? ''), 'base64').toString('utf8');
        return token.startsWith('weak') ? `token "${token}" is too weak` : undefined;
      },
    });
    const results = await dryRunBundle(kube, [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'typed', namespace: 'apps', labels },
        type: 'Opaque',
        stringData: { token: 'strong-1' },
      },
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'weak', namespace: 'apps', labels },
        type: 'Opaque',
        stringData: { token: 'weak-secret-value' },
      },
    ]);
    fake.store.admission.length = 0;
    expect(results[0]).toMatchObject({
      outcome: 'changed',
      fields: ['.type'],
      message: expect.stringContaining('would be deleted and recreated'),
    });
    expect(results[1]?.outcome).toBe('invalid');
    expect(results[1]?.message).toContain('token "[redacted]" is too weak');
    expect(JSON.stringify(results)).not.toContain('weak-secret-value');
  });

  it('compares leaves, ignoring what the server sets', () => {
    const live: KObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'a', resourceVersion: '1', labels: { x: '1' } },
      data: { a: '1' },
    };
    const after: KObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'a', resourceVersion: '2', labels: { x: '2' } },
      data: { a: '1', b: '2' },
    };
    expect(changedFields(live, after)).toEqual(['.data.b', '.metadata.labels.x']);
    expect(changedFields(live, live)).toEqual([]);
  });
});
