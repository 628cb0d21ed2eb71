import { describe, expect, it } from 'vitest';
import type { PlanReport } from '../../../src/shared/api/plan';
import { renderPlan } from '../../../cli/render';
import type { Diff } from '../../../cli/diff';

// How `edgeplane plan --cluster-dry-run` prints the cluster pre-flight (the server's answer is rendered, not re-decided).

const diff: Diff = {
  steps: [
    {
      kind: 'route',
      op: 'create',
      label: 'route app.example.com (tunnel main)',
      change: { action: 'route.create', route: { tunnel: 'main', hostname: 'app.example.com', origin: { url: 'http://web:80' } } },
      request: { method: 'POST', path: 'v1/routes' },
    },
  ],
  unnamed: [],
  problems: [],
} as unknown as Diff;

const base = {
  id: 'dr_1',
  cluster: 'home',
  revision: 7,
  requestedAt: '2026-12-01T00:00:00.000Z',
  completedAt: '2026-12-01T00:00:01.000Z',
  url: null,
  kubernetesVersion: 'v1.31.4+k3s1',
};
const object = (key: string, outcome: string, extra: Record<string, unknown> = {}) => ({
  key,
  apiVersion: 'v1',
  kind: key.split('/')[1],
  namespace: 'apps',
  name: key.split('/').at(-1),
  outcome,
  ...extra,
});

function report(dryRun: Record<string, unknown>): PlanReport {
  return {
    accepted: 1,
    refused: 0,
    results: [{ index: 0, action: 'route.create', status: 201 }],
    tunnels: [],
    clusters: [{ id: 'home', revision: 7, diff: { noop: true, created: [], changed: [], deleted: [], unchanged: 3 }, dryRun }],
  } as unknown as PlanReport;
}

describe('the cluster pre-flight in a printed plan', () => {
  it('lists every object that is not unchanged with what the API server said, and counts the outcomes', () => {
    const text = renderPlan(
      diff,
      report({
        ...base,
        status: 'completed',
        summary: { created: 0, changed: 1, unchanged: 1, conflict: 1, invalid: 1, unchecked: 0, error: 0 },
        objects: [
          object('apps/Deployment/apps/web', 'changed', { fields: ['.spec.replicas'] }),
          object('/Service/apps/web', 'unchanged'),
          object('networking.k8s.io/Ingress/apps/web', 'conflict', { conflicts: [{ field: '.spec.ingressClassName', manager: 'helm' }] }),
          object('/ConfigMap/apps/env', 'invalid', { message: 'data: Invalid value' }),
        ],
      }),
    );
    expect(text).toContain('  cluster home pre-flight (server-side dry run): completed — 1 changed, 1 unchanged, 1 conflict, 1 invalid\n');
    expect(text).toContain('    changed apps/Deployment/apps/web: .spec.replicas\n');
    expect(text).toContain('    conflict networking.k8s.io/Ingress/apps/web: .spec.ingressClassName owned by helm\n');
    expect(text).toContain('    invalid /ConfigMap/apps/env: data: Invalid value\n');
    expect(text).not.toContain('/Service/apps/web');
  });

  it('says why nothing ran, or where the result will be', () => {
    const none = renderPlan(
      diff,
      report({ ...base, id: null, status: 'no_agent', message: 'no agent has registered', summary: null, objects: [] }),
    );
    expect(none).toContain('  cluster home pre-flight (server-side dry run): no agent: no agent has registered\n');
    const later = renderPlan(
      diff,
      report({
        ...base,
        status: 'pending',
        message: 'the agent did not answer in 10 s',
        url: '/v1/clusters/home/dry-runs/dr_1',
        summary: null,
        objects: [],
      }),
    );
    expect(later).toContain('pending: the agent did not answer in 10 s; result later at /v1/clusters/home/dry-runs/dr_1\n');
  });
});
