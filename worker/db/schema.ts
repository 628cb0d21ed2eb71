import { sql } from 'drizzle-orm';
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

// Row types stay inside worker/: the API is described by the zod schemas in src/shared/api and every
// response is mapped field by field (worker/services/*-mapper), so no column can leak by accident.

const timestamps = {
  createdAt: text('created_at').notNull(),
  updatedAt: text('updated_at').notNull(),
};

/** Incremented on every write; the resource's etag is derived from it. */
const version = integer('version').notNull().default(1);

export const clusters = sqliteTable('clusters', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  labels: text('labels', { mode: 'json' }).$type<Record<string, string>>().notNull(),
  nodes: text('nodes', { mode: 'json' }).$type<{ name: string; role: string; address?: string }[]>().notNull(),
  desiredRevision: integer('desired_revision').notNull().default(1),
  appliedRevision: integer('applied_revision'),
  agentCredentialHash: text('agent_credential_hash'),
  /**
   * The credential hash the last re-registration replaced: the one refused credential that may still mark the cluster
   * `unauthorized` (an agent left behind). Any other refused credential changes nothing.
   */
  replacedCredentialHash: text('replaced_credential_hash'),
  /** When an admin asked for the agent to be replaced; only then may a registered cluster register again. */
  reregistrationRequestedAt: text('reregistration_requested_at'),
  /** The kube-system namespace UID of the registered agent's cluster; never returned by the API nor written to the audit log. */
  identity: text('identity'),
  connection: text('connection', { enum: ['connected', 'unreachable', 'unauthorized', 'never'] })
    .notNull()
    .default('never'),
  lastSeenAt: text('last_seen_at'),
  agentVersion: text('agent_version'),
  kubernetesVersion: text('kubernetes_version'),
  nodeCount: integer('node_count'),
  health: text('health', { mode: 'json' }).$type<unknown>(),
  /** Prune circuit breaker: at most this many deletions per window without an explicit approval. */
  pruneMaxDeletes: integer('prune_max_deletes').notNull().default(25),
  pruneWindowSeconds: integer('prune_window_seconds').notNull().default(600),
  /** The API server's in-cluster address a WARP client reaches (the `kubernetes` Service's ClusterIP; k3s: 10.43.0.1). */
  apiServerAddress: text('api_server_address').notNull().default('10.43.0.1'),
  /** PEM of the cluster CA as the agent last reported it (`kube-root-ca.crt` in its namespace); public, not a secret. */
  clusterCa: text('cluster_ca'),
  version,
  ...timestamps,
});

export const tunnels = sqliteTable(
  'tunnels',
  {
    id: text('id').primaryKey(),
    clusterId: text('cluster_id')
      .notNull()
      .references(() => clusters.id, { onDelete: 'restrict' }),
    account: text('account').notNull(),
    name: text('name').notNull(),
    cloudflareTunnelId: text('cloudflare_tunnel_id'),
    placement: text('placement', { mode: 'json' }).$type<unknown>().notNull(),
    mode: text('mode', { mode: 'json' }).$type<unknown>().notNull(),
    originRequest: text('origin_request', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    catchAll: text('catch_all').notNull(),
    driftPolicy: text('drift_policy', { enum: ['alert', 'revert'] }).notNull(),
    /** AES-GCM ciphertext of the connector token (base64 iv.ciphertext); never returned by the API. */
    tokenCiphertext: text('token_ciphertext'),
    version,
    ...timestamps,
  },
  (t) => [index('tunnels_cluster').on(t.clusterId), uniqueIndex('tunnels_cf_id').on(t.cloudflareTunnelId)],
);

export const routes = sqliteTable(
  'routes',
  {
    id: text('id').primaryKey(),
    tunnelId: text('tunnel_id')
      .notNull()
      .references(() => tunnels.id, { onDelete: 'restrict' }),
    hostname: text('hostname').notNull(),
    /** Empty string when the route has no path prefix, so the unique index treats "no path" as one value. */
    path: text('path').notNull().default(''),
    /**
     * A cloudflared path regex (Go RE2), kept byte for byte; empty when the route has none. A route has a prefix
     * (`path`) or a regex, never both, so at most one of the two is non-empty.
     */
    pathRegex: text('path_regex').notNull().default(''),
    origin: text('origin', { mode: 'json' }).$type<unknown>().notNull(),
    originRequest: text('origin_request', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    dns: integer('dns', { mode: 'boolean' }).notNull().default(true),
    access: text('access', { mode: 'json' }).$type<unknown>(),
    version,
    ...timestamps,
  },
  (t) => [uniqueIndex('routes_tunnel_host_path').on(t.tunnelId, t.hostname, t.path, t.pathRegex), index('routes_hostname').on(t.hostname)],
);

export const privateNetworks = sqliteTable(
  'private_networks',
  {
    id: text('id').primaryKey(),
    tunnelId: text('tunnel_id')
      .notNull()
      .references(() => tunnels.id, { onDelete: 'restrict' }),
    cidr: text('cidr').notNull(),
    virtualNetworkId: text('virtual_network_id'),
    comment: text('comment').notNull().default(''),
    /** Id of the teamnet route in Cloudflare once created. */
    cloudflareRouteId: text('cloudflare_route_id'),
    version,
    ...timestamps,
  },
  (t) => [uniqueIndex('private_networks_cidr_vnet').on(t.cidr, t.virtualNetworkId)],
);

export const splitTunnelEntries = sqliteTable(
  'split_tunnel_entries',
  {
    id: text('id').primaryKey(),
    account: text('account').notNull().default(''),
    profile: text('profile').notNull(),
    mode: text('mode', { enum: ['include', 'exclude'] }).notNull(),
    address: text('address'),
    host: text('host'),
    /** address or host, whichever is set: the key Cloudflare's list is merged on. */
    target: text('target').notNull(),
    description: text('description').notNull(),
    owner: text('owner', { enum: ['edgeplane', 'foreign'] }).notNull(),
    version,
    ...timestamps,
  },
  (t) => [
    uniqueIndex('split_tunnel_target').on(t.account, t.profile, t.mode, t.target),
    check('split_tunnel_one_target', sql`(${t.address} IS NULL) <> (${t.host} IS NULL)`),
  ],
);

/**
 * A WARP device profile's split-tunnel settings (one row per account and profile, absent = the defaults): what the
 * drift check does when edgeplane's entries were changed in the dashboard. Foreign entries are never touched.
 */
export const splitTunnelProfiles = sqliteTable(
  'split_tunnel_profiles',
  {
    account: text('account').notNull(),
    profile: text('profile').notNull(),
    driftPolicy: text('drift_policy', { enum: ['alert', 'revert'] })
      .notNull()
      .default('alert'),
    version,
    ...timestamps,
  },
  (t) => [primaryKey({ columns: [t.account, t.profile] })],
);

/**
 * Triton servers behind a name (`/inference/<id>/v2/...`). Upstream credentials are AES-GCM ciphertext of their JSON,
 * never returned; `credentials_kind` says which kind is set without decrypting.
 */
export const inferenceBackends = sqliteTable(
  'inference_backends',
  {
    id: text('id').primaryKey(),
    upstreams: text('upstreams', { mode: 'json' }).$type<{ url: string; weight: number }[]>().notNull(),
    /** null = every model allowed. */
    models: text('models', { mode: 'json' }).$type<string[] | null>(),
    isDefault: integer('is_default', { mode: 'boolean' }).notNull().default(false),
    balance: text('balance', { enum: ['priority', 'weighted'] }).notNull(),
    credentialsKind: text('credentials_kind', { enum: ['access', 'bearer', 'headers'] }),
    credentialsCiphertext: text('credentials_ciphertext'),
    timeouts: text('timeouts', { mode: 'json' }).$type<{ connectMs: number; totalMs: number }>().notNull(),
    retry: text('retry', { mode: 'json' }).$type<{ attempts: number; backoffMs: number }>().notNull(),
    maxBodyBytes: integer('max_body_bytes').notNull(),
    version,
    ...timestamps,
  },
  // At most one default backend: the partial unique index makes a second one fail inside the write's batch.
  (t) => [
    uniqueIndex('inference_backends_one_default')
      .on(t.isDefault)
      .where(sql`${t.isDefault} = 1`),
  ],
);

/** Label Studio ML backends (`/ml/<id>`): which model of which inference backend, and how tasks map to tensors. */
export const mlBackends = sqliteTable(
  'ml_backends',
  {
    id: text('id').primaryKey(),
    backendId: text('backend_id')
      .notNull()
      .references(() => inferenceBackends.id, { onDelete: 'restrict' }),
    model: text('model').notNull(),
    modelVersion: text('model_version'),
    task: text('task', { enum: ['text-classification', 'span-labeling', 'object-detection'] }).notNull(),
    input: text('input', { mode: 'json' }).$type<{ field: string; tensor: string }>().notNull(),
    output: text('output', { mode: 'json' }).$type<{ tensor: string }>().notNull(),
    choices: text('choices', { mode: 'json' }).$type<string[]>().notNull(),
    batch: integer('batch', { mode: 'boolean' }).notNull(),
    fromName: text('from_name'),
    toName: text('to_name'),
    version,
    ...timestamps,
  },
  (t) => [index('ml_backends_backend').on(t.backendId)],
);

export const apiTokens = sqliteTable(
  'api_tokens',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    /** SHA-256 of the secret, hex; the secret itself is shown once at creation and never stored. */
    hash: text('hash').notNull(),
    role: text('role', { enum: ['admin', 'editor', 'viewer', 'inference'] }).notNull(),
    scopes: text('scopes', { mode: 'json' }).$type<string[]>().notNull(),
    expiresAt: text('expires_at'),
    lastUsedAt: text('last_used_at'),
    createdAt: text('created_at').notNull(),
  },
  (t) => [uniqueIndex('api_tokens_hash').on(t.hash)],
);

export const audit = sqliteTable(
  'audit',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: text('at').notNull(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id').notNull(),
    before: text('before', { mode: 'json' }).$type<unknown>(),
    after: text('after', { mode: 'json' }).$type<unknown>(),
    requestId: text('request_id').notNull(),
  },
  (t) => [index('audit_entity').on(t.entityType, t.entityId)],
);

export const outbox = sqliteTable(
  'outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    account: text('account').notNull(),
    /** What must change in Cloudflare: tunnel (create/adopt/delete), tunnel_config, dns, split_tunnel, private_network. */
    kind: text('kind').notNull(),
    /** The entity the row is about, e.g. the tunnel id or the split-tunnel profile. */
    target: text('target').notNull(),
    payload: text('payload', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    status: text('status', { enum: ['pending', 'done'] })
      .notNull()
      .default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    nextAttemptAt: text('next_attempt_at'),
    createdAt: text('created_at').notNull(),
    doneAt: text('done_at'),
  },
  (t) => [index('outbox_pending').on(t.status, t.account)],
);

/**
 * A write's preconditions checked inside its own D1 batch: a guard row is inserted only when a precondition
 * does not hold, and the CHECK makes that insert fail, so the whole batch rolls back (see worker/db/write.ts).
 */
export const writeGuards = sqliteTable(
  'write_guards',
  {
    reason: text('reason').notNull(),
  },
  (t) => [check('write_guard_never_stored', sql`${t.reason} = ''`)],
);

/**
 * Cloudflare sync state per target (`<kind>:<target>`, e.g. `tunnel_config:web`, `dns:app.example.com`,
 * `split_tunnel:<account>:default:include`, `account:<account>`), written only by the account's sync writer.
 */
export const cfSync = sqliteTable(
  'cf_sync',
  {
    key: text('key').primaryKey(),
    account: text('account').notNull(),
    kind: text('kind').notNull(),
    target: text('target').notNull(),
    lastSuccessAt: text('last_success_at'),
    /** tunnel rows: the tunnel's name in Cloudflare as last read or written (a rename is pushed with PATCH). */
    remoteName: text('remote_name'),
    /** Tunnel config `version` as Cloudflare reported it after our last read or write. */
    remoteVersion: integer('remote_version'),
    /** Hash of the desired state last written to (or confirmed in) Cloudflare; equal hash = nothing to write. */
    pushedHash: text('pushed_hash'),
    /** What edgeplane owns inside a shared remote object (split tunnel: the targets it last pushed). */
    owned: text('owned', { mode: 'json' }).$type<string[]>(),
    lastError: text('last_error'),
    attempts: integer('attempts').notNull().default(0),
    /** A foreign object in the way (a DNS record, a teamnet route): reported, never changed. */
    conflict: text('conflict'),
    drift: text('drift', { mode: 'json' }).$type<{ detectedAt: string; summary: string; reverted: boolean }>(),
    driftCheckedAt: text('drift_checked_at'),
    /** account rows: Cloudflare API calls wait until then (429 retry-after or our own budget). */
    rateLimitedUntil: text('rate_limited_until'),
    lastRunId: text('last_run_id'),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [index('cf_sync_account').on(t.account, t.kind)],
);

/** DNS records edgeplane created: the only records it ever changes or deletes (ownership is here, not in TXT records). */
export const cfDnsRecords = sqliteTable(
  'cf_dns_records',
  {
    hostname: text('hostname').primaryKey(),
    account: text('account').notNull(),
    zoneId: text('zone_id').notNull(),
    recordId: text('record_id').notNull(),
    /** edgeplane tunnel id the CNAME points at (through its Cloudflare tunnel id). */
    tunnelId: text('tunnel_id').notNull(),
    content: text('content').notNull(),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [index('cf_dns_records_tunnel').on(t.tunnelId)],
);

/** One-time agent bootstrap tokens handed out in install manifests; only the hash is stored. */
export const bootstrapTokens = sqliteTable(
  'bootstrap_tokens',
  {
    /** SHA-256 of the token, hex. */
    hash: text('hash').primaryKey(),
    clusterId: text('cluster_id')
      .notNull()
      .references(() => clusters.id, { onDelete: 'cascade' }),
    createdBy: text('created_by').notNull(),
    createdAt: text('created_at').notNull(),
    expiresAt: text('expires_at').notNull(),
    /** Set by the one registration that used it; a second use is refused. */
    usedAt: text('used_at'),
  },
  (t) => [index('bootstrap_tokens_cluster').on(t.clusterId)],
);

/** What an agent did for one revision: per-object results, conflicts, prunes and health (the last 50 per cluster are kept). */
export const applyReports = sqliteTable(
  'apply_reports',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    clusterId: text('cluster_id')
      .notNull()
      .references(() => clusters.id, { onDelete: 'cascade' }),
    revision: integer('revision').notNull(),
    hash: text('hash').notNull(),
    applied: integer('applied', { mode: 'boolean' }).notNull(),
    durationMs: integer('duration_ms').notNull(),
    results: text('results', { mode: 'json' }).$type<unknown[]>().notNull(),
    conflicts: text('conflicts', { mode: 'json' }).$type<unknown[]>().notNull(),
    pruned: text('pruned', { mode: 'json' }).$type<string[]>().notNull(),
    pruneRefused: text('prune_refused'),
    /** The identity keys (group/kind/namespace/name) of a refused prune: what an approval of this revision covers. */
    pruneRefusedObjects: text('prune_refused_objects', { mode: 'json' }).$type<string[]>(),
    /** The approval this pass pruned under, as the Worker recorded it (who approved which revision's set, when). */
    pruneApproval: text('prune_approval', { mode: 'json' }).$type<{ revision: number; approvedBy: string; approvedAt: string }>(),
    health: text('health', { mode: 'json' }).$type<unknown>().notNull(),
    agentVersion: text('agent_version').notNull(),
    receivedAt: text('received_at').notNull(),
  },
  (t) => [index('apply_reports_cluster').on(t.clusterId, t.id)],
);

/** Compose-style services compiled into a cluster's bundle (src/shared/compiler/workload-objects.ts). */
export const workloads = sqliteTable(
  'workloads',
  {
    id: text('id').primaryKey(),
    clusterId: text('cluster_id')
      .notNull()
      .references(() => clusters.id, { onDelete: 'restrict' }),
    namespace: text('namespace').notNull(),
    /** The definition without secret values: secret env entries hold `{ "secret": true }`. */
    spec: text('spec', { mode: 'json' }).$type<unknown>().notNull(),
    /** AES-GCM ciphertext of the JSON map of secret env values; never returned by the API. */
    secretsCiphertext: text('secrets_ciphertext'),
    /** The route created for the workload's `route`, deleted with it. */
    routeId: text('route_id'),
    version,
    ...timestamps,
  },
  (t) => [index('workloads_cluster').on(t.clusterId)],
);

/**
 * An operator's approval of one refused prune: the agent may delete exactly `objects` (or fewer) once, past the
 * cluster's deletion window. `usedAt` is set when the agent reports it pruned under it.
 */
export const pruneApprovals = sqliteTable(
  'prune_approvals',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    clusterId: text('cluster_id')
      .notNull()
      .references(() => clusters.id, { onDelete: 'cascade' }),
    revision: integer('revision').notNull(),
    objects: text('objects', { mode: 'json' }).$type<string[]>().notNull(),
    approvedBy: text('approved_by').notNull(),
    approvedAt: text('approved_at').notNull(),
    usedAt: text('used_at'),
    usedRevision: integer('used_revision'),
  },
  (t) => [index('prune_approvals_cluster').on(t.clusterId, t.id)],
);

/**
 * Egress probes (docs/diagnostics.md): a request travels to the agent in its bundle while `pending`; the agent's report
 * fills `matrix` and makes it `completed`. Pending rows older than the probe deadline read as `expired`.
 */
export const probes = sqliteTable(
  'probes',
  {
    id: text('id').primaryKey(),
    clusterId: text('cluster_id')
      .notNull()
      .references(() => clusters.id, { onDelete: 'cascade' }),
    scheduleId: text('schedule_id'),
    /** The validated request (targets, nodes, timeout, host network). */
    request: text('request', { mode: 'json' }).$type<unknown>().notNull(),
    status: text('status', { enum: ['pending', 'completed'] }).notNull(),
    matrix: text('matrix', { mode: 'json' }).$type<unknown>(),
    changes: text('changes', { mode: 'json' }).$type<unknown>(),
    createdAt: text('created_at').notNull(),
    completedAt: text('completed_at'),
  },
  (t) => [index('probes_cluster').on(t.clusterId, t.createdAt), index('probes_schedule').on(t.scheduleId, t.createdAt)],
);

/** Probes run every `everyMinutes` by the Cron Trigger; each run is a `probes` row with the schedule's id. */
export const probeSchedules = sqliteTable(
  'probe_schedules',
  {
    id: text('id').primaryKey(),
    clusterId: text('cluster_id')
      .notNull()
      .references(() => clusters.id, { onDelete: 'cascade' }),
    request: text('request', { mode: 'json' }).$type<unknown>().notNull(),
    everyMinutes: integer('every_minutes').notNull(),
    nextRunAt: text('next_run_at').notNull(),
    lastProbeId: text('last_probe_id'),
    createdAt: text('created_at').notNull(),
  },
  (t) => [index('probe_schedules_due').on(t.nextRunAt)],
);

/**
 * The backing services (databases, queues, object stores) a cluster's agent last found (src/shared/kube/infra.ts): what
 * `{"infra": ...}` env references resolve against. One row per cluster, replaced by each report that carries a scan.
 */
export const clusterInfra = sqliteTable('cluster_infra', {
  clusterId: text('cluster_id')
    .primaryKey()
    .references(() => clusters.id, { onDelete: 'cascade' }),
  instances: text('instances', { mode: 'json' }).$type<unknown[]>().notNull(),
  reportedAt: text('reported_at').notNull(),
});

/**
 * Routes a workload owns besides its own `route` (the compose import's Traefik routers): deleted with the workload. The
 * route row stays a plain route (listed, edited and deleted through /v1/routes); deleting it removes the ownership.
 */
export const workloadRoutes = sqliteTable(
  'workload_routes',
  {
    routeId: text('route_id')
      .primaryKey()
      .references(() => routes.id, { onDelete: 'cascade' }),
    workloadId: text('workload_id')
      .notNull()
      .references(() => workloads.id, { onDelete: 'cascade' }),
  },
  (t) => [index('workload_routes_workload').on(t.workloadId)],
);
