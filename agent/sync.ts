import { createHash } from 'node:crypto';
import type { AgentStatus, DesiredBundle, FieldConflict, ObjectResult } from '../src/shared/api/agent';
import { applyObject, type ApplyOutcome } from './apply';
import { normalise, upToDate } from './compare';
import { assessHealth } from './health';
import { InfraScanner } from './infra';
import { ClusterCaReader } from './cluster-ca';
import { CLUSTER_LABEL } from '../src/shared/kube/labels';
import { identityKey } from '../src/shared/kube/object-key';
import { inventoryOf, pendingInventory, recordApplied, refOfEntry } from './inventory';
import { refKey, refOf, type Kube, type KObject } from './kube';
import { log } from './log';
import type { Metrics } from './metrics';
import { workloadHealth, withWorkloads } from './pods';
import type { ProbeRunner } from './probe-runner';
import { deletionsInWindow, executePrune, planPrune } from './prune';
import type { AgentState, StateStore } from './state';
import type { Transport } from './transport';
import { AGENT_VERSION } from './version';

export type SyncResult = 'applied' | 'unchanged' | 'offline' | 'unauthorized' | 'failed';

/** What one pass read of the cluster: live objects by key, and the keys already found to match their desired state. */
interface LiveState {
  objects: Map<string, KObject>;
  current: Set<string>;
}

/** A live object reduced to what the rest of a pass reads of an object that needs no write: identity and versions. */
const stub = (o: KObject): KObject => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  metadata: {
    name: o.metadata.name,
    ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
    ...(o.metadata.resourceVersion ? { resourceVersion: o.metadata.resourceVersion } : {}),
    ...(o.metadata.generation !== undefined ? { generation: o.metadata.generation } : {}),
  },
});

/** Runs `work` over items with at most `limit` in flight, keeping result order. */
async function mapLimit<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      const item = items[i];
      if (item !== undefined) results[i] = await work(item);
    }
  });
  await Promise.all(runners);
  return results;
}

/**
 * The level-based loop body: fetch the whole bundle (or learn it is unchanged), converge the cluster to it, prune
 * exactly, check health, report. With the Worker unreachable it re-converges to the last bundle it had, prunes
 * nothing, and the caller backs off.
 */
export class Syncer {
  private bundle: DesiredBundle | undefined;
  private etag: string | undefined;
  /** The refusal of the last pass that decided on pruning, reported again by offline passes (which decide nothing). */
  private lastPruneRefusal: { refused: string; objects: string[] | undefined } | undefined;
  private lastReport = '';
  private pendingReport: AgentStatus | undefined;
  /** Conflicts already reported for an unchanged live object and desired object: not retried (no write) until either changes. */
  private readonly conflictMemo = new Map<string, { fingerprint: string; outcome: ApplyOutcome }>();
  /** True while the last converge left a rollout in progress (the caller re-checks soon). */
  healthInProgress = false;
  /** Infra discovery, throttled (agent/infra.ts); made on first use. */
  private infraScanner: InfraScanner | undefined;
  /** The cluster CA for the WARP kubeconfig (agent/cluster-ca.ts); made on first use. */
  private caReader: ClusterCaReader | undefined;

  constructor(
    private readonly clusterId: string,
    private readonly kube: Kube,
    private readonly transport: Pick<Transport, 'fetchDesired' | 'postStatus'>,
    private readonly store: StateStore,
    private state: AgentState,
    private readonly metrics: Metrics,
    private readonly concurrency: number,
    private readonly probes?: ProbeRunner,
  ) {
    metrics.lastAppliedRevision = state.revision;
  }

  get cachedRevision(): number {
    return this.bundle?.revision ?? this.state.revision;
  }

  async sync(): Promise<SyncResult> {
    const fetched = await this.transport.fetchDesired(this.bundle ? this.etag : undefined);
    this.metrics.lastSyncAt = Date.now();
    if (fetched.kind === 'unreachable' || fetched.kind === 'unauthorized') {
      this.metrics.workerReachable = 0;
      this.metrics.syncs.offline++;
      log(
        fetched.kind === 'unauthorized' ? 'error' : 'warn',
        fetched.kind === 'unauthorized'
          ? 'the Worker refused the agent credential'
          : 'the Worker is unreachable; keeping the last applied state',
        { reason: fetched.message },
      );
      // Keep the cluster at the last bundle this agent had (drift repair only), never prune while offline.
      if (this.bundle) await this.converge(this.bundle, false);
      return fetched.kind === 'unauthorized' ? 'unauthorized' : 'offline';
    }
    this.metrics.workerReachable = 1;
    if (fetched.kind === 'bundle') {
      this.bundle = fetched.bundle;
      this.etag = fetched.etag;
    }
    const bundle = this.bundle;
    if (!bundle) return 'failed';
    this.probes?.want(bundle.probes);
    const changed = await this.converge(bundle, true);
    return changed ? 'applied' : 'unchanged';
  }

  /** Converges the cluster to `bundle`; returns whether anything was written. */
  private async converge(bundle: DesiredBundle, mayPrune: boolean): Promise<boolean> {
    const started = performance.now();
    const writesBefore = this.kube.writes;
    const objects = bundle.objects as KObject[];
    const previous = this.state.inventory;
    const next = inventoryOf(objects);
    // Record everything that may exist after this pass before creating any of it (crash safety: no orphans).
    await this.store.save({ ...this.state, inventory: pendingInventory(previous, next) });

    const live = await this.readLive(objects);
    const namespaces = objects.filter((o) => o.kind === 'Namespace');
    const rest = objects.filter((o) => o.kind !== 'Namespace');
    const outcomes: ApplyOutcome[] = [];
    for (const ns of namespaces) outcomes.push(await this.applyOne(ns, live));
    outcomes.push(...(await mapLimit(rest, this.concurrency, (o) => this.applyOne(o, live))));
    for (const outcome of outcomes) if (outcome.live) live.objects.set(refKey(refOf(outcome.live)), outcome.live);

    const results: ObjectResult[] = outcomes.map((o) => o.result);
    const conflicts: FieldConflict[] = outcomes.flatMap((o) => o.conflicts);
    const failed = results.some((r) => r.action === 'conflict' || r.action === 'invalid' || r.action === 'error');

    const applied = new Set(
      results
        .filter((r) => r.action === 'created' || r.action === 'configured' || r.action === 'unchanged' || r.action === 'recreated')
        .map(identityKey),
    );
    let inventory = recordApplied(
      pendingInventory(previous, next),
      next.filter((e) => applied.has(e.key)),
    );
    const pruned: string[] = [];
    let pruneRefused: string | undefined;
    let pruneRefusedObjects: string[] | undefined;
    let pruneApproved: number | undefined;
    let pruneMemory = this.state.prune;
    if (!mayPrune && this.lastPruneRefusal) {
      // An offline pass decides nothing about pruning: the last refusal still stands and is reported as it was, so the
      // report delivered later does not read as if it had been lifted.
      pruneRefused = this.lastPruneRefusal.refused;
      pruneRefusedObjects = this.lastPruneRefusal.objects;
    }
    if (mayPrune) {
      // By key, which leaves the version out: an object the bundle moved to another apiVersion is kept, not pruned.
      const keep = new Set(next.map((e) => e.key));
      const now = Date.now();
      const plan = planPrune(
        previous.map((e) => e.key),
        [...keep],
        bundle.prune,
        { clusterId: this.clusterId, revision: bundle.revision, now, ...this.state.prune },
      );
      pruneRefused = plan.refused;
      pruneRefusedObjects = plan.refusedObjects;
      this.lastPruneRefusal = plan.refused ? { refused: plan.refused, objects: plan.refusedObjects } : undefined;
      if (plan.refused) {
        log('warn', 'prune refused', { reason: plan.refused });
        results.push(
          ...previous
            .filter((e) => !keep.has(e.key))
            .map((e) => ({ ...refOfEntry(e), action: 'prune_refused' as const, message: plan.refused })),
        );
      } else if (plan.delete.length > 0) {
        const doomed = new Set(plan.delete);
        const done = await executePrune(
          this.kube,
          previous.filter((e) => doomed.has(e.key)),
          this.clusterId,
        );
        results.push(...done.results);
        pruned.push(...done.results.filter((r) => r.action === 'pruned').map((r) => refKey(r)));
        const gone = new Set(done.gone);
        inventory = inventory.filter((e) => !gone.has(e.key));
        this.metrics.pruned += pruned.length;
        if (plan.approved !== undefined) {
          // An approved set is the operator's decision: it does not use up the window, and the approval is spent.
          pruneApproved = plan.approved;
          pruneMemory = { ...pruneMemory, approvalUsed: plan.approved };
          log('info', 'pruned under an approval', { approvedRevision: plan.approved, pruned: pruned.length });
        } else if (pruned.length > 0) {
          pruneMemory = {
            ...pruneMemory,
            deletions: [...deletionsInWindow(pruneMemory.deletions, bundle.prune.windowSeconds, now), ...pruned.map(() => now)],
          };
        }
      }
    }
    const appliedAll = !failed;
    this.state = {
      revision: appliedAll ? bundle.revision : this.state.revision,
      hash: appliedAll ? bundle.hash : this.state.hash,
      inventory,
      prune: pruneMemory,
    };
    await this.store.save(this.state);

    const seconds = (performance.now() - started) / 1000;
    const wrote = this.kube.writes > writesBefore;
    this.metrics.lastApplyDurationSeconds = seconds;
    this.metrics.applyDurationSecondsSum += seconds;
    this.metrics.applyDurationSecondsCount++;
    this.metrics.conflicts = conflicts.length;
    this.metrics.lastAppliedRevision = this.state.revision;
    if (failed) this.metrics.syncs.failed++;
    else this.metrics.syncs.ok++;
    if (wrote)
      log('info', 'converged', {
        revision: bundle.revision,
        written: results.filter((r) => r.action !== 'unchanged').length,
        conflicts: conflicts.length,
        pruned: pruned.length,
        ms: Math.round(seconds * 1000),
      });

    const health = withWorkloads(
      await assessHealth(this.kube, objects, bundle.origins, live.objects),
      await workloadHealth(this.kube, this.clusterId, objects),
    );
    const infra = await (this.infraScanner ??= new InfraScanner(this.kube)).scan();
    const clusterCa = await (this.caReader ??= new ClusterCaReader(this.kube, this.store.namespace)).read();
    this.healthInProgress = health.status === 'InProgress';
    const report: AgentStatus = {
      revision: bundle.revision,
      hash: bundle.hash,
      applied: appliedAll,
      durationMs: Math.round(seconds * 1000),
      results,
      conflicts,
      pruned,
      ...(pruneRefused ? { pruneRefused } : {}),
      ...(pruneRefusedObjects ? { pruneRefusedObjects } : {}),
      ...(pruneApproved !== undefined ? { pruneApproved } : {}),
      health,
      agentVersion: AGENT_VERSION,
      ...(infra ? { infra } : {}),
      ...(clusterCa ? { clusterCa } : {}),
    };
    const probes = this.probes?.reports() ?? [];
    if (probes.length > 0) report.probes = probes;
    await this.report(report);
    return wrote;
  }

  /**
   * Reads the live state of a bundle with one labelled list per kind and namespace instead of one GET per object
   * (500 objects → a handful of requests). Objects the lists miss (not labelled, e.g. owned by Helm) are read by name.
   * An object that already matches its desired state is compared as its page arrives and kept only as a stub (identity
   * and resourceVersion; Deployments whole, for health): a pass over 500 unchanged objects never holds them all.
   */
  private async readLive(objects: KObject[]): Promise<LiveState> {
    const objectsByKey = new Map<string, KObject>();
    const groups = new Map<string, { apiVersion: string; kind: string; namespace: string | undefined }>();
    for (const o of objects) {
      objectsByKey.set(refKey(refOf(o)), o);
      groups.set(`${o.apiVersion}|${o.kind}|${o.metadata.namespace ?? ''}`, {
        apiVersion: o.apiVersion,
        kind: o.kind,
        namespace: o.metadata.namespace,
      });
    }
    const state: LiveState = { objects: new Map(), current: new Set() };
    for (const g of groups.values())
      await this.kube.each(g.apiVersion, g.kind, g.namespace, `${CLUSTER_LABEL}=${this.clusterId}`, (item) => {
        const key = refKey(refOf(item));
        const want = objectsByKey.get(key);
        if (want && item.kind !== 'Deployment' && upToDate(normalise(want), item)) {
          state.objects.set(key, stub(item));
          state.current.add(key);
        } else state.objects.set(key, item);
      });
    return state;
  }

  private async applyOne(object: KObject, live: LiveState): Promise<ApplyOutcome> {
    const ref = refOf(object);
    const key = refKey(ref);
    const known = live.objects.get(key);
    const memo = this.conflictMemo.get(key);
    const desired = () => JSON.stringify(object);
    if (memo) {
      const current = known ? { ok: true as const, value: known } : await this.kube.get(ref);
      if (current.ok && `${current.value.metadata.resourceVersion ?? ''}|${desired()}` === memo.fingerprint) return memo.outcome;
    }
    const outcome = await applyObject(this.kube, object, known, live.current.has(key));
    if (outcome.result.action === 'conflict') {
      this.metrics.conflictsTotal += outcome.conflicts.length;
      const live = await this.kube.get(ref);
      if (live.ok) this.conflictMemo.set(key, { fingerprint: `${live.value.metadata.resourceVersion ?? ''}|${desired()}`, outcome });
      log('warn', 'field-ownership conflict; not forced', { object: key, conflicts: outcome.conflicts });
    } else this.conflictMemo.delete(key);
    if (outcome.result.action === 'invalid' || outcome.result.action === 'error')
      log('warn', 'object not applied', { object: key, action: outcome.result.action, message: outcome.result.message });
    return outcome;
  }

  /** Sends the report when it differs from the last one delivered (durations aside); retried on the next pass if it failed. */
  private async report(report: AgentStatus): Promise<void> {
    // A digest, not the text: a report on 500 objects is ~200 KB that would otherwise live for the process's lifetime.
    const fingerprint = createHash('sha256')
      .update(JSON.stringify({ ...report, durationMs: 0 }))
      .digest('base64');
    if (fingerprint === this.lastReport && !this.pendingReport) return;
    this.pendingReport = report;
    const sent = await this.transport.postStatus(report);
    if (sent.ok) {
      this.lastReport = fingerprint;
      this.pendingReport = undefined;
    } else {
      this.metrics.workerReachable = sent.status === 0 ? 0 : this.metrics.workerReachable;
      log('warn', 'status report not delivered; will retry', { status: sent.status, reason: sent.message });
    }
  }
}
