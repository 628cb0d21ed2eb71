import { DurableObject } from 'cloudflare:workers';
import { RATE_PERIOD_MS } from '../services/inference-rate';

interface Window {
  start: number;
  granted: number;
}

// One object per inference token (named by the token's actor id): the calls granted to isolates in the current
// one-minute window (ADR 0014). Kept in the object's storage, so an eviction mid-window does not start the count over.

/** Grants calls of the current window to isolates, never more than the limit in one window. */
export class InferenceRate extends DurableObject<Env> {
  private window: Window | undefined;

  /** Grants up to `want` calls of the window that holds now (the object's clock): the rest of the limit, or 0. */
  async lease(want: number, limit: number): Promise<number> {
    const now = Date.now();
    const start = Math.floor(now / RATE_PERIOD_MS) * RATE_PERIOD_MS;
    this.window ??= (await this.ctx.storage.get<Window>('window')) ?? { start, granted: 0 };
    if (this.window.start !== start) this.window = { start, granted: 0 };
    const granted = Math.max(0, Math.min(want, limit - this.window.granted));
    this.window.granted += granted;
    await this.ctx.storage.put('window', this.window);
    return granted;
  }
}
