/** The wall clock. Everything that needs the time reads it through `deps.now` (or the request's `now`), never directly. */
export const systemClock = (): Date => new Date();
