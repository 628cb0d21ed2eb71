import type { ProbeNodeReport, ProbeOutcome, ProbeReport, ProbeRequest } from '../src/shared/api/probe';
import { array, boolean, integer, object, optional, string } from './check';
import type { Kube, KObject } from './kube';
import { log } from './log';
import { PROBE_COMPONENT, PROBE_LABEL, probeHandle, probeJob, templateFromPod, type AgentPodTemplate } from './probe-job';

export interface ProbeRunnerOptions {
  kube: Kube;
  clusterId: string;
  /** The agent's namespace: the only one probe Jobs are created in (a namespaced Role suffices). */
  namespace: string;
  /** The agent's own pod (POD_NAME from the downward API, else HOSTNAME), read for the image and command. */
  podName: string | undefined;
  /** Called when a probe finished, so the main loop reports without waiting for its timer. */
  onDone: () => void;
  /** How long a node's pod may take to start (image already on the node: seconds) before it counts as not run. */
  startBudgetMs?: number;
  pollMs?: number;
}

const outcomeShape = object({
  ok: boolean,
  ms: optional(integer(0)),
  address: optional(string()),
  error: optional(object({ kind: string(1), message: string() })),
});
const messageShape = object({ v: integer(1), outcomes: array(outcomeShape) });

interface PodLike {
  metadata: { labels?: Record<string, string> };
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
    containerStatuses?: {
      state?: { terminated?: { exitCode?: number; reason?: string; message?: string }; waiting?: { reason?: string; message?: string } };
    }[];
  };
}

/** Reads a finished pod's termination message: the outcomes in target order, or why there are none. */
export function readTerminated(pod: PodLike, targets: number): { done: false } | { done: true; report: Omit<ProbeNodeReport, 'node'> } {
  const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
  const phase = pod.status?.phase;
  if (!terminated && phase !== 'Failed') return { done: false };
  const text = terminated?.message ?? '';
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string') return { done: true, report: { ran: false, message: parsed.error.slice(0, 500), outcomes: [] } };
    const message = messageShape(parsed, 'terminationMessage') as unknown as { outcomes: ProbeOutcome[] };
    if (message.outcomes.length !== targets) throw new Error(`${message.outcomes.length} outcomes for ${targets} targets`);
    return { done: true, report: { ran: true, outcomes: message.outcomes } };
  } catch (error) {
    const why = terminated
      ? `the probe container ended (${terminated.reason ?? 'exit'} ${terminated.exitCode ?? '?'}) without a readable result: ${(error as Error).message}`
      : `the probe pod failed: ${pod.status?.reason ?? ''} ${pod.status?.message ?? ''}`.trim();
    return { done: true, report: { ran: false, message: why.slice(0, 500), outcomes: [] } };
  }
}

/** Why a pod that never finished did not run: unschedulable, image pull, still pending. */
function whyNotRun(pod: PodLike | undefined, node: string): string {
  if (!pod) return `no pod was created for node ${node} before the deadline`;
  const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
  if (waiting?.reason)
    return `the probe container on ${node} is waiting: ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}`;
  const blocked = pod.status?.conditions?.find((c) => c.status === 'False' && c.message);
  if (blocked) return `the probe pod on ${node} did not start: ${blocked.reason ?? blocked.type ?? ''} ${blocked.message ?? ''}`.trim();
  return `the probe pod on ${node} did not finish before the deadline (phase ${pod.status?.phase ?? 'unknown'}; is the node Ready?)`;
}

/**
 * Runs the bundle's egress probes: one Job per node in the agent's namespace, results from the pods' termination
 * messages, Jobs deleted afterwards. Level-based like the rest of the agent: `want` gets the bundle's pending probes on
 * every pass; a probe is started once, its report is kept (and sent with every status report) until the bundle no
 * longer lists it, i.e. until the Worker recorded it.
 */
export class ProbeRunner {
  private readonly running = new Map<string, Promise<void>>();
  private readonly finished = new Map<string, ProbeReport>();
  private template: Promise<AgentPodTemplate | string> | undefined;
  private swept = false;
  private readonly startBudgetMs: number;
  private readonly pollMs: number;

  constructor(private readonly options: ProbeRunnerOptions) {
    this.startBudgetMs = options.startBudgetMs ?? 90_000;
    this.pollMs = options.pollMs ?? 1000;
  }

  /** Takes the bundle's pending probes: starts new ones, forgets reports of probes the Worker has recorded. */
  want(probes: ProbeRequest[]): void {
    const ids = new Set(probes.map((p) => p.id));
    for (const id of this.finished.keys()) if (!ids.has(id)) this.finished.delete(id);
    if (!this.swept) {
      this.swept = true;
      this.track('sweep', this.sweep(ids));
    }
    for (const probe of probes) {
      if (this.running.has(probe.id) || this.finished.has(probe.id)) continue;
      this.track(probe.id, this.run(probe));
    }
  }

  /** Reports of finished probes still in the bundle. */
  reports(): ProbeReport[] {
    return [...this.finished.values()];
  }

  /** Resolves when every probe started so far has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()]);
  }

  private track(id: string, work: Promise<void>): void {
    this.running.set(
      id,
      work
        .catch((error: unknown) => log('warn', 'probe failed', { probe: id, error: (error as Error).message }))
        .finally(() => this.running.delete(id)),
    );
  }

  /** Deletes probe Jobs a previous agent process left behind for probes no longer wanted. */
  private async sweep(wanted: Set<string>): Promise<void> {
    const jobs = await this.options.kube.list(
      'batch/v1',
      'Job',
      this.options.namespace,
      `app.kubernetes.io/component=${PROBE_COMPONENT['app.kubernetes.io/component']}`,
    );
    if (!jobs.ok) return;
    const handles = new Set([...wanted].map(probeHandle));
    for (const job of jobs.value)
      if (!handles.has(job.metadata.labels?.[PROBE_LABEL] ?? ''))
        await this.options.kube.delete({ apiVersion: 'batch/v1', kind: 'Job', namespace: this.options.namespace, name: job.metadata.name });
  }

  private readTemplate(): Promise<AgentPodTemplate | string> {
    this.template ??= (async () => {
      const { podName, namespace, kube } = this.options;
      if (!podName) return 'the agent does not know its pod name (set POD_NAME from the downward API)';
      const pod = await kube.get({ apiVersion: 'v1', kind: 'Pod', namespace, name: podName });
      if (!pod.ok) {
        this.template = undefined;
        return `cannot read the agent's own pod ${namespace}/${podName} (${pod.status}: ${pod.error.message ?? ''}); the agent needs "get pods" in ${namespace}`;
      }
      return templateFromPod(pod.value);
    })();
    return this.template;
  }

  private async nodes(probe: ProbeRequest): Promise<{ names: string[]; missing: string[] }> {
    const listed = await this.options.kube.list('v1', 'Node');
    if (!listed.ok) return { names: probe.nodes ?? [], missing: [] };
    const all = listed.value.map((n) => n.metadata.name).sort();
    if (!probe.nodes) return { names: all, missing: [] };
    const known = new Set(all);
    return { names: probe.nodes.filter((n) => known.has(n)), missing: probe.nodes.filter((n) => !known.has(n)) };
  }

  private async run(probe: ProbeRequest): Promise<void> {
    const { kube, namespace } = this.options;
    const { names, missing } = await this.nodes(probe);
    const reports = new Map<string, ProbeNodeReport>();
    for (const node of missing)
      reports.set(node, { node, ran: false, message: `node ${node} does not exist in the cluster`, outcomes: [] });
    const template = await this.readTemplate();
    const deadlineMs = this.startBudgetMs + probe.timeoutMs;
    const jobs = new Map<string, string>();
    if (typeof template === 'string') {
      for (const node of names) reports.set(node, { node, ran: false, message: template, outcomes: [] });
    } else {
      for (const [index, node] of names.entries()) {
        const job = probeJob({
          probe,
          node,
          index,
          namespace,
          clusterId: this.options.clusterId,
          template,
          deadlineSeconds: Math.ceil(deadlineMs / 1000),
        });
        const created = await kube.create(job);
        if (created.ok || created.status === 409) jobs.set(node, job.metadata.name);
        else
          reports.set(node, {
            node,
            ran: false,
            message: `the probe Job could not be created (${created.status}): ${created.error.message ?? ''}`,
            outcomes: [],
          });
      }
      await this.collect(probe, jobs, reports, deadlineMs);
      for (const name of jobs.values()) await kube.delete({ apiVersion: 'batch/v1', kind: 'Job', namespace, name });
    }
    const order = probe.nodes ?? names;
    this.finished.set(probe.id, {
      id: probe.id,
      nodes: [...order, ...missing.filter((m) => !order.includes(m))].flatMap((n) => reports.get(n) ?? []),
    });
    log('info', 'probe finished', { probe: probe.id, nodes: reports.size });
    this.options.onDone();
  }

  /** Polls the probe's pods (one list per poll) until every node's pod terminated or the deadline passed. */
  private async collect(
    probe: ProbeRequest,
    jobs: Map<string, string>,
    reports: Map<string, ProbeNodeReport>,
    deadlineMs: number,
  ): Promise<void> {
    const started = Date.now();
    const byJob = new Map([...jobs].map(([node, job]) => [job, node]));
    let last = new Map<string, PodLike>();
    for (;;) {
      const pods = await this.options.kube.list('v1', 'Pod', this.options.namespace, `${PROBE_LABEL}=${probeHandle(probe.id)}`);
      if (pods.ok) {
        last = new Map();
        for (const pod of pods.value as (KObject & PodLike)[]) {
          const node = byJob.get(pod.metadata.labels?.['job-name'] ?? '') ?? pod.spec?.nodeName;
          if (!node || reports.has(node)) continue;
          last.set(node, pod);
          const read = readTerminated(pod, probe.targets.length);
          if (read.done) reports.set(node, { node, ...read.report });
        }
      }
      if ([...jobs.keys()].every((n) => reports.has(n))) return;
      if (Date.now() - started > deadlineMs) break;
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
    for (const node of jobs.keys())
      if (!reports.has(node)) reports.set(node, { node, ran: false, message: whyNotRun(last.get(node), node), outcomes: [] });
  }
}
