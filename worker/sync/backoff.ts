const BASE_BACKOFF_MS = 2_000;
export const MAX_BACKOFF_MS = 10 * 60_000;

/** Exponential backoff with jitter: 2 s, 4 s, 8 s … capped at 10 min, each between half and the full step. */
export function backoffMs(attempts: number, random: () => number = Math.random): number {
  const step = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}
