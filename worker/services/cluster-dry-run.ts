import { eq } from 'drizzle-orm';
import type { DesiredBundle } from '../../src/shared/api/agent';
import type {
  AgentDryRunRequest,
  AgentDryRunResult,
  ClusterDryRun,
  DryRunObject,
  DryRunOutcome,
} from '../../src/shared/api/cluster-dry-run';
import { decryptSecret, encryptSecret, requireEncryptionKey } from '../crypto';
import { connectionOf } from '../db/mappers';
import { clusters } from '../db/schema';
import type { Deps } from '../deps';
import { DRY_RUN_MAX_PENDING, DRY_RUN_PENDING_MS, type DryRunPut, type StoredDryRun } from '../durable/dry-runs';
import { AppError, notFound } from '../errors';
import { newId } from '../ids';
import type { AgentCluster } from './agent-auth';

/** One cluster the plan affects: the bundle the plan would make for it (with secrets, as the agent's bundle has them). */
export interface DryRunTarget {
  cluster: string;
  revision: number;
  objects: DesiredBundle['objects'];
}

const WHAT = "a cluster dry run's bundle (it carries the cluster's secrets) cannot be handed to the agent";

const notifier = (deps: Pick<Deps, 'env'>, clusterId: string) =>
  deps.env.CLUSTER_NOTIFIER.get(deps.env.CLUSTER_NOTIFIER.idFromName(clusterId));

const urlOf = (cluster: string, id: string) => `/v1/clusters/${cluster}/dry-runs/${id}`;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const OUTCOMES: DryRunOutcome[] = ['created', 'changed', 'unchanged', 'conflict', 'invalid', 'unchecked', 'error'];

function notRun(
  target: Pick<DryRunTarget, 'cluster' | 'revision'>,
  message: string,
  status: ClusterDryRun['status'] = 'no_agent',
): ClusterDryRun {
  return {
    id: null,
    cluster: target.cluster,
    status,
    message,
    revision: target.revision,
    requestedAt: null,
    completedAt: null,
    url: null,
    kubernetesVersion: null,
    summary: null,
    objects: [],
  };
}

/** The API view of a stored dry run: completed with its verdicts, pending, or expired. */
function toApiDryRun(cluster: string, run: StoredDryRun, now: number): ClusterDryRun {
  const result = run.result === null ? null : (JSON.parse(run.result) as AgentDryRunResult);
  const status = result ? 'completed' : now - run.requestedAt >= DRY_RUN_PENDING_MS ? 'expired' : 'pending';
  const objects: DryRunObject[] = result?.objects ?? [];
  const summary = result
    ? (Object.fromEntries(OUTCOMES.map((o) => [o, objects.filter((x) => x.outcome === o).length])) as ClusterDryRun['summary'])
    : null;
  return {
    id: run.id,
    cluster,
    status,
    ...(status === 'pending'
      ? { message: `the agent has not answered yet; GET ${urlOf(cluster, run.id)} for the result` }
      : status === 'expired'
        ? { message: `the agent did not answer within ${DRY_RUN_PENDING_MS / 60_000} minutes` }
        : {}),
    revision: run.revision,
    requestedAt: iso(run.requestedAt),
    completedAt: iso(run.completedAt),
    url: urlOf(cluster, run.id),
    kubernetesVersion: result?.kubernetesVersion ?? null,
    summary,
    objects,
  };
}

/** Why no agent of this cluster can run a dry run now, or undefined when one is connected (by D1's account). */
async function absentAgent(deps: Deps, clusterId: string): Promise<string | undefined> {
  const row = await deps.db
    .select({ hash: clusters.agentCredentialHash, connection: clusters.connection, lastSeenAt: clusters.lastSeenAt })
    .from(clusters)
    .where(eq(clusters.id, clusterId))
    .get();
  if (!row) return `the plan creates cluster "${clusterId}": no agent can be installed before it exists`;
  if (!row.hash)
    return `no agent has registered for cluster "${clusterId}" (install one: GET /v1/clusters/${clusterId}/install.yaml); nothing was run in the cluster`;
  const connection = connectionOf(row, deps.now().getTime());
  if (connection !== 'connected')
    return `the agent of cluster "${clusterId}" is ${connection}${row.lastSeenAt ? ` (last seen ${row.lastSeenAt})` : ''}; nothing was run in the cluster`;
  return undefined;
}

/**
 * The cluster-side pre-flight of a plan (ADR 0015): each target's bundle goes to its cluster's notifier, which tells the
 * agent over its notify socket; the agent server-side applies it with dryRun=All and posts the verdicts. Waits up to
 * `waitMs` for all of them together; a cluster whose agent is not registered, not seen recently or has no notify socket
 * open gets `no_agent` saying which, never a guess.
 */
export async function runClusterDryRuns(deps: Deps, targets: DryRunTarget[], waitMs: number): Promise<Map<string, ClusterDryRun>> {
  const out = new Map<string, ClusterDryRun>();
  const requested: { target: DryRunTarget; id: string }[] = [];
  for (const target of targets) {
    const absent = await absentAgent(deps, target.cluster);
    if (absent) {
      out.set(target.cluster, notRun(target, absent));
      continue;
    }
    const now = deps.now().getTime();
    const id = newId('dry', deps.now());
    const payload = await encryptSecret(requireEncryptionKey(deps.config, WHAT), JSON.stringify({ objects: target.objects }));
    let put: DryRunPut;
    try {
      put = await notifier(deps, target.cluster).putDryRun(
        { id, revision: target.revision, requestedAt: now, payload, result: null, completedAt: null },
        now,
      );
    } catch (error) {
      // The notifier unavailable, or a bundle over its storage's value limit (about 2 MB encrypted): said, not thrown,
      // so the rest of the plan still answers.
      console.warn(JSON.stringify({ msg: 'cluster dry run not handed over', cluster: target.cluster, error: String(error) }));
      out.set(
        target.cluster,
        notRun(target, `the dry run could not be handed to the agent of "${target.cluster}": ${String(error)}`, 'failed'),
      );
      continue;
    }
    if (!put.stored) {
      out.set(
        target.cluster,
        put.reason === 'busy'
          ? notRun(
              target,
              `${DRY_RUN_MAX_PENDING} dry runs are already waiting for the agent of "${target.cluster}"; try again shortly`,
              'busy',
            )
          : notRun(
              target,
              `the agent of cluster "${target.cluster}" has no notify channel open (it is polling), so it cannot be asked now; nothing was run in the cluster`,
            ),
      );
      continue;
    }
    requested.push({ target, id });
  }
  await Promise.all(
    requested.map(async ({ target, id }) => {
      let run: StoredDryRun | null;
      try {
        run = await notifier(deps, target.cluster).readDryRun(id, waitMs, deps.now().getTime());
      } catch (error) {
        // Handed over, so the agent may still answer: the URL stays good.
        console.warn(JSON.stringify({ msg: 'cluster dry run not read', cluster: target.cluster, error: String(error) }));
        out.set(target.cluster, {
          ...notRun(
            target,
            `the dry run's result could not be read now (${String(error)}); GET ${urlOf(target.cluster, id)} later`,
            'pending',
          ),
          id,
          url: urlOf(target.cluster, id),
        });
        return;
      }
      out.set(
        target.cluster,
        run ? toApiDryRun(target.cluster, run, deps.now().getTime()) : notRun(target, 'the dry run was lost', 'expired'),
      );
    }),
  );
  return out;
}

/** GET /v1/clusters/{id}/dry-runs/{dryRunId}: a dry run's state, for 15 minutes after its request. */
export async function readClusterDryRun(deps: Deps, clusterId: string, id: string): Promise<ClusterDryRun> {
  const run = await notifier(deps, clusterId).readDryRun(id, 0, deps.now().getTime());
  if (!run) throw notFound('dry run', id);
  return toApiDryRun(clusterId, run, deps.now().getTime());
}

/** GET /agent/v1/dry-runs: what the agent's cluster has waiting, decrypted for that agent only. */
export async function pendingDryRunsFor(deps: Deps, cluster: AgentCluster): Promise<AgentDryRunRequest[]> {
  const pending = await notifier(deps, cluster.id).pendingDryRuns(deps.now().getTime());
  const out: AgentDryRunRequest[] = [];
  for (const run of pending) {
    if (run.payload === null) continue;
    const body = JSON.parse(await decryptSecret(requireEncryptionKey(deps.config, WHAT), run.payload)) as Pick<
      AgentDryRunRequest,
      'objects'
    >;
    out.push({ id: run.id, revision: run.revision, objects: body.objects });
  }
  return out;
}

/** POST /agent/v1/dry-runs/{id}: the agent's verdicts; 404 for a dry run its cluster does not have waiting. */
export async function recordDryRunResult(deps: Deps, cluster: AgentCluster, id: string, result: AgentDryRunResult): Promise<void> {
  const done = await notifier(deps, cluster.id).completeDryRun(id, JSON.stringify(result), deps.now().getTime());
  if (!done)
    throw new AppError('not_found', `dry run "${id}" is not waiting for cluster "${cluster.id}" (unknown, expired or already answered)`);
}
