import type { InfraRef, WorkloadCreate, WorkloadSpec, WorkloadUpdate } from '../../src/shared/api';
import { isSensitiveEnvName } from '../../src/shared/compiler';
import { encryptSecret, requireEncryptionKey } from '../crypto';
import { WORKLOAD_SECRETS } from '../db/desired-state';
import type { workloads } from '../db/schema';
import type { Deps } from '../deps';
import { AppError } from '../errors';

export type WorkloadRow = typeof workloads.$inferSelect;

/** Env after sealing, before infra references are pinned. */
export type SealedEnv = Record<string, string | { secret: true } | InfraRef>;

/**
 * Splits requested env into what is stored in clear (plain values under non-sensitive names) and the secret values
 * (`{"secret": "..."}` and plain values under sensitive names), encrypted together. `{"secret": true}` keeps the value
 * already stored, and is a 422 naming the variable when there is none.
 */
export async function sealEnv(
  deps: Deps,
  env: WorkloadCreate['env'],
  previous: Record<string, string>,
): Promise<{ env: SealedEnv; secretsCiphertext: string | null }> {
  const clear: SealedEnv = {};
  const secrets: Record<string, string> = {};
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (value === undefined) continue;
    if (typeof value === 'string' && !isSensitiveEnvName(name)) {
      clear[name] = value;
      continue;
    }
    if (typeof value === 'object' && 'infra' in value) {
      // An address is not a secret; it is resolved and pinned by pinInfraRefs (workload-infra.ts).
      clear[name] = value;
      continue;
    }
    const secret = typeof value === 'string' ? value : value.secret;
    if (secret === true) {
      const kept = previous[name];
      if (kept === undefined) {
        throw new AppError(
          'validation_failed',
          `body.env.${name}: {"secret": true} keeps a stored value, but ${name} has none; send {"secret": "<value>"}`,
          {
            details: [{ path: `body.env.${name}`, message: 'no stored secret value to keep' }],
          },
        );
      }
      secrets[name] = kept;
    } else {
      secrets[name] = secret;
    }
    clear[name] = { secret: true };
  }
  const ciphertext =
    Object.keys(secrets).length > 0
      ? await encryptSecret(requireEncryptionKey(deps.config, WORKLOAD_SECRETS), JSON.stringify(secrets))
      : null;
  return { env: clear, secretsCiphertext: ciphertext };
}

/** The stored definition of a create request (env still to be sealed). */
export const specOfCreate = (input: WorkloadCreate, env: WorkloadSpec['env']): WorkloadSpec => ({
  image: input.image,
  ...(input.command ? { command: input.command } : {}),
  ...(input.args ? { args: input.args } : {}),
  env,
  ports: input.ports,
  replicas: input.replicas,
  resources: input.resources,
  healthCheck: input.healthCheck,
  volumes: input.volumes,
  stateful: input.stateful,
  serviceType: input.serviceType,
  labels: input.labels,
  annotations: input.annotations,
  route: input.route,
});

/** The stored definition after a PATCH: fields sent replace, others stay; `null` command/args remove them. */
export function specOfUpdate(before: WorkloadSpec, input: WorkloadUpdate, env: WorkloadSpec['env']): WorkloadSpec {
  const command = input.command === undefined ? before.command : (input.command ?? undefined);
  const args = input.args === undefined ? before.args : (input.args ?? undefined);
  return {
    image: input.image ?? before.image,
    ...(command ? { command } : {}),
    ...(args ? { args } : {}),
    env,
    ports: input.ports ?? before.ports,
    replicas: input.replicas ?? before.replicas,
    resources: input.resources ?? before.resources,
    healthCheck: input.healthCheck === undefined ? before.healthCheck : input.healthCheck,
    volumes: input.volumes ?? before.volumes,
    stateful: input.stateful === undefined ? before.stateful : input.stateful,
    serviceType: input.serviceType ?? before.serviceType,
    labels: input.labels ?? before.labels,
    annotations: input.annotations ?? before.annotations,
    route: input.route === undefined ? before.route : input.route,
  };
}

const invalid = (path: string, message: string) =>
  new AppError('validation_failed', `${path}: ${message}`, { details: [{ path, message }] });

/** Checks what the schema cannot see alone: unique ports, names and volumes, probes and routes on existing ports. */
export function checkSpec(spec: WorkloadSpec, at = 'body'): void {
  const ports = spec.ports.map((p) => (typeof p === 'number' ? { port: p, protocol: 'TCP', name: undefined } : p));
  const seen = new Set<string>();
  for (const [i, p] of ports.entries()) {
    const key = `${p.port}/${p.protocol}`;
    if (seen.has(key)) throw invalid(`${at}.ports.${i}`, `port ${p.port}/${p.protocol} is listed twice`);
    seen.add(key);
    if (p.name && ports.some((q, j) => j < i && q.name === p.name))
      throw invalid(`${at}.ports.${i}.name`, `port name "${p.name}" is used twice`);
  }
  const volumeNames = new Set<string>();
  for (const [i, v] of spec.volumes.entries()) {
    if (volumeNames.has(v.name)) throw invalid(`${at}.volumes.${i}.name`, `volume "${v.name}" is listed twice`);
    volumeNames.add(v.name);
  }
  const numbers = ports.map((p) => p.port);
  if (spec.healthCheck) {
    if (numbers.length === 0)
      throw invalid(`${at}.healthCheck`, 'a health check needs a port; add one to ports or set healthCheck to null');
    if (spec.healthCheck.port !== undefined && !numbers.includes(spec.healthCheck.port))
      throw invalid(`${at}.healthCheck.port`, `port ${spec.healthCheck.port} is not one of the ports (${numbers.join(', ')})`);
  }
  if (spec.route) {
    if (spec.serviceType === 'None' || numbers.length === 0)
      throw invalid(`${at}.route`, 'a route needs a Service: give the workload a port and a serviceType other than None');
    if (spec.route.port !== undefined && !numbers.includes(spec.route.port))
      throw invalid(`${at}.route.port`, `port ${spec.route.port} is not one of the ports (${numbers.join(', ')})`);
  }
}

/** The Service port a workload's route goes to: the one asked for, else the first. */
export function routePort(spec: WorkloadSpec): number {
  const first = spec.ports[0];
  return spec.route?.port ?? (typeof first === 'number' ? first : (first?.port ?? 80));
}
