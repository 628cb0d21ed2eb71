import type { AgentRegistered, DesiredBundle } from '../src/shared/api/agent';
import type { AgentDryRunRequest } from '../src/shared/api/cluster-dry-run';
import { array, boolean, integer, nullable, object, optional, string, stringMap } from './check';

// The Worker's answers as the agent checks them: the fields the agent relies on, with the types the zod schemas in
// src/shared/api/agent.ts give them (test/agent/agent-check.test.ts holds the two together).

const bundleObject = object({
  apiVersion: string(1),
  kind: string(1),
  metadata: object({ name: string(1), namespace: optional(string()), labels: optional(stringMap), annotations: optional(stringMap) }),
});

const originCheckTarget = object({ route: string(), hostname: string(), namespace: string(), name: string(), port: integer() });

const desiredBundleShape = object({
  clusterId: string(),
  revision: integer(),
  hash: string(),
  objects: array(bundleObject),
  origins: array(originCheckTarget),
  prune: object({
    maxDeletes: integer(0),
    windowSeconds: integer(1),
    allowEmpty: boolean,
    approval: nullable(object({ revision: integer(), objects: array(string()) })),
  }),
  // Optional here so an agent keeps working against a Worker from before egress probes.
  probes: optional(
    array(
      object({
        id: string(1),
        targets: array(object({ host: string(1), port: integer(1), tls: boolean, tlsVerify: boolean, serverName: optional(string(1)) })),
        nodes: (value: unknown, path: string) => (value === null ? null : array(string(1))(value, path)),
        timeoutMs: integer(1),
        hostNetwork: boolean,
      }),
    ),
  ),
});

const registeredShape = object({ clusterId: string() });

const notifyShape = object({ revision: integer() });

/** Checks a GET /agent/v1/desired body; throws a ShapeError naming the first wrong field. */
export const checkDesiredBundle = (value: unknown): DesiredBundle => {
  const bundle = desiredBundleShape(value, '') as unknown as DesiredBundle;
  return bundle.probes === undefined ? { ...bundle, probes: [] } : bundle;
};

/** Checks a POST /agent/v1/register answer. */
export const checkRegistered = (value: unknown): AgentRegistered => registeredShape(value, '') as unknown as AgentRegistered;

/** Checks a notify message `{revision}`. */
export const checkNotify = (value: unknown): { revision: number } => notifyShape(value, '') as unknown as { revision: number };

const dryRunsShape = object({ items: array(object({ id: string(1), revision: integer(), objects: array(bundleObject) })) });

/** Checks a GET /agent/v1/dry-runs body. */
export const checkDryRuns = (value: unknown): AgentDryRunRequest[] =>
  (dryRunsShape(value, '') as unknown as { items: AgentDryRunRequest[] }).items;

const dryRunNotifyShape = object({ dryRun: string(1) });

/** Checks a notify message `{dryRun}`: a plan asks for a server-side dry run. */
export const checkDryRunNotify = (value: unknown): { dryRun: string } => dryRunNotifyShape(value, '') as unknown as { dryRun: string };
