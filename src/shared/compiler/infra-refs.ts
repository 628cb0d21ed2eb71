import type { InfraRef, PinnedInfraRef, WorkloadSpec } from '../api/workload';
import { INFRA, infraKindOfImage, infraValue, instanceName, serviceHost, type InfraInstance, type InfraKind } from '../kube/infra';

/** A workload as infra resolution sees it. */
export interface InfraWorkload {
  id: string;
  namespace: string;
  spec: Pick<WorkloadSpec, 'image' | 'ports' | 'serviceType'>;
}

/**
 * The instance an edgeplane workload will be once applied, when its image is a known kind and it has a Service: so a
 * compose app and its database can be created in one write, before any agent has seen the database.
 */
export function workloadInstance(w: InfraWorkload): InfraInstance | undefined {
  const kind = infraKindOfImage(w.spec.image);
  if (!kind || w.spec.serviceType === 'None' || w.spec.ports.length === 0) return undefined;
  const ports = w.spec.ports.map((p) => (typeof p === 'number' ? { port: p, name: undefined } : p));
  const info = INFRA[kind];
  const port =
    ports.find((p) => p.port === info.port) ?? ports.find((p) => p.name !== undefined && info.portNames.test(p.name)) ?? ports[0];
  if (!port) return undefined;
  return {
    kind,
    namespace: w.namespace,
    name: w.id,
    host: serviceHost(w.namespace, w.id),
    port: port.port,
    image: w.spec.image,
    matchedBy: 'image',
    workload: w.id,
  };
}

/**
 * Everything a reference may resolve to in one cluster: what its agent discovered, and its workloads that run a known
 * image (a workload's own definition wins over the agent's view of it, which may be older). Sorted, no duplicates.
 */
export function infraCandidates(discovered: readonly InfraInstance[], workloads: readonly InfraWorkload[]): InfraInstance[] {
  const byName = new Map<string, InfraInstance>();
  for (const i of discovered) byName.set(`${i.kind}|${instanceName(i)}`, i);
  for (const w of workloads) {
    const i = workloadInstance(w);
    if (!i) continue;
    // The agent may have seen this workload under another guess (by port); the definition is authoritative.
    for (const key of [...byName.keys()]) if (key.endsWith(`|${instanceName(i)}`)) byName.delete(key);
    byName.set(`${i.kind}|${instanceName(i)}`, i);
  }
  return [...byName.values()].sort((a, b) =>
    `${a.kind}/${instanceName(a)}` < `${b.kind}/${instanceName(b)}`
      ? -1
      : `${a.kind}/${instanceName(a)}` > `${b.kind}/${instanceName(b)}`
        ? 1
        : 0,
  );
}

export type Resolution =
  | { ok: true; instance: InfraInstance }
  | { ok: false; problem: 'none' | 'ambiguous' | 'unknown-instance'; kind: InfraKind; candidates: InfraInstance[] };

/** Resolves a reference: the named instance, else the one instance of its kind; none or several is a problem. */
export function resolveInfraRef(ref: Pick<InfraRef, 'infra' | 'instance'>, candidates: readonly InfraInstance[]): Resolution {
  const ofKind = candidates.filter((c) => c.kind === ref.infra);
  if (ref.instance !== undefined) {
    const found = ofKind.find((c) => instanceName(c) === ref.instance);
    return found ? { ok: true, instance: found } : { ok: false, problem: 'unknown-instance', kind: ref.infra, candidates: ofKind };
  }
  const [only, ...more] = ofKind;
  if (only && more.length === 0) return { ok: true, instance: only };
  return { ok: false, problem: only ? 'ambiguous' : 'none', kind: ref.infra, candidates: ofKind };
}

/** Says what went wrong and what would be right, naming the candidates. */
export function describeResolution(ref: Pick<InfraRef, 'infra' | 'instance'>, r: Extract<Resolution, { ok: false }>): string {
  const list = r.candidates.map((c) => `"${instanceName(c)}" (${c.host}:${c.port})`).join(', ');
  switch (r.problem) {
    case 'ambiguous':
      return `${r.candidates.length} ${r.kind} instances found: ${list}; name one with {"infra": "${r.kind}", "instance": "<namespace>/<service>"}`;
    case 'unknown-instance':
      return `no ${r.kind} instance "${ref.instance ?? ''}" in the cluster; ${list ? `found: ${list}` : `none of kind ${r.kind} was found`}`;
    default:
      return `no ${r.kind} was found in the cluster (neither by its agent's last scan nor among its workloads); deploy one, or use a plain value`;
  }
}

/**
 * The value a pinned reference compiles to. The pinned instance's current port comes from the candidates; an instance
 * gone since it was pinned keeps its address (host from the pin, the kind's usual port), so the bundle stays the same
 * and the pods' health — not a silent re-wiring to another database — shows the broken connection.
 */
export function compileInfraRef(ref: PinnedInfraRef, candidates: readonly InfraInstance[]): string {
  const found = candidates.find((c) => c.kind === ref.infra && instanceName(c) === ref.instance);
  const [namespace = '', name = ''] = ref.instance.split('/');
  return infraValue(ref.infra, found?.host ?? serviceHost(namespace, name), found?.port ?? INFRA[ref.infra].port, ref.value);
}

/** Whether an env value is an infra reference. */
export const isInfraRef = (value: unknown): value is PinnedInfraRef => typeof value === 'object' && value !== null && 'infra' in value;
