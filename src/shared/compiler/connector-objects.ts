import { CLUSTER_LABEL, MANAGED_BY, TUNNEL_LABEL } from '../kube/labels';
import { base64Utf8 } from './names';
import type { DesiredTunnel, KubeObject } from './types';

/** The namespace every tunnel connector of a cluster runs in. */
export const CONNECTOR_NAMESPACE = 'edgeplane-tunnels';

/** The cloudflared image, pinned so a bundle only changes when edgeplane changes it. */
export const CLOUDFLARED_IMAGE = 'cloudflare/cloudflared:2025.11.1';

/** cloudflared's metrics server port; it also serves `/ready` (200 once the connector holds a tunnel connection). */
export const METRICS_PORT = 2000;

/** The annotation on a connector Secret whose token the Cloudflare sync has not delivered yet. */
export const TOKEN_PENDING_ANNOTATION = 'edgeplane.dev/token';

/** The Secret key holding the connector token. */
export const TOKEN_KEY = 'token';

/** Names of one tunnel's connector objects. */
export const connectorNames = (tunnelId: string) => ({ deployment: `cloudflared-${tunnelId}`, secret: `cloudflared-${tunnelId}-token` });

const baseLabels = (clusterId: string, tunnelId?: string): Record<string, string> => ({
  ...MANAGED_BY,
  [CLUSTER_LABEL]: clusterId,
  ...(tunnelId ? { [TUNNEL_LABEL]: tunnelId } : {}),
});

/** The connector namespace of a cluster. */
export function connectorNamespace(clusterId: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: CONNECTOR_NAMESPACE, labels: baseLabels(clusterId) } };
}

/**
 * The Secret holding a tunnel's connector token (`data.token`, base64). Until the Cloudflare sync has created or adopted
 * the tunnel there is no token: the Secret is then emitted without data and annotated `edgeplane.dev/token: pending`,
 * so the Deployment's pods wait (CreateContainerConfigError naming the missing key) instead of running with a bad
 * token; the next revision fills it in.
 */
export function connectorSecret(clusterId: string, desired: DesiredTunnel): KubeObject {
  const id = desired.tunnel.id;
  const metadata = { name: connectorNames(id).secret, namespace: CONNECTOR_NAMESPACE, labels: baseLabels(clusterId, id) };
  if (desired.connectorToken === undefined || desired.connectorToken === '') {
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { ...metadata, annotations: { [TOKEN_PENDING_ANNOTATION]: 'pending' } },
      type: 'Opaque',
    };
  }
  return { apiVersion: 'v1', kind: 'Secret', metadata, type: 'Opaque', data: { [TOKEN_KEY]: base64Utf8(desired.connectorToken) } };
}

/** The cloudflared container: `tunnel run` with the token from the Secret, metrics and readiness on port 2000. */
function container(tunnelId: string) {
  return {
    name: 'cloudflared',
    image: CLOUDFLARED_IMAGE,
    imagePullPolicy: 'IfNotPresent',
    command: ['cloudflared', 'tunnel', '--no-autoupdate', '--metrics', `0.0.0.0:${METRICS_PORT}`, 'run'],
    env: [{ name: 'TUNNEL_TOKEN', valueFrom: { secretKeyRef: { name: connectorNames(tunnelId).secret, key: TOKEN_KEY } } }],
    ports: [{ name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' }],
    readinessProbe: { httpGet: { path: '/ready', port: 'metrics' }, initialDelaySeconds: 5, periodSeconds: 10, failureThreshold: 3 },
    resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '256Mi' } },
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: 65532,
      capabilities: { drop: ['ALL'] },
    },
  };
}

/**
 * The connector Deployment. `cluster` placement: the configured replicas (2 by default) spread across nodes by a
 * preferred pod anti-affinity (preferred, so a one-node cluster still runs them all), rolling with no unavailability.
 * `node` placement (e.g. a GPU box serving Triton on localhost:8000): one replica pinned by `kubernetes.io/hostname`
 * with host networking, so `localhost` origins mean the node; it tolerates NoSchedule taints (GPU nodes usually carry
 * one) and is recreated rather than rolled, since two pods on one node would both bind the metrics port.
 */
export function connectorDeployment(clusterId: string, desired: DesiredTunnel): KubeObject {
  const id = desired.tunnel.id;
  const selector = { 'app.kubernetes.io/name': 'cloudflared', 'app.kubernetes.io/instance': id };
  const labels = { ...baseLabels(clusterId, id), ...selector };
  const placement = desired.tunnel.placement;
  const podSpec =
    placement.type === 'node'
      ? {
          nodeSelector: { 'kubernetes.io/hostname': placement.node },
          hostNetwork: true,
          dnsPolicy: 'ClusterFirstWithHostNet',
          tolerations: [{ operator: 'Exists', effect: 'NoSchedule' }],
          containers: [container(id)],
          securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
          terminationGracePeriodSeconds: 30,
        }
      : {
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: selector }, topologyKey: 'kubernetes.io/hostname' } },
              ],
            },
          },
          containers: [container(id)],
          securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
          terminationGracePeriodSeconds: 30,
        };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: connectorNames(id).deployment, namespace: CONNECTOR_NAMESPACE, labels },
    spec: {
      replicas: placement.type === 'node' ? 1 : placement.replicas,
      revisionHistoryLimit: 3,
      selector: { matchLabels: selector },
      strategy:
        placement.type === 'node' ? { type: 'Recreate' } : { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: { metadata: { labels }, spec: podSpec },
    },
  };
}

/** The PodDisruptionBudget of a replicated connector: a drain takes at most one replica at a time (a single replica may still move). */
export function connectorDisruptionBudget(clusterId: string, desired: DesiredTunnel): KubeObject {
  const id = desired.tunnel.id;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: connectorNames(id).deployment, namespace: CONNECTOR_NAMESPACE, labels: baseLabels(clusterId, id) },
    spec: { maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': 'cloudflared', 'app.kubernetes.io/instance': id } } },
  };
}

/** All connector objects of one tunnel (the namespace is shared and added once per cluster). */
export function connectorObjects(clusterId: string, desired: DesiredTunnel): KubeObject[] {
  const objects = [connectorSecret(clusterId, desired), connectorDeployment(clusterId, desired)];
  if (desired.tunnel.placement.type === 'cluster') objects.push(connectorDisruptionBudget(clusterId, desired));
  return objects;
}
