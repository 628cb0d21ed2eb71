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

/** Opens the drizzle handle on the D1 binding. */
export const openDb = (d1: D1Database): Db => drizzle(d1, { schema });
