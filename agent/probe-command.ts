import { writeFileSync } from 'node:fs';
import type { ProbeOutcome } from '../src/shared/api/probe';
import { array, boolean, integer, object, optional, string } from './check';
import { encodeOutcomes, probeAll, type ProbeTargetSpec } from './probe';

/** The environment variable carrying the probe's targets into the Job's container. */
export const PROBE_SPEC_ENV = 'EDGEPLANE_PROBE_SPEC';
/** Where the container writes its result; the Job sets it to the container's terminationMessagePath. */
export const TERMINATION_PATH_ENV = 'EDGEPLANE_TERMINATION_MESSAGE_PATH';

const specShape = object({
  timeoutMs: integer(1),
  targets: array(object({ host: string(1), port: integer(1), tls: boolean, tlsVerify: boolean, serverName: optional(string(1)) })),
});

/**
 * `agent probe`: runs inside the per-node Job with no credentials. It reads its targets from the environment, probes
 * them and writes the outcomes as the pod's termination message, which the agent reads from the pod's status — so the
 * Job needs no API access and the agent no log access. Exits 0 with a result, 2 when the spec cannot be read.
 */
export async function runProbeCommand(env: Record<string, string | undefined>): Promise<number> {
  const path = env[TERMINATION_PATH_ENV] || '/dev/termination-log';
  let spec: { timeoutMs: number; targets: ProbeTargetSpec[] };
  try {
    spec = specShape(JSON.parse(env[PROBE_SPEC_ENV] ?? ''), PROBE_SPEC_ENV) as unknown as typeof spec;
  } catch (error) {
    const message = JSON.stringify({ v: 1, error: `${PROBE_SPEC_ENV} is not a probe spec: ${(error as Error).message}` });
    writeFileSync(path, message);
    process.stdout.write(`${message}\n`);
    return 2;
  }
  const outcomes: ProbeOutcome[] = await probeAll(spec.targets, spec.timeoutMs);
  const message = encodeOutcomes(outcomes);
  writeFileSync(path, message);
  process.stdout.write(`${message}\n`);
  return 0;
}
