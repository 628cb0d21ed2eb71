/**
 * A per-isolate read-through cache whose entries are never served older than `maxAgeMs` (ADR 0014). Between half the
 * age and the bound an entry is still served and re-read after the response (`defer`), so a key in steady use is
 * never read on the request path; an entry past the bound, or a key not cached, is read before answering. A load
 * that finds nothing is not cached: something created elsewhere is seen on the next call. The age of an entry counts
 * from when its read started, so a write that committed before the read began is always in it.
 */
export class IsolateCache<V> {
  private readonly entries = new Map<string, { value: V; at: number }>();
  private readonly loading = new Map<string, Promise<V | undefined>>();
  // Bumped by every forget/clear: a read that started before the bump may have seen the old row and is not stored.
  private epoch = 0;

  constructor(
    readonly maxAgeMs: number,
    private readonly maxEntries: number,
  ) {}

  /** The cached value of `key`, or what `load` reads (shared by concurrent callers of the same key). */
  async get(key: string, load: () => Promise<V | undefined>, now: number, defer: (work: Promise<unknown>) => void): Promise<V | undefined> {
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.maxAgeMs) {
      if (now - hit.at >= this.maxAgeMs / 2 && !this.loading.has(key)) {
        // A failed re-read keeps the entry: it still expires at the bound.
        defer(this.read(key, load, now).catch(() => undefined));
      }
      return hit.value;
    }
    return this.loading.get(key) ?? this.read(key, load, now);
  }

  /** Drops one key at once (the row was written in this isolate). */
  forget(key: string): void {
    this.epoch++;
    this.entries.delete(key);
    this.loading.delete(key);
  }

  /** Drops everything. */
  clear(): void {
    this.epoch++;
    this.entries.clear();
    this.loading.clear();
  }

  private read(key: string, load: () => Promise<V | undefined>, startedAt: number): Promise<V | undefined> {
    const epoch = this.epoch;
    const running = (async () => {
      const value = await load();
      if (epoch === this.epoch) {
        this.entries.delete(key);
        if (value !== undefined) {
          if (this.entries.size >= this.maxEntries) this.evictOldest();
          this.entries.set(key, { value, at: startedAt });
        }
      }
      return value;
    })().finally(() => {
      if (this.loading.get(key) === running) this.loading.delete(key);
    });
    this.loading.set(key, running);
    return running;
  }

  private evictOldest(): void {
    // Map keeps insertion order and every store re-inserts its key, so the first key is the one stored longest ago.
    const first = this.entries.keys().next();
    if (!first.done) this.entries.delete(first.value);
  }
}
