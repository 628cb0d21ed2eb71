import { describe, expect, it } from 'vitest';
import { chunkOf, RATE_PERIOD_MS, RateLeases } from '../../worker/services/inference-rate';

// The per-isolate leases on a token's rate (ADR 0014) against a counter that behaves like the InferenceRate object:
// one count per window across every isolate, never granting past the limit.

/** The token's rate object: grants what is left of the window; `calls` counts the lease calls it answered. */
function rateObject(limit: number) {
  const object = { granted: 0, calls: 0 };
  const lease = async (want: number) => {
    object.calls += 1;
    const granted = Math.max(0, Math.min(want, limit - object.granted));
    object.granted += granted;
    return granted;
  };
  return { object, lease };
}

/** An isolate: its leases, and the lease calls it started (what waitUntil would run after the response). */
function isolate() {
  const leases = new RateLeases();
  const deferred: Promise<unknown>[] = [];
  const settle = async () => {
    while (deferred.length > 0) await deferred.shift();
  };
  return { leases, deferred, settle };
}

const T0 = 10 * RATE_PERIOD_MS + 1_000;

/** Admits a call (waiting when it has to); true when admitted, false on the 429. */
async function call(at: ReturnType<typeof isolate>, lease: (want: number) => Promise<number>, limit: number, now = T0): Promise<boolean> {
  try {
    const waiting = at.leases.admit('token:t1', limit, now, lease, (work) => at.deferred.push(work));
    if (waiting) await waiting;
    return true;
  } catch (error) {
    expect((error as { code?: string }).code).toBe('rate_limited');
    return false;
  }
}

describe('rate leases', () => {
  it('admits exactly the limit in a window when each call waits for the previous one’s lease, then refuses with Retry-After', async () => {
    const limit = 40;
    const { object, lease } = rateObject(limit);
    const one = isolate();
    let admitted = 0;
    for (let i = 0; i < 100; i++) {
      if (await call(one, lease, limit)) admitted++;
      await one.settle();
    }
    expect(admitted).toBe(limit);
    expect(object.granted).toBe(limit);
    // Far fewer object calls than calls: a chunk (limit / 20) at a time.
    expect(object.calls).toBeLessThanOrEqual(limit / chunkOf(limit) + 2);
    let refusal: unknown;
    try {
      await one.leases.admit('token:t1', limit, T0, lease, () => undefined);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toMatchObject({ code: 'rate_limited', headers: { 'retry-after': '59' } });
  });

  it('bounds what passes with several isolates and calls admitted while a lease is on its way', async () => {
    const limit = 600;
    const { object, lease } = rateObject(limit);
    const isolates = [isolate(), isolate(), isolate()];
    let admitted = 0;
    let round = 0;
    // Bursts of calls in each isolate before any lease call returns, then the leases land, over and over.
    while (round++ < 200) {
      for (const at of isolates) for (let i = 0; i < 5; i++) if (await call(at, lease, limit)) admitted++;
      await Promise.all(isolates.map((at) => at.settle()));
    }
    expect(object.granted).toBe(limit);
    // Past the limit only calls admitted on credit that no grant paid: at most one burst per isolate.
    expect(admitted).toBeGreaterThanOrEqual(limit);
    expect(admitted).toBeLessThanOrEqual(limit + isolates.length * 5);
    for (const at of isolates) expect(await call(at, lease, limit)).toBe(false);
  });

  it('lets at most a chunk pass on credit while the object is slow; the next calls wait for its grant', async () => {
    const limit = 40; // a chunk of 2
    const { object, lease } = rateObject(limit);
    const answers: (() => void)[] = [];
    const slow = (want: number) => new Promise<number>((resolve) => answers.push(() => void lease(want).then(resolve)));
    const one = isolate();
    expect(await call(one, slow, limit)).toBe(true);
    expect(await call(one, slow, limit)).toBe(true);
    // A third call finds a chunk on credit and the lease still out: it waits for it.
    let third: boolean | undefined;
    const waiting = call(one, slow, limit).then((admitted) => (third = admitted));
    await Promise.resolve();
    expect(third).toBeUndefined();
    expect(answers).toHaveLength(1);
    answers.shift()?.();
    await waiting;
    expect(third).toBe(true);
    expect(object.granted).toBeGreaterThanOrEqual(3);

    // Whatever the object's speed, a window admits at most the limit plus one chunk.
    let admitted = 3;
    for (let i = 0; i < 100; i++) {
      const pending = call(one, slow, limit);
      while (answers.length > 0) answers.shift()?.();
      await new Promise((resolve) => setTimeout(resolve, 0));
      while (answers.length > 0) answers.shift()?.();
      if (await pending) admitted++;
    }
    expect(object.granted).toBe(limit);
    expect(admitted).toBeGreaterThanOrEqual(limit);
    expect(admitted).toBeLessThanOrEqual(limit + chunkOf(limit));
  });

  it('starts over in the next window and forgets the old one', async () => {
    const limit = 3;
    const counts = new Map<number, number>();
    const lease = async (want: number, window: number) => {
      const granted = Math.max(0, Math.min(want, limit - (counts.get(window) ?? 0)));
      counts.set(window, (counts.get(window) ?? 0) + granted);
      return granted;
    };
    const one = isolate();
    const inWindow = (now: number) => (want: number) => lease(want, Math.floor(now / RATE_PERIOD_MS));
    const admittedAt = async (now: number) => {
      let admitted = 0;
      for (let i = 0; i < 10; i++) {
        if (await call(one, inWindow(now), limit, now)) admitted++;
        await one.settle();
      }
      return admitted;
    };
    expect(await admittedAt(T0)).toBe(3);
    expect(await admittedAt(T0 + RATE_PERIOD_MS)).toBe(3);
  });

  it('keeps admitting, spaced by a chunk, when the rate object cannot be reached', async () => {
    const limit = 600;
    let attempts = 0;
    const failing = async () => {
      attempts++;
      throw new Error('object unreachable');
    };
    const one = isolate();
    const warn = console.warn;
    console.warn = () => undefined;
    try {
      for (let i = 0; i < 300; i++) {
        expect(await call(one, failing, limit)).toBe(true);
        await one.settle();
      }
    } finally {
      console.warn = warn;
    }
    expect(attempts).toBeGreaterThan(1);
    expect(attempts).toBeLessThanOrEqual(300 / (chunkOf(limit) / 2) + 1);
  });
});
