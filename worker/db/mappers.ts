import type {
  AuditEntry,
  BootstrapToken,
  InferenceBackend,
  MlBackend,
  Cluster,
  Origin,
  Placement,
  PrivateNetwork,
  PruneApproval,
  Route,
  RoutingMode,
  SplitTunnelEntry,
  SplitTunnelProfile,
  Token,
  Workload,
  WorkloadSpec,
  Tunnel,
} from '../../src/shared/api';
import type { ApplyReport, WorkloadHealth } from '../../src/shared/api/agent';
import type { Probe, ProbeChange, ProbeCreate, ProbeSchedule } from '../../src/shared/api/probe';
import { isStateful, originKindOf } from '../../src/shared/compiler';
import { etagOf } from './etag';
import { redactSecrets } from './redact';
import type {
  apiTokens,
  applyReports,
  bootstrapTokens,
  inferenceBackends,
  mlBackends,
  audit,
  clusters,
  privateNetworks,
  pruneApprovals,
  routes,
  splitTunnelEntries,
  splitTunnelProfiles,
  tunnels,
  workloads,
  probes,
  probeSchedules,
} from './schema';

// Every API object is built here from its row, field by field, so a column (a ciphertext, a hash, an identity) can
// only reach a response by being named below. One module, so services never import each other for a mapper.

type ClusterRow = typeof clusters.$inferSelect;

/**
 * An agent with its notify socket up fetches at least every 120 s (every 30 s while polling): three missed resyncs
 * mean it is unreachable.
 */
export const UNREACHABLE_AFTER_MS = 3 * 120_000;

/** The connection status shown in the API: `connected` turns `unreachable` once the agent has been silent too long. */
export const connectionOf = (row: Pick<ClusterRow, 'connection' | 'lastSeenAt'>, now: number): ClusterRow['connection'] =>
  row.connection === 'connected' && row.lastSeenAt && now - Date.parse(row.lastSeenAt) > UNREACHABLE_AFTER_MS
    ? 'unreachable'
    : row.connection;

/** Maps a stored cluster to the API shape (the credential hash and identity stay inside); `now` decides unreachable. */
/** The fingerprint of a credential or bootstrap token by its stored SHA-256: names it without revealing it. */
export const fingerprintOf = (hash: string): string => hash.slice(0, 16);

/** Maps a stored bootstrap token to the API shape (its hash shows only as its fingerprint id). */
export const toApiBootstrapToken = (row: typeof bootstrapTokens.$inferSelect, now: number): BootstrapToken => ({
  id: fingerprintOf(row.hash),
  cluster: row.clusterId,
  createdBy: row.createdBy,
  createdAt: row.createdAt,
  expiresAt: row.expiresAt,
  usedAt: row.usedAt,
  state: row.usedAt ? 'used' : Date.parse(row.expiresAt) <= now ? 'expired' : 'unused',
});

export const toApiCluster = (row: ClusterRow, now: number): Cluster => ({
  id: row.id,
  name: row.name,
  labels: row.labels,
  nodes: row.nodes.map((n) => ({
    name: n.name,
    role: n.role as 'control-plane' | 'worker' | 'gpu',
    ...(n.address ? { address: n.address } : {}),
  })),
  desiredRevision: row.desiredRevision,
  appliedRevision: row.appliedRevision,
  connection: connectionOf(row, now),
  lastSeenAt: row.lastSeenAt,
  agentVersion: row.agentVersion,
  kubernetesVersion: row.kubernetesVersion,
  nodeCount: row.nodeCount,
  apiServerAddress: row.apiServerAddress,
  prune: { maxDeletes: row.pruneMaxDeletes, windowMinutes: Math.round(row.pruneWindowSeconds / 60) },
  agentCredential: row.agentCredentialHash ? fingerprintOf(row.agentCredentialHash) : null,
  reregistrationRequestedAt: row.reregistrationRequestedAt,
  etag: etagOf(row),
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

/** Maps a stored tunnel to the API shape; the token ciphertext only shows up as `hasToken`. */
export const toApiTunnel = (row: typeof tunnels.$inferSelect, warpRouting: boolean): Tunnel => ({
  id: row.id,
  cluster: row.clusterId,
  account: row.account,
  name: row.name,
  cloudflareTunnelId: row.cloudflareTunnelId,
  placement: row.placement as Placement,
  mode: row.mode as RoutingMode,
  originRequest: row.originRequest,
  catchAll: row.catchAll,
  driftPolicy: row.driftPolicy,
  warpRouting,
  hasToken: row.tokenCiphertext !== null,
  etag: etagOf(row),
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

/** Maps a stored route to the API shape (an empty stored path is "no path"). */
export const toApiRoute = (row: typeof routes.$inferSelect): Route => ({
  id: row.id,
  tunnel: row.tunnelId,
  hostname: row.hostname,
  path: row.path === '' ? null : row.path,
  pathRegex: row.pathRegex === '' ? null : row.pathRegex,
  origin: row.origin as Origin,
  originKind: originKindOf(row.origin as Origin, row.originRequest),
  originRequest: row.originRequest,
  dns: row.dns,
  access: (row.access ?? null) as Route['access'],
  etag: etagOf(row),
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

/** Maps a stored private network to the API shape. */
export const toApiPrivateNetwork = (row: typeof privateNetworks.$inferSelect): PrivateNetwork => ({
  id: row.id,
  tunnel: row.tunnelId,
  cidr: row.cidr,
  virtualNetworkId: row.virtualNetworkId,
  comment: row.comment,
  etag: etagOf(row),
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

/** Maps a stored split-tunnel entry to the API shape. */
export const toApiSplitTunnelEntry = (row: typeof splitTunnelEntries.$inferSelect): SplitTunnelEntry => ({
  id: row.id,
  profile: row.profile,
  mode: row.mode,
  address: row.address,
  host: row.host,
  description: row.description,
  owner: row.owner,
  etag: etagOf(row),
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

/** Maps a token row to the API shape; the hash never leaves. */
export const toApiToken = (row: typeof apiTokens.$inferSelect): Token => ({
  id: row.id,
  name: row.name,
  role: row.role,
  scopes: row.scopes,
  expiresAt: row.expiresAt,
  lastUsedAt: row.lastUsedAt,
  createdAt: row.createdAt,
});

/** Maps an audit row to the API shape (before/after were redacted when written, and are again on read). */
export const toApiAudit = (row: typeof audit.$inferSelect): AuditEntry => ({
  id: row.id,
  at: row.at,
  actor: row.actor,
  action: row.action,
  entityType: row.entityType,
  entityId: row.entityId,
  // Redacted again on read: entries written before a key joined the redaction list (an agent's identity) stay hidden.
  before: redactSecrets(row.before),
  after: redactSecrets(row.after),
  requestId: row.requestId,
});

/** Maps a stored apply report to the API shape. */
export const toApiApplyReport = (row: typeof applyReports.$inferSelect): ApplyReport => ({
  revision: row.revision,
  hash: row.hash,
  applied: row.applied,
  durationMs: row.durationMs,
  results: row.results as Record<string, unknown>[],
  conflicts: row.conflicts as Record<string, unknown>[],
  pruned: row.pruned,
  pruneRefused: row.pruneRefused,
  pruneRefusedObjects: row.pruneRefusedObjects,
  pruneApproval: row.pruneApproval
    ? { revision: row.pruneApproval.revision, approvedBy: row.pruneApproval.approvedBy, approvedAt: row.pruneApproval.approvedAt }
    : null,
  health: row.health,
  agentVersion: row.agentVersion,
  receivedAt: row.receivedAt,
});

/** Maps a stored backend to the API shape; credentials show only as their kind. */
export const toApiInferenceBackend = (row: typeof inferenceBackends.$inferSelect): InferenceBackend => ({
  id: row.id,
  upstreams: row.upstreams.map((u) => ({ url: u.url, weight: u.weight })),
  models: row.models ?? null,
  default: row.isDefault,
  balance: row.balance,
  credentials: row.credentialsKind ? { type: row.credentialsKind } : null,
  timeouts: { connectMs: row.timeouts.connectMs, totalMs: row.timeouts.totalMs },
  retry: { attempts: row.retry.attempts, backoffMs: row.retry.backoffMs },
  maxBodyBytes: row.maxBodyBytes,
  etag: etagOf(row),
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

/** Maps a stored ML backend to the API shape. */
export const toApiMlBackend = (row: typeof mlBackends.$inferSelect): MlBackend => ({
  id: row.id,
  backend: row.backendId,
  model: row.model,
  modelVersion: row.modelVersion,
  task: row.task,
  input: { field: row.input.field, tensor: row.input.tensor },
  output: { tensor: row.output.tensor },
  choices: row.choices,
  batch: row.batch,
  fromName: row.fromName,
  toName: row.toName,
  etag: etagOf(row),
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

/** Maps a stored workload to the API shape field by field; secret env values show only as `{ "secret": true }`. */
export function toApiWorkload(row: typeof workloads.$inferSelect): Workload {
  const spec = row.spec as WorkloadSpec;
  return {
    id: row.id,
    cluster: row.clusterId,
    namespace: row.namespace,
    image: spec.image,
    ...(spec.command ? { command: spec.command } : {}),
    ...(spec.args ? { args: spec.args } : {}),
    env: spec.env,
    ports: spec.ports,
    replicas: spec.replicas,
    resources: spec.resources,
    healthCheck: spec.healthCheck,
    volumes: spec.volumes,
    stateful: spec.stateful,
    serviceType: spec.serviceType,
    labels: spec.labels,
    annotations: spec.annotations,
    route: spec.route,
    routeId: row.routeId,
    kind: isStateful(spec) ? 'StatefulSet' : 'Deployment',
    etag: etagOf(row),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** Maps a stored profile setting to the API shape. */
export const toApiSplitTunnelProfile = (row: typeof splitTunnelProfiles.$inferSelect): SplitTunnelProfile => ({
  account: row.account,
  profile: row.profile,
  driftPolicy: row.driftPolicy,
  etag: etagOf(row),
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

/** Maps a stored prune approval to the API shape. */
export const toApiPruneApproval = (row: typeof pruneApprovals.$inferSelect): PruneApproval => ({
  revision: row.revision,
  objects: row.objects,
  approvedBy: row.approvedBy,
  approvedAt: row.approvedAt,
  usedAt: row.usedAt,
  usedRevision: row.usedRevision,
});

/** A pending probe older than this was never answered (no agent, or it could not run it): it reads as `expired`. */
export const PROBE_DEADLINE_MS = 15 * 60_000;

/** Maps a stored probe; the matrix and changes are stored in their API shape by the report that completed the probe. */
export const toApiProbe = (row: typeof probes.$inferSelect, now: number): Probe => ({
  id: row.id,
  clusterId: row.clusterId,
  scheduleId: row.scheduleId,
  status: row.status === 'completed' ? 'completed' : Date.parse(row.createdAt) + PROBE_DEADLINE_MS < now ? 'expired' : 'pending',
  request: row.request as ProbeCreate,
  matrix: (row.matrix ?? null) as Probe['matrix'],
  changes: (row.changes ?? null) as ProbeChange[] | null,
  createdAt: row.createdAt,
  completedAt: row.completedAt,
});

/** Maps a stored probe schedule. */
export const toApiProbeSchedule = (row: typeof probeSchedules.$inferSelect): ProbeSchedule => ({
  id: row.id,
  clusterId: row.clusterId,
  request: row.request as ProbeCreate,
  everyMinutes: row.everyMinutes,
  nextRunAt: row.nextRunAt,
  lastProbeId: row.lastProbeId,
  createdAt: row.createdAt,
});

/** A workload's entry in its cluster's stored health summary (recordStatus), in the API's shape; null when none. */
export function toApiWorkloadHealth(
  clusterHealth: unknown,
  row: Pick<typeof workloads.$inferSelect, 'id' | 'namespace'>,
): Workload['health'] {
  const summary = clusterHealth as { workloads?: WorkloadHealth[]; revision?: number; reportedAt?: string } | null;
  const entry = summary?.workloads?.find((w) => w.workload === row.id && w.namespace === row.namespace);
  if (!entry || summary?.revision === undefined || summary.reportedAt === undefined) return null;
  return {
    status: entry.status,
    pods: entry.pods,
    ready: entry.ready,
    problems: entry.problems,
    ...(entry.error ? { error: entry.error } : {}),
    revision: summary.revision,
    reportedAt: summary.reportedAt,
  };
}
