import { createHash } from 'node:crypto';
import type { ProbeRequest } from '../src/shared/api/probe';
import { CLUSTER_LABEL, MANAGED_BY_LABEL } from '../src/shared/kube/labels';
import type { KObject } from './kube';
import { PROBE_SPEC_ENV, TERMINATION_PATH_ENV } from './probe-command';

/** The label every probe Job and its pod carry: the probe's short hash (probe ids are not label-safe). */
export const PROBE_LABEL = 'edgeplane.dev/probe';
/** Component label of probe Jobs, so a restarted agent can find and remove Jobs of probes it no longer runs. */
export const PROBE_COMPONENT = { 'app.kubernetes.io/component': 'egress-probe' } as const;
const TERMINATION_PATH = '/dev/termination-log';

/** What a probe Job takes from the agent's own pod: image, command, the bundle's volumes, security settings. */
export interface AgentPodTemplate {
  image: string;
  imagePullPolicy?: string;
  command?: string[];
  args?: string[];
  volumeMounts: unknown[];
  volumes: unknown[];
  containerSecurityContext?: unknown;
  podSecurityContext?: unknown;
  imagePullSecrets?: unknown;
}

interface PodSpecLike {
  containers?: {
    name?: string;
    image?: string;
    imagePullPolicy?: string;
    command?: string[];
    args?: string[];
    volumeMounts?: { name?: string }[];
    securityContext?: unknown;
  }[];
  volumes?: { name?: string; configMap?: unknown }[];
  securityContext?: unknown;
  imagePullSecrets?: unknown;
}

/**
 * Reads the probe template from the agent's own pod. Only ConfigMap volumes go along (the agent's bundle lives in one):
 * never the bootstrap Secret or a service-account token, so the probe pod holds no credential.
 */
export function templateFromPod(pod: KObject): AgentPodTemplate | string {
  const spec = pod.spec as PodSpecLike | undefined;
  const container = spec?.containers?.find((c) => c.name === 'agent') ?? spec?.containers?.[0];
  if (!container?.image) return `pod ${pod.metadata.name} has no container with an image`;
  const configMaps = new Map((spec?.volumes ?? []).filter((v) => v.name && v.configMap).map((v) => [v.name, v]));
  const mounts = (container.volumeMounts ?? []).filter((m) => configMaps.has(m.name));
  return {
    image: container.image,
    ...(container.imagePullPolicy ? { imagePullPolicy: container.imagePullPolicy } : {}),
    ...(container.command ? { command: container.command } : {}),
    ...(container.args ? { args: container.args } : {}),
    volumeMounts: mounts,
    volumes: mounts.map((m) => configMaps.get(m.name)),
    ...(container.securityContext ? { containerSecurityContext: container.securityContext } : {}),
    ...(spec?.securityContext ? { podSecurityContext: spec.securityContext } : {}),
    ...(spec?.imagePullSecrets ? { imagePullSecrets: spec.imagePullSecrets } : {}),
  };
}

/** A label-safe handle of a probe id. */
export const probeHandle = (id: string): string => createHash('sha256').update(id).digest('hex').slice(0, 12);

/** `edgeplane-probe-<handle>-<n>`: within the 63 characters the Job controller's `job-name` pod label allows. */
export const probeJobName = (id: string, index: number): string => `edgeplane-probe-${probeHandle(id)}-${index}`;

/**
 * The Job that probes from one node: pinned with `nodeName` (no scheduler, so a cordoned or tainted node is probed too),
 * tolerating NoSchedule/NoExecute taints, the agent's image and command plus `probe`, no service-account token, no
 * retries, a deadline, and a TTL so the cluster cleans up even if the agent dies before it deletes the Job.
 */
export function probeJob(input: {
  probe: ProbeRequest;
  node: string;
  index: number;
  namespace: string;
  clusterId: string;
  template: AgentPodTemplate;
  deadlineSeconds: number;
}): KObject {
  const { probe, template } = input;
  const labels = {
    [MANAGED_BY_LABEL]: 'edgeplane',
    ...PROBE_COMPONENT,
    [PROBE_LABEL]: probeHandle(probe.id),
    [CLUSTER_LABEL]: input.clusterId,
  };
  const spec = {
    timeoutMs: probe.timeoutMs,
    targets: probe.targets.map((t) => ({
      host: t.host,
      port: t.port,
      tls: t.tls,
      tlsVerify: t.tlsVerify,
      ...(t.serverName ? { serverName: t.serverName } : {}),
    })),
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: probeJobName(probe.id, input.index),
      namespace: input.namespace,
      labels,
      annotations: { 'edgeplane.dev/probe-id': probe.id, 'edgeplane.dev/node': input.node },
    },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: input.deadlineSeconds,
      ttlSecondsAfterFinished: 600,
      template: {
        metadata: { labels },
        spec: {
          nodeName: input.node,
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          ...(probe.hostNetwork ? { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' } : {}),
          tolerations: [
            { operator: 'Exists', effect: 'NoSchedule' },
            { operator: 'Exists', effect: 'NoExecute' },
          ],
          ...(template.podSecurityContext ? { securityContext: template.podSecurityContext } : {}),
          ...(template.imagePullSecrets ? { imagePullSecrets: template.imagePullSecrets } : {}),
          ...(template.volumes.length ? { volumes: template.volumes } : {}),
          containers: [
            {
              name: 'probe',
              image: template.image,
              imagePullPolicy: template.imagePullPolicy ?? 'IfNotPresent',
              ...(template.command ? { command: template.command } : {}),
              args: [...(template.args ?? []), 'probe'],
              env: [
                { name: PROBE_SPEC_ENV, value: JSON.stringify(spec) },
                { name: TERMINATION_PATH_ENV, value: TERMINATION_PATH },
              ],
              ...(template.volumeMounts.length ? { volumeMounts: template.volumeMounts } : {}),
              ...(template.containerSecurityContext ? { securityContext: template.containerSecurityContext } : {}),
              resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '96Mi' } },
              terminationMessagePath: TERMINATION_PATH,
              terminationMessagePolicy: 'File',
            },
          ],
        },
      },
    },
  };
}
