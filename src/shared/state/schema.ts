import { z } from 'zod';
import { clusterCreate } from '../api/cluster';
import { boundedRecord } from '../api/fields';
import { inferenceBackendCreate } from '../api/inference';
import { mlBackendCreate } from '../api/ml-backend';
import { privateNetworkCreate } from '../api/private-network';
import { routeCreate } from '../api/route';
import { splitTunnelCreate } from '../api/split-tunnel';
import { tunnelCreate } from '../api/tunnel';
import { envName, infraRef, workloadCreate } from '../api/workload';
import { isSensitiveEnvName } from '../compiler/workload-objects';

// The declarative state file `edgeplane plan|apply|export` read and write. Every entry is the body of the resource's
// POST with the same field names, so the API reference documents the file too; routes and private networks sit under
// their tunnel (their `tunnel` field is implied). An omitted field means its create-time default, not "leave as is":
// the file is the whole desired state of what it names.

/** A route of a tunnel in the state file: POST /v1/routes without `tunnel`. Identified by hostname + path. */
export const stateRoute = routeCreate.omit({ tunnel: true });
/** A private network of a tunnel: POST /v1/private-networks without `tunnel`. Identified by CIDR + virtual network. */
export const statePrivateNetwork = privateNetworkCreate.omit({ tunnel: true });

/**
 * A tunnel with its routes and private networks: POST /v1/tunnels plus the children. `cloudflareTunnelId` adopts an
 * existing Cloudflare tunnel when the tunnel is created and is ignored afterwards (it cannot change).
 */
export const stateTunnel = tunnelCreate.extend({
  routes: z.array(stateRoute).max(5000).default([]),
  privateNetworks: z.array(statePrivateNetwork).max(1000).default([]),
});

/** A WARP split-tunnel entry: POST /v1/split-tunnel. Identified by profile + mode + address/host. */
export const stateSplitTunnelEntry = splitTunnelCreate;

/**
 * Where a secret value comes from: an environment variable or a file (relative to the state file), read by the CLI when
 * it plans or applies. A state file never holds a secret value itself.
 */
export const secretRef = z.union([
  z.strictObject({
    env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name, e.g. "DB_PASSWORD"')
      .max(253),
  }),
  z.strictObject({ file: z.string().min(1).max(4096).describe('a path; relative paths start at the state file') }),
]);
export type SecretRef = z.infer<typeof secretRef>;

/** A workload env value in the state file: plain text, `{"secret": <reference>}` or an infra reference. */
export const stateEnvValue = z.union([z.string().max(32 * 1024), z.strictObject({ secret: secretRef }), infraRef]);

/**
 * A workload: POST /v1/workloads, with secret env values as references. A plain value under a name edgeplane stores as
 * a secret (…_PASSWORD, …_TOKEN) is refused: it would put a secret in the file.
 */
export const stateWorkload = workloadCreate
  .extend({
    env: boundedRecord(envName, stateEnvValue, 200, 'environment variables')
      .default({})
      .describe('secret values are {"secret": {"env": "NAME"}} or {"secret": {"file": "path"}}'),
  })
  .superRefine((w, ctx) => {
    for (const [name, value] of Object.entries(w.env)) {
      if (typeof value === 'string' && isSensitiveEnvName(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['env', name],
          message: `${name} is stored as a secret, so its value does not belong in the file; write {"secret": {"env": "${name}"}} and set ${name} where the CLI runs`,
        });
      }
    }
  });

const headerName = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'a header name uses letters, digits and "-"');

/** Upstream credentials of an inference backend, every secret part a reference. */
export const stateCredentials = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('access'), clientId: z.union([z.string().min(1).max(200), secretRef]), clientSecret: secretRef }),
  z.strictObject({ type: z.literal('bearer'), token: secretRef }),
  z.strictObject({ type: z.literal('headers'), headers: boundedRecord(headerName, secretRef, 10, 'headers') }),
]);
export type StateCredentials = z.infer<typeof stateCredentials>;

/** An inference backend: POST /v1/inference/backends, with credentials as references. */
export const stateInferenceBackend = inferenceBackendCreate.extend({ credentials: stateCredentials.nullable().default(null) });

/** The state file. */
export const stateFile = z.strictObject({
  $schema: z.string().optional().describe('where editors find this schema, e.g. https://<worker>/schema/state.json'),
  version: z.literal(1).default(1).describe('the state file format version'),
  clusters: z.array(clusterCreate).max(1000).default([]),
  tunnels: z.array(stateTunnel).max(1000).default([]),
  splitTunnel: z.array(stateSplitTunnelEntry).max(5000).default([]),
  workloads: z.array(stateWorkload).max(5000).default([]),
  inferenceBackends: z.array(stateInferenceBackend).max(1000).default([]),
  mlBackends: z.array(mlBackendCreate).max(1000).default([]),
});

export type StateFile = z.infer<typeof stateFile>;
export type StateTunnel = z.infer<typeof stateTunnel>;
export type StateRoute = z.infer<typeof stateRoute>;
export type StatePrivateNetwork = z.infer<typeof statePrivateNetwork>;
export type StateSplitTunnelEntry = z.infer<typeof stateSplitTunnelEntry>;
export type StateWorkload = z.infer<typeof stateWorkload>;
export type StateInferenceBackend = z.infer<typeof stateInferenceBackend>;
export type StateMlBackend = z.infer<typeof mlBackendCreate>;

/** The JSON Schema of the state file (what a file may say, so defaults are optional), for editors and CI linters. */
export function stateJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(stateFile, { io: 'input', unrepresentable: 'any' }),
    title: 'edgeplane state file',
  };
}
