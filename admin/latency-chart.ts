import type { InferenceModelMetrics } from '../src/shared/api/inference-metrics';
import { h, svg } from './dom';

type Latency = InferenceModelMetrics['latencyMs'];

/** A latency percentile read from the cumulative histogram, or where it lies when it is past the last bound. */
export interface Percentile {
  q: number;
  /** Linear interpolation inside the bucket that holds the q-th call, as Prometheus' histogram_quantile does. */
  ms: number;
  /** True when the call lies in the unbounded bucket: `ms` is then the last finite bound (a lower limit). */
  over: boolean;
}

export function percentile(latency: Latency, q: number): Percentile | null {
  if (latency.count === 0) return null;
  const rank = q * latency.count;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bucket of latency.buckets) {
    if (bucket.count >= rank) {
      if (bucket.le === null) return { q, ms: lowerBound, over: true };
      const inBucket = bucket.count - lowerCount;
      const ms = inBucket === 0 ? bucket.le : lowerBound + ((bucket.le - lowerBound) * (rank - lowerCount)) / inBucket;
      return { q, ms, over: false };
    }
    if (bucket.le !== null) lowerBound = bucket.le;
    lowerCount = bucket.count;
  }
  return { q, ms: lowerBound, over: true };
}

export const QUANTILES = [0.5, 0.95, 0.99] as const;

export const formatMs = (p: Percentile): string => `${p.over ? '> ' : ''}${p.ms < 10 ? p.ms.toFixed(1) : Math.round(p.ms)} ms`;

const WIDTH = 220;
const BAR = 14;
const GAP = 6;
const LABEL = 40;

/**
 * p50 / p95 / p99 as three horizontal bars on a log scale (latencies span 1 ms to a minute), drawn with SVG elements
 * (no markup, no chart library). The numbers are also the image's accessible name, so the chart only repeats them.
 */
export function latencyChart(latency: Latency, label: string): Element {
  const points = QUANTILES.map((q) => percentile(latency, q)).filter((p): p is Percentile => p !== null);
  if (!points.length) return h('span', { class: 'muted not-reported' }, 'no calls yet');
  const max = Math.max(...points.map((p) => p.ms), 1);
  const scale = (ms: number) => Math.max(2, ((WIDTH - LABEL - 70) * Math.log10(1 + ms)) / Math.log10(1 + max));
  const summary = points.map((p) => `p${Math.round(p.q * 100)} ${formatMs(p)}`).join(', ');
  const height = points.length * (BAR + GAP);
  return svg(
    'svg',
    {
      width: WIDTH,
      height,
      viewBox: `0 0 ${WIDTH} ${height}`,
      role: 'img',
      'aria-label': `${label} latency: ${summary}`,
      class: 'latency-chart',
    },
    svg('title', {}, `${label} latency: ${summary}`),
    ...points.flatMap((p, i) => {
      const y = i * (BAR + GAP);
      return [
        svg('text', { x: 0, y: y + BAR - 3, class: 'chart-label' }, `p${Math.round(p.q * 100)}`),
        svg('rect', { x: LABEL, y, width: scale(p.ms), height: BAR, rx: 2, class: `chart-bar q${Math.round(p.q * 100)}` }),
        svg('text', { x: LABEL + scale(p.ms) + 4, y: y + BAR - 3, class: 'chart-value' }, formatMs(p)),
      ];
    }),
  );
}
