import { DurableObject } from 'cloudflare:workers';
import { type BackendCounters, type ModelCounters, emptyCounters, mergeCounters } from '../services/inference-metrics';

// Counters of one inference backend (ADR 0011): one object per backend id, so every isolate and every colo adds to
// the same numbers, kept in the object's own storage so they outlive isolates and evictions. Isolates send batches
// (per model, counters summed over up to METRICS_FLUSH_MS); a batch writes only the models it touches.

/** The request, error, latency and byte counters of one backend, per model. */
export class InferenceMetrics extends DurableObject<Env> {
  private state: BackendCounters | undefined;

  private async load(): Promise<BackendCounters> {
    if (this.state) return this.state;
    const stored = await this.ctx.storage.list<ModelCounters>({ prefix: 'model:' });
    const models: Record<string, ModelCounters> = {};
    for (const [key, counters] of stored) models[key.slice('model:'.length)] = counters;
    this.state = { since: (await this.ctx.storage.get<string>('since')) ?? null, models };
    return this.state;
  }

  /** Adds a batch of calls from one isolate: per model, counters summed there (services/inference-metrics.ts). */
  async add(batch: Record<string, ModelCounters>): Promise<void> {
    const state = await this.load();
    if (state.since === null) {
      state.since = new Date().toISOString();
      await this.ctx.storage.put('since', state.since);
    }
    const writes: Record<string, ModelCounters> = {};
    for (const [model, counters] of Object.entries(batch)) {
      const merged = mergeCounters(state.models[model] ?? emptyCounters(), counters);
      state.models[model] = merged;
      writes[`model:${model}`] = merged;
    }
    await this.ctx.storage.put(writes);
  }

  /** Forgets every counter: the backend was deleted, and a new one with its id starts from nothing. */
  async reset(): Promise<void> {
    await this.ctx.storage.deleteAll();
    this.state = { since: null, models: {} };
  }

  /** Every model's counters. */
  async snapshot(): Promise<BackendCounters> {
    return this.load();
  }
}
