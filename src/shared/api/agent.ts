import { z } from 'zod';
import { probeReport, probeRequest } from './probe';
import { INFRA_KINDS } from '../kube/infra';
import { MAX_CLUSTER_CA_LENGTH, PEM_CERTIFICATES } from '../kube/pem';

// The agent protocol (/agent/v1): one definition for the Worker, the agent and the tests.

/**
 * An agent credential, `epa.<cluster>.<secret>`: the secret is 32 random bytes, base64url. The agent makes it and keeps
 * it in its Secret before registering, so a registration cut off before its answer can be completed on restart.
 */
export const AGENT_CREDENTIAL = /^epa\.[a-z0-9-]{1,63}\.[A-Za-z0-9_-]{43}$/;

/** Body of POST /agent/v1/register (the bootstrap token travels in `Authorization: Bearer`). */
export const agentRegister = z.strictObject({
  clusterId: z.string().min(1).max(63),
  credential: z
    .string()
    .regex(AGENT_CREDENTIAL, 'must be "epa.<cluster id>.<43 base64url characters: 32 random bytes>"')
    .describe('the credential the agent will use, made by the agent and stored in its Secret before this call; only its hash is kept'),
  identity: z.string().min(1).max(100).describe("the kube-system namespace UID: the cluster's identity"),
  kubernetesVersion: z.string().min(1).max(100),
  nodeCount: z.number().int().min(0).max(100_000),
  agentVersion: z.string().min(1).max(100),
});
export type AgentRegister = z.infer<typeof agentRegister>;

/**
 * Answer of POST /agent/v1/register: 201 for a new registration, 200 when the same registration (token, credential
 * and identity) is sent again after an answer that never arrived. It carries no poll interval: how often the agent
 * polls and resyncs is the agent's own configuration (EDGEPLANE_POLL_INTERVAL_SECONDS and
 * EDGEPLANE_RESYNC_INTERVAL_SECONDS on its Deployment, docs/agent.md), where an operator sets and reads it; an
 * answer received once, at the first registration, could neither be changed later nor seen with kubectl.
 */
export const agentRegistered = z.object({
  clusterId: z.string(),
});
export type AgentRegistered = z.infer<typeof agentRegistered>;

/** A Kubernetes object of a bundle (validated against the Kubernetes schemas by the compiler's tests). */
export const bundleObject = z
  .object({
    apiVersion: z.string().min(1),
    kind: z.string().min(1),
    metadata: z
      .object({
        name: z.string().min(1),
        namespace: z.string().optional(),
        labels: z.record(z.string(), z.string()).optional(),
        annotations: z.record(z.string(), z.string()).optional(),
      })
      .loose(),
  })
  .loose();

/** A route origin the agent checks against the live cluster: a Service and port. */
export const originCheckTarget = z.object({
  route: z.string().describe('route id, or "<tunnel>:controller" for an ingress/gateway Service'),
  hostname: z.string(),
  namespace: z.string(),
  name: z.string(),
  port: z.number().int(),
});
export type OriginCheckTarget = z.infer<typeof originCheckTarget>;

/** Answer of GET /agent/v1/desired (200). */
export const desiredBundle = z.object({
  clusterId: z.string(),
  revision: z.number().int(),
  hash: z.string(),
  objects: z.array(bundleObject),
  origins: z.array(originCheckTarget),
  prune: z.object({
    maxDeletes: z.number().int().min(0).describe('most deletions per window without an approval'),
    windowSeconds: z.number().int().min(1).describe('the window the deletions are counted over'),
    allowEmpty: z.boolean().describe('true only when the cluster was deliberately emptied (it has no tunnels)'),
    approval: z
      .object({
        revision: z.number().int().describe('the revision whose refused prune was approved'),
        objects: z.array(z.string()).describe('identity keys (group/kind/namespace/name) the agent may delete, once'),
      })
      .nullable()
      .describe('an unused operator approval (POST /v1/clusters/{id}/prune-approvals)'),
  }),
  probes: z.array(probeRequest).describe('egress probes the agent should run (pending ones; docs/diagnostics.md)'),
});
export type DesiredBundle = z.infer<typeof desiredBundle>;

/** What the agent did with one object. */
export const objectResult = z.object({
  apiVersion: z.string().max(253),
  kind: z.string().max(63),
  namespace: z.string().max(63).optional(),
  name: z.string().max(253),
  action: z.enum(['created', 'configured', 'unchanged', 'recreated', 'conflict', 'invalid', 'error', 'pruned', 'prune_refused']),
  message: z.string().max(2000).optional(),
});
export type ObjectResult = z.infer<typeof objectResult>;

/** A field another manager owns, found by server-side apply. */
export const fieldConflict = z.object({
  object: z.string().max(700).describe('apiVersion/kind/namespace/name'),
  field: z.string().max(1000),
  manager: z.string().max(128),
});
export type FieldConflict = z.infer<typeof fieldConflict>;

/** kstatus-style readiness of one applied object. */
export const objectHealth = z.object({
  object: z.string().max(700),
  status: z.enum(['Current', 'InProgress', 'Failed', 'NotFound']),
  message: z.string().max(1000),
});

/** One route origin checked against the live cluster. */
export const originCheck = z.object({
  route: z.string().max(200),
  hostname: z.string().max(253),
  service: z.string().max(200).describe('namespace/name:port'),
  ok: z.boolean(),
  message: z.string().max(1000),
});
export type OriginCheck = z.infer<typeof originCheck>;

/** Why one pod of a workload is not running as it should: what `kubectl describe pod` would have shown. */
export const podProblem = z.object({
  pod: z.string(),
  container: z.string().optional(),
  reason: z
    .string()
    .max(100)
    .describe('ErrImagePull, ImagePullBackOff, CrashLoopBackOff, OOMKilled, Unschedulable, NotReady, CreateContainerConfigError, ...'),
  message: z.string().max(1000),
  restarts: z.number().int().min(0).optional(),
  /** The last termination of the container (CrashLoopBackOff, OOMKilled). */
  lastTermination: z.object({ reason: z.string().max(100), exitCode: z.number().int() }).optional(),
});
export type PodProblem = z.infer<typeof podProblem>;

/** Pod-level health of one workload (edgeplane.dev/workload label). */
export const workloadHealth = z.object({
  workload: z.string(),
  namespace: z.string(),
  status: z.enum(['Current', 'InProgress', 'Failed']),
  pods: z.number().int().min(0),
  ready: z.number().int().min(0),
  problems: z.array(podProblem).max(50),
  /** Set when the pods could not be read (e.g. 403: the agent's role has no `list` on pods there). */
  error: z.string().max(1000).optional(),
});
export type WorkloadHealth = z.infer<typeof workloadHealth>;

/** Health summary the agent reports and the Worker stores on the cluster. */
export const clusterHealth = z.object({
  status: z.enum(['Current', 'InProgress', 'Failed']),
  objects: z.array(objectHealth).max(5000),
  connectors: z.object({ desired: z.number().int(), ready: z.number().int() }),
  origins: z.array(originCheck).max(5000),
  /** Per workload of the bundle (absent from agents older than pod-level health). */
  workloads: z.array(workloadHealth).max(1000).optional(),
});
export type ClusterHealth = z.infer<typeof clusterHealth>;

/** A backing service the agent found in the cluster (src/shared/kube/infra.ts). */
export const infraInstance = z.object({
  kind: z.enum(INFRA_KINDS),
  namespace: z.string().max(63),
  name: z.string().max(63),
  host: z.string().max(200),
  port: z.number().int().min(1).max(65535),
  image: z.string().max(512).optional(),
  matchedBy: z.enum(['image', 'label', 'port']),
  workload: z.string().max(63).optional(),
});

/** Body of POST /agent/v1/status. */
export const agentStatus = z.strictObject({
  revision: z.number().int(),
  hash: z.string().max(200),
  /** True when every object was applied (no conflict, no invalid object, no error). */
  applied: z.boolean(),
  durationMs: z.number().min(0),
  results: z.array(objectResult).max(5000),
  conflicts: z.array(fieldConflict).max(5000),
  pruned: z.array(z.string().max(700)).max(5000),
  pruneRefused: z.string().max(1000).optional(),
  /** The identity keys of a refused prune (group/kind/namespace/name): what an approval of this revision would cover. */
  pruneRefusedObjects: z.array(z.string().max(600)).max(5000).optional(),
  /** The revision of the approval this pass pruned under. */
  pruneApproved: z.number().int().optional(),
  health: clusterHealth,
  agentVersion: z.string().max(100),
  probes: z.array(probeReport).max(20).optional().describe('finished egress probes of the bundle, until the bundle drops them'),
  /** The backing services the agent found (absent: not scanned this time; the Worker keeps what it had). */
  infra: z.array(infraInstance).max(1000).optional(),
  /** The cluster CA (PEM) from the `kube-root-ca.crt` ConfigMap of the agent's namespace (absent: not read; the Worker keeps what it had). */
  clusterCa: z
    .string()
    .max(MAX_CLUSTER_CA_LENGTH)
    .regex(PEM_CERTIFICATES, 'one or more PEM certificates ("-----BEGIN CERTIFICATE-----" … "-----END CERTIFICATE-----")')
    .optional(),
});
export type AgentStatus = z.infer<typeof agentStatus>;

/** A message on the notify WebSocket. */
export const notifyMessage = z.object({ revision: z.number().int() });

/** One stored apply report as `GET /v1/clusters/{id}/reports` returns it. */
export const applyReport = z.object({
  revision: z.number().int(),
  hash: z.string(),
  applied: z.boolean(),
  durationMs: z.number().int(),
  results: z.array(z.record(z.string(), z.unknown())),
  conflicts: z.array(z.record(z.string(), z.unknown())),
  pruned: z.array(z.string()),
  pruneRefused: z.string().nullable(),
  pruneRefusedObjects: z.array(z.string()).nullable(),
  pruneApproval: z
    .object({ revision: z.number().int(), approvedBy: z.string(), approvedAt: z.string() })
    .nullable()
    .describe('the approval this pass pruned under: who approved which revision, when'),
  health: z.unknown(),
  agentVersion: z.string(),
  receivedAt: z.string(),
});
export type ApplyReport = z.infer<typeof applyReport>;
