import { systemClock } from '../clock';
import { openDb, type Deps } from '../deps';
import { configOf } from '../env';
import { runDueProbeSchedules } from './probes';

/** The Cron Trigger's share of diagnostics: runs the probe schedules that are due. */
export async function runScheduledProbes(env: Env, ctx: Pick<ExecutionContext, 'waitUntil'>): Promise<void> {
  const deps: Deps = {
    db: openDb(env.DB),
    config: configOf(env),
    env,
    now: systemClock,
    requestId: `cron-${systemClock().toISOString()}`,
    actor: { id: 'cron:probe-schedules', role: 'admin' },
    defer: (work) => ctx.waitUntil(work),
  };
  try {
    await runDueProbeSchedules(deps);
  } catch (error) {
    console.error(JSON.stringify({ event: 'probe_schedules_failed', error: String(error) }));
  }
}
