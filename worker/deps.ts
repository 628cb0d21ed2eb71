import { drizzle, type DrizzleD1Database } from 'drizzle-orm/d1';
import type { Config } from './env';
import * as schema from './db/schema';

export type Db = DrizzleD1Database<typeof schema>;

/** Who is acting: a named API token, the dev token, or an internal process. */
export interface Actor {
  id: string;
  role: 'admin' | 'editor' | 'viewer' | 'inference';
}

/** Everything a service function needs, built once per request by the deps middleware. */
export interface Deps {
  db: Db;
  config: Config;
  env: Env;
  now: () => Date;
  requestId: string;
  actor: Actor;
  /** Runs work after the response (ctx.waitUntil), e.g. waking the Cloudflare sync or a cluster's agent. */
  defer: (work: Promise<unknown>) => void;
}

const handles = new WeakMap<D1Database, Db>();

/**
 * The drizzle handle on a D1 binding, built once per binding (per isolate) rather than on every request: `drizzle()`
 * walks the whole schema to build its relational config. The handle holds no per-request state.
 */
export function openDb(d1: D1Database): Db {
  let db = handles.get(d1);
  if (!db) {
    db = drizzle(d1, { schema });
    handles.set(d1, db);
  }
  return db;
}
