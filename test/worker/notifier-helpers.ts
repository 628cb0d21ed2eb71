import { env, runInDurableObject } from 'cloudflare:test';
import type { AgentSnapshot, ClusterNotifier } from '../../worker/durable/cluster-notifier';

/** The notifier's private 304 copy, as the tests look at it (and age or drop it) through runInDurableObject. */
interface Internals {
  agent: (AgentSnapshot & { loadedAt: number }) | null;
  forget(): void;
}
const internals = (instance: ClusterNotifier) => instance as unknown as Internals;

export const notifierOf = (cluster: string) => env.CLUSTER_NOTIFIER.get(env.CLUSTER_NOTIFIER.idFromName(cluster));

/** The copy of the credential hash and revision the cluster's notifier answers 304s from, or null. */
export function notifierCopy(cluster: string): Promise<(AgentSnapshot & { loadedAt: number }) | null> {
  return runInDurableObject(notifierOf(cluster), (instance: ClusterNotifier) => {
    const held = internals(instance).agent;
    return held ? { ...held } : null;
  });
}

/** Makes the copy look read `ms` earlier, as if that much time had passed since its D1 read. */
export function ageNotifierCopy(cluster: string, ms: number): Promise<void> {
  return runInDurableObject(notifierOf(cluster), (instance: ClusterNotifier) => {
    const held = internals(instance).agent;
    if (!held) throw new Error(`the notifier of ${cluster} holds no copy to age`);
    held.loadedAt -= ms;
  });
}

/**
 * Drops the copy, for tests that edit D1 behind the notifier's back (in the product, the columns it copies change only
 * through paths that fence, notify or drop it).
 */
export function forgetNotifierCopy(cluster: string): Promise<void> {
  return runInDurableObject(notifierOf(cluster), (instance: ClusterNotifier) => internals(instance).forget());
}
