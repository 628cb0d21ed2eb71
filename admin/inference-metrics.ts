import type { InferenceMetrics, InferenceModelMetrics } from '../src/shared/api/inference-metrics';
import { h, notReported, table, when } from './dom';
import { formatMs, latencyChart, percentile } from './latency-chart';

/** The previous read of each backend/model's request count, for the rate over the last refresh interval. */
const previous = new Map<string, { requests: number; at: number }>();

const errorCount = (m: InferenceModelMetrics) => Object.values(m.errors).reduce((n, v) => n + (v ?? 0), 0);

const percent = (part: number, whole: number) =>
  whole === 0 ? '—' : `${((100 * part) / whole).toFixed(part === whole || part === 0 ? 0 : 1)} %`;

/**
 * Requests per minute: over the interval since this page last read the counters when it has, else averaged since the
 * backend's first call (and said so).
 */
function rate(key: string, requests: number, since: string | null, now: number): string {
  const last = previous.get(key);
  previous.set(key, { requests, at: now });
  if (last && now > last.at && requests >= last.requests) {
    const perMinute = ((requests - last.requests) * 60_000) / (now - last.at);
    return `${perMinute.toFixed(1)}/min (last ${Math.round((now - last.at) / 1000)} s)`;
  }
  if (!since) return '—';
  const minutes = Math.max((now - Date.parse(since)) / 60_000, 1 / 60);
  return `${(requests / minutes).toFixed(1)}/min (since ${when(since)})`;
}

/** One line per backend for the backends table: requests, errors, p95; or "not reported yet" before any call. */
export function backendSummary(metrics: InferenceMetrics, backend: string): HTMLElement {
  const entry = metrics.backends.find((b) => b.backend === backend);
  const requests = entry?.models.reduce((n, m) => n + m.requests, 0) ?? 0;
  if (!entry || requests === 0) return notReported();
  const errors = entry.models.reduce((n, m) => n + errorCount(m), 0);
  return h('span', {}, `${requests} requests, ${errors} errors (${percent(errors, requests)})`);
}

/** Per backend and model: request rate, error rate by class, and p50/p95/p99 latency as a small chart. */
export function metricsTable(metrics: InferenceMetrics): HTMLElement {
  const now = Date.now();
  const rows = metrics.backends.flatMap((b) =>
    b.models
      .filter((m) => m.requests > 0)
      .map((m) => {
        const name = m.model ?? '(server calls)';
        const errors = errorCount(m);
        const classes = Object.entries(m.errors)
          .filter(([, n]) => (n ?? 0) > 0)
          .map(([kind, n]) => `${kind} ${n ?? 0}`)
          .join(', ');
        const p95 = percentile(m.latencyMs, 0.95);
        return h(
          'tr',
          { 'data-metrics': `${b.backend}/${m.model ?? ''}` },
          h('td', { class: 'mono' }, b.backend),
          h('td', { class: 'mono' }, name),
          h(
            'td',
            { class: 'num' },
            String(m.requests),
            h('div', { class: 'muted' }, rate(`${b.backend}/${name}`, m.requests, b.since, now)),
          ),
          h(
            'td',
            { class: 'num' },
            percent(errors, m.requests),
            classes ? h('div', { class: errors ? 'bad-text' : 'muted' }, classes) : null,
          ),
          h('td', { 'data-p95': p95 ? formatMs(p95) : '' }, latencyChart(m.latencyMs, `${b.backend} ${name}`)),
        );
      }),
  );
  return table(
    ['Backend', 'Model', 'Requests', 'Errors', 'Latency (p50 / p95 / p99)'],
    rows,
    'Not reported yet: no call has gone through the inference proxy.',
    { id: 'metrics-table' },
  );
}
