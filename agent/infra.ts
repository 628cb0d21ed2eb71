import type { InfraInstance } from '../src/shared/kube/infra';
import { INFRA, infraKindOfImage, infraKindOfName, infraKindOfPort, serviceHost, type InfraKind } from '../src/shared/kube/infra';
import { WORKLOAD_LABEL } from '../src/shared/kube/labels';
import type { Kube, KObject } from './kube';
import { log } from './log';

/** Reported instances at most (the schema's bound). */
const MAX_INSTANCES = 1000;
/** Namespaces that hold the cluster's own machinery, never an app's database. */
const SYSTEM_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'edgeplane-system', 'edgeplane-tunnels']);
/** Labels that name what runs (Helm charts and hand-written manifests use one or the other). */
const NAME_LABELS = ['app.kubernetes.io/name', 'app', 'k8s-app', 'app.kubernetes.io/component'];

interface ServiceFacts {
  namespace: string;
  name: string;
  headless: boolean;
  selector: Record<string, string>;
  labels: Record<string, string>;
  ports: { port: number; name?: string }[];
}

interface PodFacts {
  namespace: string;
  labels: Record<string, string>;
  images: string[];
}

const matches = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

function kindByLabels(labels: Record<string, string>): InfraKind | undefined {
  for (const key of NAME_LABELS) {
    const value = labels[key];
    const kind = value ? infraKindOfName(value) : undefined;
    if (kind) return kind;
  }
  return undefined;
}

/**
 * Recognises one Service: by the image of the pods it selects (strongest), by its or its pods' name labels, else by a
 * well-known port name or number. The port is the kind's client port when the Service has it, else its first port.
 */
export function classifyService(service: ServiceFacts, pods: PodFacts[]): InfraInstance | undefined {
  const selected = pods.filter((p) => p.namespace === service.namespace && matches(service.selector, p.labels));
  let kind: InfraKind | undefined;
  let matchedBy: InfraInstance['matchedBy'] = 'image';
  let image: string | undefined;
  for (const pod of selected)
    for (const candidate of pod.images) {
      const k = infraKindOfImage(candidate);
      if (k && !kind) {
        kind = k;
        image = candidate;
      }
    }
  if (!kind) {
    matchedBy = 'label';
    kind = kindByLabels(service.labels) ?? selected.map((p) => kindByLabels(p.labels)).find((k) => k !== undefined);
  }
  if (!kind && selected.every((p) => p.images.length === 0)) {
    // Without pods to look at (none running, or pods not readable) a well-known port is the last hint.
    matchedBy = 'port';
    kind = service.ports.map(infraKindOfPort).find((k) => k !== undefined);
  }
  if (!kind) return undefined;
  const info = INFRA[kind];
  const port =
    service.ports.find((p) => p.name !== undefined && info.portNames.test(p.name)) ??
    service.ports.find((p) => p.port === info.port) ??
    service.ports[0];
  if (!port) return undefined;
  const workload = selected.map((p) => p.labels[WORKLOAD_LABEL]).find((w) => w !== undefined) ?? service.labels[WORKLOAD_LABEL];
  return {
    kind,
    namespace: service.namespace,
    name: service.name,
    host: serviceHost(service.namespace, service.name),
    port: port.port,
    ...(image ? { image } : {}),
    matchedBy,
    ...(workload ? { workload } : {}),
  };
}

/**
 * Scans the cluster for databases, queues and object stores: every Service (list, all namespaces) and the pods they
 * select (list, all namespaces; only labels and images are kept). Headless twins of a Service (StatefulSet charts make
 * both) are left out. A refused pod list degrades to labels and ports; a refused Service list reports nothing
 * (undefined: the Worker keeps what it had).
 */
export async function discoverInfra(kube: Pick<Kube, 'each'>): Promise<InfraInstance[] | undefined> {
  const services: ServiceFacts[] = [];
  const listed = await kube.each('v1', 'Service', undefined, undefined, (item) => {
    const ns = item.metadata.namespace ?? '';
    if (SYSTEM_NAMESPACES.has(ns)) return;
    const spec = (
      item as KObject & { spec?: { clusterIP?: string; selector?: Record<string, string>; ports?: { port?: number; name?: string }[] } }
    ).spec;
    services.push({
      namespace: ns,
      name: item.metadata.name,
      headless: spec?.clusterIP === 'None',
      selector: spec?.selector ?? {},
      labels: item.metadata.labels ?? {},
      ports: (spec?.ports ?? []).flatMap((p) => (p.port ? [{ port: p.port, ...(p.name ? { name: p.name } : {}) }] : [])),
    });
  });
  if (!listed.ok) {
    log('warn', 'infra discovery: Services could not be listed', { status: listed.status, reason: listed.error.message });
    return undefined;
  }
  const pods: PodFacts[] = [];
  const podList = await kube.each('v1', 'Pod', undefined, undefined, (item) => {
    const ns = item.metadata.namespace ?? '';
    if (SYSTEM_NAMESPACES.has(ns)) return;
    const containers = (item as KObject & { spec?: { containers?: { image?: string }[] } }).spec?.containers ?? [];
    pods.push({ namespace: ns, labels: item.metadata.labels ?? {}, images: containers.flatMap((c) => (c.image ? [c.image] : [])) });
  });
  if (!podList.ok)
    log('warn', 'infra discovery: pods could not be listed; recognising by labels and ports only', { status: podList.status });
  const found: InfraInstance[] = [];
  for (const service of services) {
    // A headless Service with the same selector as a normal one is a StatefulSet's governing Service: one instance.
    if (
      service.headless &&
      services.some(
        (s) => !s.headless && s.namespace === service.namespace && JSON.stringify(s.selector) === JSON.stringify(service.selector),
      )
    )
      continue;
    const instance = classifyService(service, pods);
    if (instance) found.push(instance);
  }
  found.sort((a, b) => (`${a.kind}/${a.namespace}/${a.name}` < `${b.kind}/${b.namespace}/${b.name}` ? -1 : 1));
  return found.slice(0, MAX_INSTANCES);
}

/** How often the cluster is scanned for infra (a scan lists every Service and pod): at most once a minute. */
export const INFRA_SCAN_INTERVAL_MS = 60_000;

/** Runs discovery at most every `intervalMs`, answering the last result in between (the report repeats it unchanged). */
export class InfraScanner {
  private last: InfraInstance[] | undefined;
  private at = -Infinity;

  constructor(
    private readonly kube: Pick<Kube, 'each'>,
    private readonly intervalMs = INFRA_SCAN_INTERVAL_MS,
  ) {}

  async scan(now = Date.now()): Promise<InfraInstance[] | undefined> {
    if (now - this.at < this.intervalMs) return this.last;
    const found = await discoverInfra(this.kube);
    if (found) {
      this.last = found;
      this.at = now;
    }
    return this.last;
  }
}
