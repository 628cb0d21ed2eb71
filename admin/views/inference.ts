import type { InferenceBackend } from '../../src/shared/api/inference';
import type { InferenceBackendHealth } from '../../src/shared/api/inference-health';
import type { InferenceMetrics } from '../../src/shared/api/inference-metrics';
import type { MlBackend } from '../../src/shared/api/ml-backend';
import { h, table } from '../dom';
import { backendSummary, metricsTable } from '../inference-metrics';
import type { View } from '../view';

const lastHealth = new Map<string, InferenceBackendHealth>();

/** Ready / not ready from the proxy's cached probe, with its age; "checking" until the first answer. */
function healthCell(health: InferenceBackendHealth | undefined): Node {
  if (!health) return h('span', { class: 'muted' }, 'checking…');
  const label = health.ready ? 'ready' : 'not ready';
  const why = health.error ?? (health.ready ? '' : `Triton answered ${health.status ?? '?'}`);
  return h(
    'span',
    { 'data-health': label },
    h('span', { class: `badge ${health.ready ? 'ok' : 'bad'}` }, label),
    why ? ` ${why}` : '',
    h('span', { class: 'muted' }, ` (probe ${health.ageSeconds.toFixed(1)} s old)`),
  );
}

export const inference: View = {
  id: 'inference',
  title: 'Inference',
  mount(root) {
    root.append(
      h('h2', {}, 'Inference backends'),
      h('div', { id: 'backends-body' }),
      h('h2', {}, 'Traffic per backend and model'),
      h('p', { class: 'muted' }, "Counted by the inference proxy since each backend's first call (GET /v1/inference/metrics)."),
      h('div', { id: 'metrics-body' }),
      h('h2', {}, 'Label Studio ML backends'),
      h('p', { class: 'muted' }, 'Paste the URL into Label Studio (Settings → Model), with an inference token as the password.'),
      h('div', { id: 'ml-body' }),
    );
  },
  async refresh({ api }) {
    const [backends, ml, metrics] = await Promise.all([
      api.list<InferenceBackend>('/v1/inference/backends'),
      api.list<MlBackend>('/v1/ml-backends'),
      api.call<InferenceMetrics>('GET', '/v1/inference/metrics?format=json'),
    ]);
    document.getElementById('backends-body')?.replaceChildren(
      table(
        ['Backend', 'Upstreams', 'Models', 'Balance', 'Health', 'Requests, errors, latency'],
        backends.map((b) =>
          h(
            'tr',
            { 'data-backend': b.id },
            h('td', { class: 'mono' }, b.id, b.default ? ' (default)' : ''),
            h(
              'td',
              { class: 'mono' },
              h(
                'ul',
                { class: 'plain' },
                b.upstreams.map((u) => h('li', {}, `${u.url} ×${u.weight}`)),
              ),
            ),
            h('td', { class: 'mono' }, b.models ? b.models.join(', ') : 'any'),
            h('td', {}, b.balance),
            h('td', { 'data-health-cell': b.id }, healthCell(lastHealth.get(b.id))),
            h('td', {}, backendSummary(metrics, b.id)),
          ),
        ),
        'No inference backends.',
      ),
    );
    // The proxy's cached probe of each backend, filled in as it answers: a backend behind a slow or dead tunnel never
    // holds up the view (its first probe waits for the upstream's timeout), and the last answer stays until the next.
    for (const b of backends) {
      void api
        .call<InferenceBackendHealth>('GET', `/v1/inference/backends/${encodeURIComponent(b.id)}/health`)
        .then((health) => {
          lastHealth.set(b.id, health);
          document.querySelector(`[data-health-cell="${CSS.escape(b.id)}"]`)?.replaceChildren(healthCell(health));
        })
        .catch(() => undefined);
    }
    document.getElementById('metrics-body')?.replaceChildren(metricsTable(metrics));
    document.getElementById('ml-body')?.replaceChildren(
      table(
        ['ML backend', 'Backend / model', 'Task', 'URL for Label Studio'],
        ml.map((m) =>
          h(
            'tr',
            { 'data-ml': m.id },
            h('td', { class: 'mono' }, m.id),
            h('td', { class: 'mono' }, `${m.backend} / ${m.model}`),
            h('td', {}, m.task),
            h('td', { class: 'mono' }, `${location.origin}/ml/${encodeURIComponent(m.id)}`),
          ),
        ),
        'No ML backends.',
      ),
    );
  },
};
