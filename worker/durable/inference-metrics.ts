import { DurableObject } from 'cloudflare:workers';
import { type BackendCounters, type InferenceSample, type ModelCounters, addSample, emptyCounters } from '../services/inference-metrics';

// Counters of one inference backend (ADR 0011): one object per backend id, so every isolate and every colo adds to
// the same numbers, kept in the object's own storage so they outlive isolates and evictions. A call adds to memory and
// writes only its model's entry; the object's output gate coalesces the writes of a burst.

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

  /** Adds one proxied call. */
  async record(sample: InferenceSample): Promise<void> {
    const state = await this.load();
    const counters = addSample(state.models[sample.model] ?? emptyCounters(), sample);
    state.models[sample.model] = counters;
    if (state.since === null) {
      state.since = new Date().toISOString();
      await this.ctx.storage.put('since', state.since);
    }
    await this.ctx.storage.put(`model:${sample.model}`, counters);
  }

  /** Every model's counters. */
  async snapshot(): Promise<BackendCounters> {
    return this.load();
  }
}
