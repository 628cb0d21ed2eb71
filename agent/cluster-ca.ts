import { MAX_CLUSTER_CA_LENGTH, PEM_CERTIFICATES } from '../src/shared/kube/pem';
import type { Kube } from './kube';
import { log } from './log';

/** The ConfigMap Kubernetes publishes in every namespace with the cluster CA (kube-controller-manager's root-ca publisher). */
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
/** How often the CA is read again (it changes only on a CA rotation). */
export const CLUSTER_CA_INTERVAL_MS = 300_000;

/**
 * Reads the cluster CA for the WARP kubeconfig (docs/diagnostics.md) from `kube-root-ca.crt` in the agent's own
 * namespace: the Role grants `get` on that one ConfigMap, and the CA is public, so nothing secret is read. Throttled; a
 * failed read keeps the last value (absent from the report until the first success) and is logged once per kind.
 */
export class ClusterCaReader {
  private last: string | undefined;
  private at = -Infinity;
  private lastProblem = '';

  constructor(
    private readonly kube: Pick<Kube, 'get'>,
    private readonly namespace: string,
    private readonly intervalMs = CLUSTER_CA_INTERVAL_MS,
  ) {}

  async read(now = Date.now()): Promise<string | undefined> {
    if (now - this.at < this.intervalMs) return this.last;
    const found = await this.kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: this.namespace, name: ROOT_CA_CONFIGMAP });
    let problem = '';
    if (!found.ok) problem = `cannot read ${this.namespace}/${ROOT_CA_CONFIGMAP} (${found.status}): ${found.error.message ?? ''}`;
    else {
      const data = (found.value as { data?: Record<string, unknown> }).data;
      const ca = data?.['ca.crt'];
      if (typeof ca === 'string' && PEM_CERTIFICATES.test(ca) && ca.length <= MAX_CLUSTER_CA_LENGTH) {
        this.last = ca;
        this.at = now;
      } else problem = `${this.namespace}/${ROOT_CA_CONFIGMAP} has no PEM certificate under "ca.crt"`;
    }
    if (problem && problem !== this.lastProblem) log('warn', 'cluster CA not read; the WARP kubeconfig waits for it', { reason: problem });
    this.lastProblem = problem;
    return this.last;
  }
}
