import { secretHash } from '../crypto';
import type { Deps } from '../deps';
import type { AgentCheck } from '../durable/cluster-notifier';
import { LAST_SEEN_GRANULARITY_MS, type AgentCluster } from './agent-auth';
import { etagRevisions } from './agent-bundle';

/** What the cluster's notifier said about a conditional GET /agent/v1/desired, and how to prime it after a D1 read. */
export interface NotifierAnswer {
  /** The revision of a 304 the notifier answered alone, or null when the request must go to D1. */
  notModified: number | null;
  /** After a successful D1 read (`authenticateAgent`): hands the notifier what it read, after the response. */
  prime: (cluster: AgentCluster, seenAt: number) => void;
}

const noPrime = (): void => {};

/**
 * Asks the cluster's notifier (one Durable Object call, no D1) whether the agent's If-None-Match is current for its
 * credential (ADR 0013). A malformed credential or an If-None-Match naming no revision of this bundle format goes
 * straight to D1, whose path gives the errors.
 */
export async function askNotifier(deps: Deps, credential: string, ifNoneMatch: string): Promise<NotifierAnswer> {
  const [prefix, clusterId, secret] = credential.split('.');
  const revisions = etagRevisions(ifNoneMatch);
  if (prefix !== 'epa' || !clusterId || !secret || revisions.length === 0) return { notModified: null, prime: noPrime };
  const stub = deps.env.CLUSTER_NOTIFIER.get(deps.env.CLUSTER_NOTIFIER.idFromName(clusterId));
  const seenAfter = deps.now().getTime() - LAST_SEEN_GRANULARITY_MS;
  let check: AgentCheck;
  try {
    check = await stub.checkAgent(secretHash(credential), revisions, seenAfter);
  } catch (error) {
    // The notifier is an optimisation: without it the request is answered from D1 as before.
    console.warn(
      JSON.stringify({ msg: 'cluster notifier unavailable for the 304; answering from D1', cluster: clusterId, error: String(error) }),
    );
    return { notModified: null, prime: noPrime };
  }
  if (check.answer === 'not-modified') return { notModified: check.revision, prime: noPrime };
  const { generation, since } = check;
  return {
    notModified: null,
    prime: (cluster, seenAt) => {
      if (cluster.id !== clusterId || !cluster.agentCredentialHash) return;
      const snapshot = { credentialHash: cluster.agentCredentialHash, revision: cluster.desiredRevision, seenAt };
      deps.defer(
        stub.primeAgent(generation, since, snapshot).catch((error: unknown) => {
          console.warn(
            JSON.stringify({ msg: 'cluster notifier not primed; the next 304 reads D1', cluster: clusterId, error: String(error) }),
          );
        }),
      );
    },
  };
}
