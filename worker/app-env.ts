import type { Actor, Deps } from './deps';
import type { Config } from './env';

/** Hono bindings and per-request variables of the edgeplane app. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    config: Config;
    /** The clock of this request: services read it as `deps.now`, auth before deps exist. */
    now: () => Date;
    actor: Actor;
    deps: Deps;
  };
}
