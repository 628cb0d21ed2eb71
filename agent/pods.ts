import type { ClusterHealth, PodProblem, WorkloadHealth } from '../src/shared/api/agent';
import { CLUSTER_LABEL, WORKLOAD_LABEL } from '../src/shared/kube/labels';
import type { Kube, KObject } from './kube';

/** Problems kept per workload: a 50-replica crash loop says the same thing 50 times. */
const MAX_PROBLEMS = 20;
const MAX_MESSAGE = 1000;

interface ContainerStatus {
  name?: string;
  ready?: boolean;
  restartCount?: number;
  state?: {
    waiting?: { reason?: string; message?: string };
    running?: Record<string, unknown>;
    terminated?: { reason?: string; exitCode?: number; message?: string };
  };
  lastState?: { terminated?: { reason?: string; exitCode?: number; message?: string } };
}

interface PodShape {
  metadata: KObject['metadata'] & { deletionTimestamp?: string };
  status?: {
    phase?: string;
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}

/** Waiting reasons that mean the container cannot start without a change (not a normal ContainerCreating). */
const STUCK = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

const cut = (s: string | undefined): string => (s ?? '').slice(0, MAX_MESSAGE);

/** What is wrong with one pod, as `kubectl describe` shows it: stuck containers, OOM kills, scheduling, readiness. */
export function podProblems(pod: PodShape): PodProblem[] {
  const name = pod.metadata.name;
  const status = pod.status ?? {};
  const problems: PodProblem[] = [];
  const scheduled = (status.conditions ?? []).find((c) => c.type === 'PodScheduled');
  if (status.phase === 'Pending' && scheduled?.status === 'False') {
    problems.push({ pod: name, reason: scheduled.reason ?? 'Unschedulable', message: cut(scheduled.message) });
    return problems;
  }
  for (const c of [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])]) {
    const waiting = c.state?.waiting;
    const last = c.lastState?.terminated ?? c.state?.terminated;
    const lastTermination = last?.reason !== undefined ? { reason: last.reason, exitCode: last.exitCode ?? 0 } : undefined;
    const base = { pod: name, ...(c.name ? { container: c.name } : {}), restarts: c.restartCount ?? 0 };
    if (waiting?.reason && STUCK.has(waiting.reason)) {
      // A crash loop is explained by the last termination: OOMKilled says more than CrashLoopBackOff.
      const oom = lastTermination?.reason === 'OOMKilled';
      problems.push({
        ...base,
        reason: oom ? 'OOMKilled' : waiting.reason,
        message: cut(
          oom
            ? `killed for exceeding its memory limit (exit code ${lastTermination.exitCode}); ${waiting.reason}: ${waiting.message ?? ''}`
            : (waiting.message ?? (lastTermination ? `last exit: ${lastTermination.reason} (exit code ${lastTermination.exitCode})` : '')),
        ),
        ...(lastTermination ? { lastTermination } : {}),
      });
    } else if (c.state?.terminated?.reason === 'OOMKilled' || (c.lastState?.terminated?.reason === 'OOMKilled' && !c.ready)) {
      problems.push({
        ...base,
        reason: 'OOMKilled',
        message: cut(`killed for exceeding its memory limit (exit code ${lastTermination?.exitCode ?? 137})`),
        ...(lastTermination ? { lastTermination } : {}),
      });
    } else if (c.state?.running && c.ready === false && (status.containerStatuses ?? []).includes(c)) {
      const ready = (status.conditions ?? []).find((x) => x.type === 'Ready');
      problems.push({
        ...base,
        reason: 'NotReady',
        message: cut(ready?.message ?? 'running but not ready: its readiness probe is failing'),
        ...(lastTermination ? { lastTermination } : {}),
      });
    }
  }
  return problems;
}

const isReady = (pod: PodShape): boolean =>
  (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') && !pod.metadata.deletionTimestamp;

/**
 * Pod-level health of the bundle's workloads: one labelled pod list per namespace that holds workloads (needs `list`
 * on pods there; a refusal is reported per workload, never fatal). Only status, names and labels are kept of each pod.
 */
export async function workloadHealth(kube: Pick<Kube, 'each'>, clusterId: string, objects: KObject[]): Promise<WorkloadHealth[]> {
  const workloads = objects
    .filter((o) => (o.kind === 'Deployment' || o.kind === 'StatefulSet') && o.metadata.labels?.[WORKLOAD_LABEL])
    .map((o) => ({
      workload: o.metadata.labels?.[WORKLOAD_LABEL] ?? '',
      namespace: o.metadata.namespace ?? '',
      replicas: Number((o.spec as { replicas?: number } | undefined)?.replicas ?? 1),
    }))
    .sort((a, b) => (a.namespace + '/' + a.workload < b.namespace + '/' + b.workload ? -1 : 1));
  const out: WorkloadHealth[] = [];
  for (const namespace of [...new Set(workloads.map((w) => w.namespace))]) {
    const pods = new Map<string, PodShape & { workload: string }>();
    const listed = await kube.each('v1', 'Pod', namespace, `${CLUSTER_LABEL}=${clusterId},${WORKLOAD_LABEL}`, (item) => {
      const pod = item as KObject & PodShape;
      pods.set(pod.metadata.name, {
        metadata: {
          name: pod.metadata.name,
          ...(pod.metadata.deletionTimestamp ? { deletionTimestamp: pod.metadata.deletionTimestamp } : {}),
        },
        ...(pod.status ? { status: pod.status } : {}),
        workload: pod.metadata.labels?.[WORKLOAD_LABEL] ?? '',
      });
    });
    for (const w of workloads.filter((x) => x.namespace === namespace)) {
      if (!listed.ok) {
        out.push({
          workload: w.workload,
          namespace,
          status: 'InProgress',
          pods: 0,
          ready: 0,
          problems: [],
          error: cut(`pods in ${namespace} could not be listed (${listed.status}): ${listed.error.message ?? ''}`),
        });
        continue;
      }
      const mine = [...pods.values()].filter((p) => p.workload === w.workload).sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
      const problems = mine.flatMap(podProblems);
      const ready = mine.filter(isReady).length;
      const failed = problems.some((p) => p.reason !== 'NotReady');
      out.push({
        workload: w.workload,
        namespace,
        status: failed ? 'Failed' : ready >= w.replicas && problems.length === 0 ? 'Current' : 'InProgress',
        pods: mine.length,
        ready,
        problems: problems.slice(0, MAX_PROBLEMS),
      });
    }
  }
  return out;
}

/** The cluster's health with its workloads' pod health added: a workload whose pods cannot run fails the cluster. */
export function withWorkloads(health: ClusterHealth, workloads: WorkloadHealth[]): ClusterHealth {
  if (workloads.length === 0) return health;
  const failed = workloads.some((w) => w.status === 'Failed');
  return { ...health, status: failed ? 'Failed' : health.status, workloads };
}
