import type { Workload } from '../../src/shared/api/workload';
import { badge, h, notReported, table } from '../dom';
import { latestReports, type LatestReport } from '../reports';
import type { View } from '../view';

/** The agent's readiness of the workload's Deployment / StatefulSet, from the cluster's latest report. */
export function workloadHealth(w: Workload, latest: LatestReport | undefined): HTMLElement {
  const suffix = `/${w.kind}/${w.namespace}/${w.id}`;
  const object = latest?.health?.objects.find((o) => o.object.endsWith(suffix));
  if (!object) return notReported();
  return h(
    'span',
    {},
    badge(object.status, object.status === 'Current' ? 'ok' : object.status === 'InProgress' ? 'warn' : 'bad'),
    object.message ? ` ${object.message}` : '',
  );
}

export const workloads: View = {
  id: 'workloads',
  title: 'Workloads',
  mount(root) {
    root.append(h('h2', {}, 'Workloads'), h('div', { id: 'workloads-body' }));
  },
  async refresh({ api }) {
    const list = await api.list<Workload>('/v1/workloads');
    const reports = await latestReports(api, [...new Set(list.map((w) => w.cluster))]);
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
