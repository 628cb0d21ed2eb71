import type { Actor, Deps } from './deps';
import type { Config } from './env';

/** Hono bindings and per-request variables of the edgeplane app. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    config: Config;
    actor: Actor;
    deps: Deps;
  };
}
