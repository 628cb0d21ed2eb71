import type { Cluster, PrivateNetwork, Route, Tunnel } from '../api';
import type { DesiredWorkload } from './workload-objects';
import type { InfraInstance } from '../kube/infra';

/** Everything the compiler needs about one tunnel: the tunnel, its routes and its private networks. */
export interface DesiredTunnel {
  tunnel: Tunnel;
  routes: Route[];
  privateNetworks: PrivateNetwork[];
  /**
   * The connector token, decrypted by the Worker only while it builds this cluster's bundle. Absent until the
   * Cloudflare sync has created (or adopted) the tunnel; the bundle then references a Secret to be filled.
   */
  connectorToken?: string;
}

/** Everything the compiler needs to build one cluster's bundle. */
export interface DesiredCluster {
  cluster: Cluster;
  /** Tunnels whose connector runs in this cluster, with their routes. */
  tunnels: DesiredTunnel[];
  /** Workloads targeted at this cluster (absent: none). */
  workloads?: DesiredWorkload[];
  /** The backing services its agent last discovered, for workloads' `{"infra": ...}` env (absent: none). */
  infra?: InfraInstance[];
}

/** One ingress rule exactly as cloudflared's remote config takes it. */
export interface IngressRule {
  hostname?: string;
  path?: string;
  service: string;
  originRequest?: Record<string, unknown>;
}

/** The body PUT to /accounts/{a}/cfd_tunnel/{t}/configurations is `{ config: TunnelConfig }`. */
export interface TunnelConfig {
  ingress: IngressRule[];
  originRequest?: Record<string, unknown>;
  'warp-routing'?: { enabled: boolean };
}

/** A Kubernetes object as the compiler emits it (validated against @kubernetes-models in tests). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** A cluster's bundle: the objects in a deterministic order and the content hash of their serialisation. */
export interface ClusterBundle {
  hash: string;
  objects: KubeObject[];
}
