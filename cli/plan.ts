import path from 'node:path';
import type { PlanReport } from '../src/shared/api/plan';
import { type Client } from './client';
import { readCurrent } from './current';
import { type Diff, diffState } from './diff';
import { checkSecrets, resolveSecrets } from './secrets';
import { StateFileError, type LoadedState } from './state-file';

/** The server plans at most this many changes at once (POST /v1/plan). */
const SERVER_PLAN_LIMIT = 200;

export interface Planned {
  diff: Diff;
  /** The server's verdict on every change, in order (null when there is nothing to change). */
  report: PlanReport | null;
}

/**
 * Diffs the file against the Worker and asks the Worker's own plan (POST /v1/plan: each change through its endpoint's
 * decision code) what every change would answer, so a plan can never promise what apply would refuse.
 */
export async function planState(
  client: Client,
  file: string,
  loaded: LoadedState,
  prune: boolean,
  updateSecrets = false,
  clusterDryRun = false,
): Promise<Planned> {
  // Relative secret files start at the state file (standard input: the working directory).
  const baseDir = file === '-' ? process.cwd() : path.dirname(path.resolve(file));
  checkSecrets(loaded.state, file, baseDir);
  const current = await readCurrent(client);
  const diff = diffState(loaded.state, loaded.present, current, prune, { baseDir, updateSecrets });
  if (diff.problems.length > 0) throw new StateFileError(file, diff.problems);
  if (diff.steps.length === 0) return { diff, report: null };
  if (diff.steps.length > SERVER_PLAN_LIMIT) {
    throw new StateFileError(file, [
      {
        path: '',
        message: `${diff.steps.length} changes; the server plans at most ${SERVER_PLAN_LIMIT} at once: apply the file in parts`,
      },
    ]);
  }
  const { body } = await client.request<PlanReport>('POST', 'v1/plan', {
    body: {
      changes: resolveSecrets(
        diff.steps.map((s) => s.change),
        file,
      ),
      // The cluster pre-flight: each affected cluster's agent server-side applies the plan's bundle (dryRun=All).
      ...(clusterDryRun ? { cluster: { dryRun: true } } : {}),
    },
  });
  return { diff, report: body };
}
