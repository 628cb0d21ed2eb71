import { asc, eq } from 'drizzle-orm';
import {
  type InferenceErrorClass,
  type InferenceMetrics,
  type InferenceModelMetrics,
  LATENCY_BUCKETS_MS,
} from '../../src/shared/api/inference-metrics';
import { inferenceBackends } from '../db/schema';
import type { Deps } from '../deps';

/** One proxied call as the metrics see it. `model` is '' for calls about no model. */
export interface InferenceSample {
  backend: string;
  model: string;
  errorClass?: InferenceErrorClass;
  latencyMs: number;
  bytesIn: number;
  bytesOut: number;
}

/** The stored counters of one model: plain numbers, so a Durable Object keeps them as they are. */
export interface ModelCounters {
  requests: number;
  errors: Partial<Record<InferenceErrorClass, number>>;
  /** Per bucket (not cumulative), one more than LATENCY_BUCKETS_MS for the unbounded one. */
  latencyBuckets: number[];
  latencySumMs: number;
  bytesIn: number;
  bytesOut: number;
}

/** What one backend's metrics object holds and answers. */
export interface BackendCounters {
  since: string | null;
  models: Record<string, ModelCounters>;
}

export const emptyCounters = (): ModelCounters => ({
  requests: 0,
  errors: {},
  latencyBuckets: LATENCY_BUCKETS_MS.map(() => 0).concat(0),
  latencySumMs: 0,
  bytesIn: 0,
  bytesOut: 0,
});

/** Adds one call to a model's counters (in place). */
export function addSample(counters: ModelCounters, sample: Omit<InferenceSample, 'backend' | 'model'>): ModelCounters {
  counters.requests += 1;
  if (sample.errorClass) counters.errors[sample.errorClass] = (counters.errors[sample.errorClass] ?? 0) + 1;
  const bucket = LATENCY_BUCKETS_MS.findIndex((le) => sample.latencyMs <= le);
  const at = bucket < 0 ? LATENCY_BUCKETS_MS.length : bucket;
  counters.latencyBuckets[at] = (counters.latencyBuckets[at] ?? 0) + 1;
  counters.latencySumMs += sample.latencyMs;
  counters.bytesIn += sample.bytesIn;
  counters.bytesOut += sample.bytesOut;
  return counters;
}

/** A model's counters as the API shows them: the histogram cumulative, like Prometheus. */
export function toApiModelMetrics(model: string, counters: ModelCounters): InferenceModelMetrics {
  let running = 0;
  const buckets = counters.latencyBuckets.map((count, i) => {
    running += count;
    return { le: LATENCY_BUCKETS_MS[i] ?? null, count: running };
  });
  return {
    model: model === '' ? null : model,
    requests: counters.requests,
    errors: counters.errors,
    latencyMs: { buckets, sum: counters.latencySumMs, count: running },
    bytesIn: counters.bytesIn,
    bytesOut: counters.bytesOut,
  };
}

/** The metrics object of a backend: one Durable Object per backend id, so every isolate adds to the same counters. */
function metricsObject(env: Env, backend: string) {
  return env.INFERENCE_METRICS.get(env.INFERENCE_METRICS.idFromName(backend));
}

/**
 * Forgets a deleted backend's counters, so a backend created later under the same id does not inherit them. A failure
 * is logged, not raised: the delete itself is committed.
 */
export async function resetInferenceMetrics(env: Env, backend: string): Promise<void> {
  try {
    await metricsObject(env, backend).reset();
  } catch (error) {
    console.warn(JSON.stringify({ msg: 'inference metrics of a deleted backend not reset', backend, error: String(error) }));
  }
}

/** Adds one model's counters into another (in place): how a batch from an isolate joins the stored counters. */
export function mergeCounters(into: ModelCounters, add: ModelCounters): ModelCounters {
  into.requests += add.requests;
  for (const [cls, n] of Object.entries(add.errors) as [InferenceErrorClass, number][]) into.errors[cls] = (into.errors[cls] ?? 0) + n;
  into.latencyBuckets = into.latencyBuckets.map((count, i) => count + (add.latencyBuckets[i] ?? 0));
  into.latencySumMs += add.latencySumMs;
  into.bytesIn += add.bytesIn;
  into.bytesOut += add.bytesOut;
  return into;
}

/** How long an isolate gathers calls before it sends them to the metrics objects in one call per backend. */
export const METRICS_FLUSH_MS = 500;

// Calls not yet sent, per backend and model, summed in this isolate. One metrics object call per backend per flush
// instead of one per proxied call keeps a busy backend far below a Durable Object's request rate and keeps the
// object's storage writes off the CPU the proxied calls need.
let pending = new Map<string, Record<string, ModelCounters>>();
let flushScheduled = false;

/**
 * Counts one proxied call. Nothing is awaited on the request path: the call is added to this isolate's batch, and the
 * request that opens a batch also sends it (`defer`, i.e. waitUntil, after METRICS_FLUSH_MS), so every batch is owned
 * by a live request and sent even if no other call follows. A failure to send is logged, never thrown.
 */
export function recordInferenceCall(env: Env, sample: InferenceSample, defer: (work: Promise<unknown>) => void): void {
  const models = pending.get(sample.backend) ?? {};
  models[sample.model] = addSample(models[sample.model] ?? emptyCounters(), sample);
  pending.set(sample.backend, models);
  if (flushScheduled) return;
  flushScheduled = true;
  defer(
    new Promise((resolve) => setTimeout(resolve, METRICS_FLUSH_MS)).then(async () => {
      const batch = pending;
      pending = new Map();
      flushScheduled = false;
      await Promise.all(
        [...batch].map(async ([backend, counters]) => {
          try {
            await metricsObject(env, backend).add(counters);
          } catch (error) {
            console.warn(JSON.stringify({ event: 'inference_metrics_failed', backend, error: String(error) }));
          }
        }),
      );
    }),
  );
}

/** The metrics of every backend (or one), read from their objects in parallel, backends in id order. */
export async function readInferenceMetrics(deps: Pick<Deps, 'db' | 'env'>, only?: string): Promise<InferenceMetrics> {
  const rows = await deps.db
    .select({ id: inferenceBackends.id })
    .from(inferenceBackends)
    .where(only === undefined ? undefined : eq(inferenceBackends.id, only))
    .orderBy(asc(inferenceBackends.id));
  const backends = await Promise.all(
    rows.map(async ({ id }) => {
      const state = await metricsObject(deps.env, id).snapshot();
      const models = Object.keys(state.models)
        .sort()
        .flatMap((model) => {
          const counters = state.models[model];
          return counters ? [toApiModelMetrics(model, counters)] : [];
        });
      return { backend: id, since: state.since, models };
    }),
  );
  return { backends };
}

/** A Prometheus label value: backslash, double quote and newline escaped (text exposition format 0.0.4). */
const label = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** The metrics in Prometheus' text exposition format (`text/plain; version=0.0.4`). */
export function toPrometheus(metrics: InferenceMetrics): string {
  const families: Record<string, { help: string; type: string; lines: string[] }> = {};
  const family = (name: string, type: string, help: string) => (families[name] ??= { help, type, lines: [] }).lines;
  const requests = family('edgeplane_inference_requests_total', 'counter', 'Calls proxied to an inference backend.');
  const errors = family('edgeplane_inference_errors_total', 'counter', 'Proxied calls that did not succeed, by class.');
  const latency = family(
    'edgeplane_inference_latency_seconds',
    'histogram',
    'Time from the call reaching edgeplane to the response headers being passed on.',
  );
  const bytesIn = family('edgeplane_inference_request_bytes_total', 'counter', 'Request body bytes sent upstream.');
  const bytesOut = family('edgeplane_inference_response_bytes_total', 'counter', 'Response body bytes passed to the caller.');
  for (const b of metrics.backends) {
    for (const m of b.models) {
      const labels = `backend="${label(b.backend)}",model="${label(m.model ?? '')}"`;
      requests.push(`edgeplane_inference_requests_total{${labels}} ${m.requests}`);
      for (const [cls, n] of Object.entries(m.errors)) errors.push(`edgeplane_inference_errors_total{${labels},class="${cls}"} ${n}`);
      for (const bucket of m.latencyMs.buckets) {
        const le = bucket.le === null ? '+Inf' : String(bucket.le / 1000);
        latency.push(`edgeplane_inference_latency_seconds_bucket{${labels},le="${le}"} ${bucket.count}`);
      }
      latency.push(`edgeplane_inference_latency_seconds_sum{${labels}} ${m.latencyMs.sum / 1000}`);
      latency.push(`edgeplane_inference_latency_seconds_count{${labels}} ${m.latencyMs.count}`);
      bytesIn.push(`edgeplane_inference_request_bytes_total{${labels}} ${m.bytesIn}`);
      bytesOut.push(`edgeplane_inference_response_bytes_total{${labels}} ${m.bytesOut}`);
    }
  }
  return Object.entries(families)
    .map(([name, f]) => [`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`, ...f.lines].join('\n'))
    .join('\n')
    .concat('\n');
}
