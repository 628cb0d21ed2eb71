import { z } from 'zod';
import { checkProbeHost } from '../validation/probe-host';
import { checkedString, port } from './fields';

// Cluster diagnostics: the node egress matrix (docs/diagnostics.md). One definition for the API, the agent protocol
// and the tests.

/** Most targets one probe may test: each node's result travels in a pod termination message (4096 bytes). */
export const PROBE_MAX_TARGETS = 20;
/** Most nodes one probe may name. */
export const PROBE_MAX_NODES = 50;

/** A node name as Kubernetes allows it (DNS-1123 subdomain). */
const nodeName = z
  .string()
  .max(253, 'a node name is at most 253 characters')
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    'a node name is a DNS-1123 subdomain: lower-case letters, digits, "-" and "."',
  );

/** One endpoint to reach from every node. */
export const probeTarget = z.strictObject({
  host: checkedString(checkProbeHost, 253).describe('DNS name or IP address, resolved on the node as its pods resolve names'),
  port,
  tls: z.boolean().default(false).describe('complete a TLS handshake after connecting'),
  tlsVerify: z.boolean().default(true).describe('with tls: verify the certificate chain and name (an error is reported as "tls")'),
  serverName: z.string().min(1).max(253).optional().describe('with tls: the SNI name, when it differs from host'),
});
export type ProbeTarget = z.infer<typeof probeTarget>;

/** Body of POST /v1/clusters/{id}/probes. */
export const probeCreate = z.strictObject({
  targets: z
    .array(probeTarget)
    .min(1, 'give at least one target {host, port}')
    .max(PROBE_MAX_TARGETS, `at most ${PROBE_MAX_TARGETS} targets per probe; split the list into several probes`),
  nodes: z
    .array(nodeName)
    .min(1, 'omit "nodes" to probe from every node, or name at least one')
    .max(PROBE_MAX_NODES, `at most ${PROBE_MAX_NODES} nodes per probe`)
    .optional()
    .describe('nodes to probe from; every node of the cluster when omitted'),
  timeoutMs: z.number().int().min(200, 'timeoutMs must be 200 to 10000').max(10_000, 'timeoutMs must be 200 to 10000').default(3000),
  hostNetwork: z.boolean().default(false).describe("probe from the node's own network namespace instead of a pod's"),
});
export type ProbeCreate = z.infer<typeof probeCreate>;

/** Body of POST /v1/clusters/{id}/probe-schedules: the same probe, run every `everyMinutes`. */
export const probeScheduleCreate = probeCreate.extend({
  everyMinutes: z.number().int().min(5, 'everyMinutes must be 5 to 1440').max(1440, 'everyMinutes must be 5 to 1440'),
});
export type ProbeScheduleCreate = z.infer<typeof probeScheduleCreate>;

/** Why a target could not be reached. */
export const probeErrorKind = z.enum(['dns', 'refused', 'timeout', 'unreachable', 'reset', 'tls', 'error']);
export type ProbeErrorKind = z.infer<typeof probeErrorKind>;

/** One target as seen from one node, as the probe command measures it. */
export const probeOutcome = z.object({
  ok: z.boolean(),
  ms: z.number().int().min(0).optional().describe('DNS + connect (+ TLS) time'),
  address: z.string().max(64).optional().describe('the address connected to'),
  error: z.object({ kind: probeErrorKind, message: z.string().max(300) }).optional(),
});
export type ProbeOutcome = z.infer<typeof probeOutcome>;

/** What one node's Job gave: the outcomes in target order, or why it did not run. */
export const probeNodeReport = z.object({
  node: z.string().max(253),
  ran: z.boolean(),
  message: z.string().max(500).optional(),
  outcomes: z.array(probeOutcome).max(PROBE_MAX_TARGETS),
});
export type ProbeNodeReport = z.infer<typeof probeNodeReport>;

/** A probe as the agent finds it in its bundle. */
export const probeRequest = z.object({
  id: z.string(),
  targets: z.array(
    z.object({ host: z.string(), port: z.number().int(), tls: z.boolean(), tlsVerify: z.boolean(), serverName: z.string().optional() }),
  ),
  nodes: z.array(z.string()).nullable(),
  timeoutMs: z.number().int(),
  hostNetwork: z.boolean(),
});
export type ProbeRequest = z.infer<typeof probeRequest>;

/** A finished probe in the agent's status report. */
export const probeReport = z.object({
  id: z.string().max(100),
  nodes: z.array(probeNodeReport).max(1000),
});
export type ProbeReport = z.infer<typeof probeReport>;

/** One cell of the matrix: a node × a target. */
export const probeCell = z.object({
  host: z.string(),
  port: z.number().int(),
  ok: z.boolean(),
  latencyMs: z.number().int().nullable(),
  address: z.string().nullable(),
  error: z.object({ kind: probeErrorKind, message: z.string() }).nullable(),
});

/** One row of the matrix. */
export const probeMatrixRow = z.object({
  node: z.string(),
  ran: z.boolean().describe("false when the node's Job did not run (unschedulable, no such node, deadline passed)"),
  message: z.string().nullable(),
  cells: z.array(probeCell),
});

/** A cell whose state differs from the previous run of the same schedule. */
export const probeChange = z.object({
  node: z.string(),
  host: z.string(),
  port: z.number().int(),
  before: z.string().nullable().describe('"ok", an error kind, "not_run", or null for a cell the previous run did not have'),
  after: z.string(),
});
export type ProbeChange = z.infer<typeof probeChange>;

/** A probe as the API returns it. */
export const probe = z.object({
  id: z.string(),
  clusterId: z.string(),
  scheduleId: z.string().nullable(),
  status: z.enum(['pending', 'completed', 'expired']).describe('expired: no agent answered within 15 minutes'),
  request: probeCreate,
  matrix: z.array(probeMatrixRow).nullable(),
  changes: z.array(probeChange).nullable().describe('scheduled probes: cells that changed since the previous run'),
  createdAt: z.string(),
  completedAt: z.string().nullable(),
});
export type Probe = z.infer<typeof probe>;

/** A probe schedule as the API returns it. */
export const probeSchedule = z.object({
  id: z.string(),
  clusterId: z.string(),
  request: probeCreate,
  everyMinutes: z.number().int(),
  nextRunAt: z.string(),
  lastProbeId: z.string().nullable(),
  createdAt: z.string(),
});
export type ProbeSchedule = z.infer<typeof probeSchedule>;
