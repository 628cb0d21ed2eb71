import type { Workload } from '../../src/shared/api/workload';
import { badge, h, notReported, table, type Tone } from '../dom';
import { latestReports, type LatestReport } from '../reports';
import type { View } from '../view';

type PodHealth = NonNullable<Workload['health']>;

const tone = (status: string): Tone => (status === 'Current' ? 'ok' : status === 'InProgress' ? 'warn' : 'bad');

/** One problem as `kubectl describe pod` would have said it: pod (container): reason — message, restarts, last exit. */
export function problemText(p: PodHealth['problems'][number]): string {
  const restarts = p.restarts === undefined ? '' : `; ${p.restarts} restart${p.restarts === 1 ? '' : 's'}`;
  const last = p.lastTermination ? `; last exit ${p.lastTermination.exitCode} (${p.lastTermination.reason})` : '';
  return `${p.pod}${p.container ? ` (${p.container})` : ''}: ${p.reason}${p.message ? ` — ${p.message}` : ''}${restarts}${last}`;
}

/** The workload's pods as its agent last reported them (the list's `health`): status, ready count, and each problem. */
function podHealth(health: PodHealth): HTMLElement {
  return h(
    'div',
    { class: 'pod-health' },
    h('span', {}, badge(health.status, tone(health.status)), ` ${health.ready}/${health.pods} pods ready`),
    health.error ? h('div', { class: 'pod-error' }, `pods not readable: ${health.error}`) : null,
    health.problems.length > 0
      ? h(
          'ul',
          { class: 'pod-problems' },
          health.problems.map((p) => h('li', {}, problemText(p))),
        )
      : null,
  );
}

/**
 * The workload's pods from its `health` (agents with pod-level health), else the readiness of its Deployment /
 * StatefulSet from the cluster's latest report, else "not reported yet".
 */
export function workloadHealth(w: Workload, latest: LatestReport | undefined): HTMLElement {
  if (w.health) return podHealth(w.health);
  const suffix = `/${w.kind}/${w.namespace}/${w.id}`;
  const object = latest?.health?.objects.find((o) => o.object.endsWith(suffix));
  if (!object) return notReported();
  return h('span', {}, badge(object.status, tone(object.status)), object.message ? ` ${object.message}` : '');
}

export const workloads: View = {
  id: 'workloads',
  title: 'Workloads',
  mount(root) {
    root.append(h('h2', {}, 'Workloads'), h('div', { id: 'workloads-body' }));
  },
  async refresh({ api }) {
    const list = await api.list<Workload>('/v1/workloads');
    // A cluster's report is read only for workloads its agent has not given pod-level health for.
    const reports = await latestReports(api, [...new Set(list.filter((w) => !w.health).map((w) => w.cluster))]);
    document.getElementById('workloads-body')?.replaceChildren(
      table(
        ['Workload', 'Cluster', 'Image', 'Kind', 'Replicas', 'Route', 'Health'],
        list.map((w) =>
          h(
            'tr',
            { 'data-workload': w.id },
            h('td', { class: 'mono' }, `${w.namespace}/${w.id}`),
            h('td', { class: 'mono' }, w.cluster),
            h('td', { class: 'mono' }, w.image),
            h('td', {}, w.kind),
            h('td', { class: 'num' }, w.replicas),
            h('td', { class: 'mono' }, w.route ? `${w.route.hostname}${w.route.path ?? ''}` : h('span', { class: 'muted' }, 'none')),
            h('td', {}, workloadHealth(w, reports.get(w.cluster) satisfies LatestReport | undefined)),
          ),
        ),
        'No workloads yet (POST /v1/workloads or /v1/import/compose).',
      ),
    );
  },
};
