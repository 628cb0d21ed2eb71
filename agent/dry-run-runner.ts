import { dryRunBundle } from './dry-run';
import type { Kube, KObject } from './kube';
import { log } from './log';
import type { Transport } from './transport';

/**
 * Runs the plans' cluster pre-flights (ADR 0015): on a `{"dryRun": id}` notification (and when the notify socket
 * opens, for one that arrived while it was down) it fetches the dry runs waiting for this cluster, server-side applies
 * each bundle with dryRun=All and posts the verdicts. Runs are serialised; a trigger during a run makes one more.
 * Nothing is written to the cluster, so it runs beside the sync loop.
 */
export class DryRunner {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly kube: Kube,
    private readonly transport: Pick<Transport, 'fetchDryRuns' | 'postDryRun'>,
  ) {}

  /** Asks for a run; resolves when the runs it caused are done (never rejects). */
  trigger(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.runPending();
        } catch (error) {
          log('warn', 'dry run failed', { error: (error as Error).message });
        }
      } while (this.again);
      this.running = undefined;
    })();
    return this.running;
  }

  private async runPending(): Promise<void> {
    const pending = await this.transport.fetchDryRuns();
    if (!pending.ok) {
      log('warn', 'could not fetch dry runs', { status: pending.status, reason: pending.message });
      return;
    }
    for (const request of pending.value) {
      const started = performance.now();
      const objects = await dryRunBundle(this.kube, request.objects as KObject[]);
      const version = await this.kube.version();
      const sent = await this.transport.postDryRun(request.id, {
        objects,
        ...(version.ok && version.value.gitVersion ? { kubernetesVersion: version.value.gitVersion } : {}),
      });
      log(sent.ok ? 'info' : 'warn', sent.ok ? 'dry run reported' : 'dry run not delivered', {
        id: request.id,
        objects: objects.length,
        ms: Math.round(performance.now() - started),
        ...(sent.ok ? {} : { status: sent.status, reason: sent.message }),
      });
    }
  }
}
