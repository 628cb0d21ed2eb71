import { describe, expect, it } from 'vitest';
import { IsolateCache } from '../../worker/services/isolate-cache';

/** A cache of `max` ms over a counter "row", with the deferred re-reads collected so a test can await them. */
function harness(max = 1000, entries = 100) {
  const cache = new IsolateCache<number>(max, entries);
  let row: number | undefined = 1;
  let reads = 0;
  const deferred: Promise<unknown>[] = [];
  const load = async () => {
    reads++;
    return row;
  };
  return {
    cache,
    set: (value: number | undefined) => (row = value),
    reads: () => reads,
    get: (now: number, key = 'k') => cache.get(key, load, now, (work) => deferred.push(work)),
    settle: () => Promise.all(deferred.splice(0)),
  };
}

describe('IsolateCache', () => {
  it('serves a copy without reading until half the bound, then re-reads after the answer, and never past the bound', async () => {
    const h = harness();
    expect(await h.get(0)).toBe(1);
    h.set(2);
    expect(await h.get(499)).toBe(1);
    expect(h.reads()).toBe(1);
    // Past half the bound: still the copy, with a re-read deferred.
    expect(await h.get(500)).toBe(1);
    await h.settle();
    expect(h.reads()).toBe(2);
    expect(await h.get(600)).toBe(2);
    // Nothing used it since: past the bound (counted from the re-read's start, 500) the next call reads first.
    h.set(3);
    expect(await h.get(1500)).toBe(3);
    expect(h.reads()).toBe(3);
  });

  it('does not cache a miss, and drops a copy whose row is gone when it is re-read', async () => {
    const h = harness();
    h.set(undefined);
    expect(await h.get(0)).toBeUndefined();
    h.set(7);
    expect(await h.get(1)).toBe(7);
    h.set(undefined);
    expect(await h.get(2000)).toBeUndefined();
    h.set(8);
    expect(await h.get(2001)).toBe(8);
  });

  it('forgets at once, and a read that started before the forget is not stored', async () => {
    const cache = new IsolateCache<string>(1000, 10);
    let release: (v: string) => void = () => undefined;
    const slow = cache.get(
      'k',
      () => new Promise<string>((resolve) => (release = resolve)),
      0,
      () => undefined,
    );
    cache.forget('k');
    release('old');
    expect(await slow).toBe('old');
    expect(
      await cache.get(
        'k',
        async () => 'new',
        1,
        () => undefined,
      ),
    ).toBe('new');
    cache.clear();
    expect(
      await cache.get(
        'k',
        async () => 'newer',
        2,
        () => undefined,
      ),
    ).toBe('newer');
  });

  it('shares one read among concurrent callers of a key', async () => {
    const h = harness();
    const answers = await Promise.all([h.get(0), h.get(0), h.get(0)]);
    expect(answers).toEqual([1, 1, 1]);
    expect(h.reads()).toBe(1);
  });

  it('keeps at most its bound of entries, dropping the one stored longest ago', async () => {
    const h = harness(1000, 2);
    await h.get(0, 'a');
    await h.get(0, 'b');
    await h.get(0, 'c');
    expect(h.reads()).toBe(3);
    await h.get(1, 'c');
    await h.get(1, 'b');
    expect(h.reads()).toBe(3);
    await h.get(1, 'a');
    expect(h.reads()).toBe(4);
  });

  it('keeps the copy when a deferred re-read fails; the bound still holds', async () => {
    const cache = new IsolateCache<number>(1000, 10);
    const deferred: Promise<unknown>[] = [];
    await cache.get(
      'k',
      async () => 1,
      0,
      () => undefined,
    );
    expect(
      await cache.get(
        'k',
        () => Promise.reject(new Error('D1 down')),
        600,
        (w) => deferred.push(w),
      ),
    ).toBe(1);
    await Promise.all(deferred);
    await expect(
      cache.get(
        'k',
        () => Promise.reject(new Error('D1 down')),
        1000,
        () => undefined,
      ),
    ).rejects.toThrow('D1 down');
  });
});
