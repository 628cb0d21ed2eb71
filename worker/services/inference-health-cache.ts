/** A health answer of Triton (an empty body with 200, or 400 when not ready) as cached per backend and path. */
interface Probe {
  status: number;
  contentType: string | null;
  body: string;
  at: number;
}

/** How long a probe is answered as fresh, and how long a stale one is still answered while a new probe runs. */
export const HEALTH_FRESH_MS = 2_000;
export const HEALTH_STALE_MS = 30_000;

// Per isolate: health probes are cheap to repeat, and a miss costs one upstream round trip, so no shared store is needed.
const probes = new Map<string, Probe>();
const inFlight = new Map<string, Promise<Probe>>();

/**
 * Answers a health call from the cached probe: fresh → at once; stale → at once, with a new probe run after the
 * response (`defer`); none → waits for one probe, shared by concurrent callers. The age is in `x-edgeplane-health-age`.
 */
export async function cachedHealth(
  key: string,
  probe: () => Promise<Response>,
  defer: (work: Promise<unknown>) => void,
  now: () => number = Date.now,
): Promise<Response> {
  const cached = probes.get(key);
  const age = cached ? now() - cached.at : Infinity;
  if (cached && age <= HEALTH_STALE_MS) {
    if (age > HEALTH_FRESH_MS && !inFlight.has(key)) defer(refresh(key, probe, now).catch(() => undefined));
    return toResponse(cached, age);
  }
  return toResponse(await (inFlight.get(key) ?? refresh(key, probe, now)), 0);
}

function refresh(key: string, probe: () => Promise<Response>, now: () => number): Promise<Probe> {
  const running = (async () => {
    const response = await probe();
    // Health bodies are empty (or a few bytes of an error); reading them whole is bounded by the 4 KiB cut.
    const body = (await response.text()).slice(0, 4096);
    const result: Probe = { status: response.status, contentType: response.headers.get('content-type'), body, at: now() };
    // Only Triton's own answers are cached; an unreachable upstream is asked again on the next call.
    if (response.status === 200 || response.status === 400) probes.set(key, result);
    return result;
  })().finally(() => inFlight.delete(key));
  inFlight.set(key, running);
  return running;
}

function toResponse(probe: Probe, ageMs: number): Response {
  const headers = new Headers({ 'x-edgeplane-health-age': (ageMs / 1000).toFixed(3), 'cache-control': 'no-store' });
  if (probe.contentType) headers.set('content-type', probe.contentType);
  return new Response(probe.body, { status: probe.status, headers });
}

/** Forgets every cached probe (a backend changed, or a test starts). */
export function clearHealthCache(): void {
  probes.clear();
}
