import type { ClusterHealth, OriginCheck, OriginCheckTarget } from '../src/shared/api/agent';
import { refKey, refOf, type Kube, type KObject, type KubeResult, type ObjectRef } from './kube';

type Status = 'Current' | 'InProgress' | 'Failed' | 'NotFound';

interface DeploymentShape {
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
  };
}

/** kstatus rules for one live object: a Deployment is Current only when its rollout is observed and complete. */
export function objectStatus(live: KObject): { status: Status; message: string } {
  if (live.kind !== 'Deployment') return { status: 'Current', message: 'exists' };
  const d = live as KObject & DeploymentShape;
  const s = d.status ?? {};
  const want = d.spec?.replicas ?? 1;
  const progressing = (s.conditions ?? []).find((c) => c.type === 'Progressing');
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    return { status: 'Failed', message: `rollout failed: ProgressDeadlineExceeded (${s.readyReplicas ?? 0}/${want} ready)` };
  }
  if ((s.observedGeneration ?? 0) < (live.metadata.generation ?? 1))
    return { status: 'InProgress', message: 'the controller has not observed the latest generation yet' };
  const ready = s.readyReplicas ?? 0;
  if ((s.updatedReplicas ?? 0) === want && ready === want && (s.availableReplicas ?? 0) === want && (s.replicas ?? 0) === want) {
    return { status: 'Current', message: `${ready}/${want} replicas ready` };
  }
  return {
    status: 'InProgress',
    message: `${ready}/${want} ready, ${s.updatedReplicas ?? 0} updated, ${s.availableReplicas ?? 0} available`,
  };
}

/** Levenshtein distance (for "did you mean" on a missing Service). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

interface ServiceShape {
  spec?: { ports?: { port?: number; name?: string; targetPort?: number | string }[] };
}

/** Checks one route origin against the live Services; a miss names the nearest existing Service or the real ports. */
export async function checkOrigin(
  kube: Pick<Kube, 'get'>,
  target: OriginCheckTarget,
  services: () => Promise<KObject[]>,
): Promise<OriginCheck> {
  const service = `${target.namespace}/${target.name}:${target.port}`;
  const base = { route: target.route, hostname: target.hostname, service };
  const found = await kube.get({ apiVersion: 'v1', kind: 'Service', namespace: target.namespace, name: target.name });
  if (found.ok) {
    const ports = (found.value as KObject & ServiceShape).spec?.ports ?? [];
    if (ports.some((p) => p.port === target.port)) return { ...base, ok: true, message: 'Service and port exist' };
    const list = ports
      .map((p) => `${p.port ?? '?'}${p.name ? ` (${p.name})` : ''}${p.targetPort !== undefined ? ` → ${p.targetPort}` : ''}`)
      .join(', ');
    return {
      ...base,
      ok: false,
      message: `Service ${target.namespace}/${target.name} has no port ${target.port}; it has ${list || 'no ports'}`,
    };
  }
  if (found.status !== 404)
    return {
      ...base,
      ok: false,
      message: `could not read Service ${target.namespace}/${target.name} (${found.status}): ${found.error.message ?? ''}`,
    };
  const all = await services();
  let best: { name: string; namespace: string; score: number } | undefined;
  for (const s of all) {
    const name = s.metadata.name;
    const distance = editDistance(target.name, name);
    // A name that contains the wanted one (label-studio → label-studio-ls-app) is the likeliest rename.
    const score =
      (name.includes(target.name) || target.name.includes(name) ? distance / 4 : distance) +
      (s.metadata.namespace === target.namespace ? 0 : 0.5);
    if (!best || score < best.score) best = { name, namespace: s.metadata.namespace ?? '', score };
  }
  const hint = best && best.score <= Math.max(3, target.name.length / 2) ? ` — \`${best.name}\` exists in \`${best.namespace}\`` : '';
  return { ...base, ok: false, message: `Service \`${target.name}\` not found in \`${target.namespace}\`${hint}` };
}

/** Health of what was applied (from the live objects this pass read, by name otherwise): kstatus per object, cloudflared connectors ready, and every route origin checked. */
export async function assessHealth(
  kube: Kube,
  applied: KObject[],
  origins: OriginCheckTarget[],
  known: Map<string, KObject> = new Map(),
): Promise<ClusterHealth> {
  const objects: ClusterHealth['objects'] = [];
  let desiredConnectors = 0;
  let readyConnectors = 0;
  for (const object of applied) {
    const ref = refOf(object);
    // The pass already read most objects (list or apply response); only the rest are read by name.
    const seen = known.get(refKey(ref));
    const live: KubeResult<KObject> = seen ? { ok: true, status: 200, value: seen } : await kube.get(ref);
    if (!live.ok) {
      objects.push({
        object: refKey(ref),
        status: 'NotFound',
        message: live.status === 404 ? 'not found in the cluster' : `read failed (${live.status})`,
      });
      continue;
    }
    const status = objectStatus(live.value);
    objects.push({ object: refKey(ref), ...status });
    if (object.kind === 'Deployment' && object.metadata.labels?.['app.kubernetes.io/name'] === 'cloudflared') {
      const d = live.value as KObject & DeploymentShape;
      desiredConnectors += d.spec?.replicas ?? 1;
      readyConnectors += d.status?.readyReplicas ?? 0;
    }
  }
  // Many routes share one origin Service (every route of a tunnel in ingress mode checks the controller's): each Service
  // is read once per pass, and the full list only if some origin is missing.
  const reads = new Map<string, Promise<KubeResult<KObject>>>();
  const readOnce = {
    get: (ref: ObjectRef) => {
      const key = refKey(ref);
      let read = reads.get(key);
      if (!read) reads.set(key, (read = kube.get(ref)));
      return read;
    },
  };
  let cached: Promise<KObject[]> | undefined;
  const services = () => {
    cached ??= kube.list('v1', 'Service').then((r) => (r.ok ? r.value : []));
    return cached;
  };
  const checks: OriginCheck[] = [];
  for (const target of origins) checks.push(await checkOrigin(readOnce, target, services));
  const failed = objects.some((o) => o.status === 'Failed' || o.status === 'NotFound') || checks.some((c) => !c.ok);
  const progressing = objects.some((o) => o.status === 'InProgress');
  return {
    status: failed ? 'Failed' : progressing ? 'InProgress' : 'Current',
    objects,
    connectors: { desired: desiredConnectors, ready: readyConnectors },
    origins: checks,
  };
}
