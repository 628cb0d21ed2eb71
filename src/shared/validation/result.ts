/** Outcome of a validator: the normalised value, or a message saying what is wrong and what would be right. */
export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

/** Builds a successful check. */
export const ok = <T>(value: T): Checked<T> => ({ ok: true, value });

/** Builds a failed check with a human-readable reason. */
export const fail = <T = never>(message: string): Checked<T> => ({ ok: false, message });
