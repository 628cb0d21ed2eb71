import { Document, type Node } from 'yaml';
import type { KubeconfigWarp } from '../../src/shared/api';
import type { Deps } from '../deps';
import { loadCluster } from './clusters';
import { warpAccessOf } from './warp-access';

/**
 * A kubeconfig for the API server over WARP with the cluster CA and a user without credentials: edgeplane never holds
 * cluster credentials, so the user's own go into the empty `user` (the comments say how).
 */
export function warpKubeconfigYaml(input: { cluster: string; server: string; caPem: string }): string {
  const name = `${input.cluster}-warp`;
  const doc = new Document({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: input.server, 'certificate-authority-data': base64(input.caPem) } }],
    users: [{ name, user: {} }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
  });
  doc.commentBefore = [
    ` kubeconfig for edgeplane cluster "${input.cluster}" over Cloudflare WARP (${input.server}).`,
    ' The CA is the one the cluster publishes in its kube-root-ca.crt ConfigMap; an API server certificate carries the',
    ' ClusterIP of the "kubernetes" Service as a SAN, so the address verifies without a TLS name override.',
  ].join('\n');
  const user = doc.getIn(['users', 0], true) as Node | undefined;
  if (user)
    user.commentBefore = [
      ' No credentials: edgeplane holds none. Put your own in "user", e.g.',
      `   kubectl --kubeconfig <this file> config set-credentials ${name} --token=<a ServiceAccount or OIDC token>`,
      `   kubectl --kubeconfig <this file> config set-credentials ${name} --client-certificate=<crt> --client-key=<key> --embed-certs`,
      ' or an exec plugin (users[].user.exec) for a token from your identity provider.',
    ].join('\n');
  return doc.toString({ lineWidth: 0 });
}

/** PEM text is ASCII, so btoa over it is the base64 of its bytes. */
const base64 = (text: string): string => btoa(text);

/** GET /v1/clusters/:id/kubeconfig-warp: the WARP path check and, once the CA is known, the kubeconfig. */
export async function kubeconfigWarp(deps: Deps, id: string, profile: string): Promise<KubeconfigWarp> {
  const row = await loadCluster(deps, id);
  const access = (await warpAccessOf(deps, [row], profile)).get(id);
  if (!access) throw new Error(`no WARP check for cluster "${id}"`);
  return {
    cluster: id,
    ...access,
    kubeconfig: row.clusterCa === null ? null : warpKubeconfigYaml({ cluster: id, server: access.server, caPem: row.clusterCa }),
  };
}
