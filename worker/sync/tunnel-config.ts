import type { ConfigurationUpdateParams } from 'cloudflare/resources/zero-trust/tunnels/cloudflared/configurations';
import {
  canonicalJson,
  checkTunnelConfig,
  compileTunnelConfig,
  normalizeTunnelConfig,
  sha256Hex,
  type TunnelConfig,
} from '../../src/shared/compiler';
import { SyncProblem } from './context';
import type { SyncContext } from './context';
import { loadTunnelState } from './desired';
import { markSuccess, readSync, syncKey } from './sync-state';

/** What a tunnel-config reconcile did, for counting writes in tests and the bench. */
export type ConfigOutcome = 'absent' | 'unchanged' | 'written' | 'drift-reported' | 'waiting-for-tunnel';

export interface ConfigOptions {
  /** `outbox`: desired state changed, write it. `drift`: a scheduled check; write only under driftPolicy `revert`. */
  mode: 'outbox' | 'drift';
}

/** A catch-all only config: what a tunnel being deleted is left with so no hostname is routed through it any more. */
export const EMPTY_CONFIG: TunnelConfig = { ingress: [{ service: 'http_status:404' }] };

/**
 * The SDK's types still say every ingress rule needs a hostname and know no `warp-routing` (schema defect 1 and SDK
 * drift, see test/fixtures/cloudflare-api/README.md); the compiled config is what the API takes.
 */
export const asSdkConfig = (config: TunnelConfig): ConfigurationUpdateParams.Config =>
  config as unknown as ConfigurationUpdateParams.Config;

/** Reconciles one tunnel's remote config with the compiled desired config: one GET, and a PUT only when they differ. */
export async function reconcileTunnelConfig(ctx: SyncContext, tunnelId: string, options: ConfigOptions): Promise<ConfigOutcome> {
  const state = await loadTunnelState(ctx, tunnelId);
  if (!state) return 'absent'; // deleted: the tunnel's own delete clears its config
  const cfId = state.row.cloudflareTunnelId;
  if (!cfId) return 'waiting-for-tunnel'; // the tunnel row creates it first and then reconciles this config
  const desired = compileTunnelConfig(state.desired);
  // The backstop behind the route writes' own check: a config cloudflared would refuse is never PUT (the connector
  // would keep failing to load it). The target shows the error and retries; the remote config stays as it was.
  const loads = checkTunnelConfig(desired);
  if (!loads.ok) {
    throw new SyncProblem(
      `not pushed: cloudflared would refuse this tunnel's compiled config: ${loads.problem.message}${loads.problem.index === null ? '' : ` (rule "${desired.ingress[loads.problem.index]?.hostname ?? 'catch-all'}")`}`,
    );
  }
  const desiredJson = canonicalJson(desired);
  const desiredHash = sha256Hex(desiredJson);
  const previous = await readSync(ctx, syncKey('tunnel_config', tunnelId));
  const remote = await ctx.cf.zeroTrust.tunnels.cloudflared.configurations.get(cfId, { account_id: ctx.account });
  // Cloudflare echoes empty objects and defaults (`originRequest: {}`, warp-routing off) that the compiler leaves out:
  // compare in the compiler's canonical form, or a no-op sync would PUT every time.
  const remoteJson = canonicalJson(normalizeTunnelConfig(remote.config) ?? remote.config ?? null);
  const remoteVersion = typeof remote.version === 'number' ? remote.version : null;
  if (remoteJson === desiredJson) {
    await markSuccess(ctx, 'tunnel_config', tunnelId, {
      remoteVersion,
      pushedHash: desiredHash,
      drift: null,
      driftCheckedAt: ctx.now().toISOString(),
    });
    return 'unchanged';
  }
  // Someone changed the remote config since we last wrote or confirmed it (dashboard, API, another tool).
  const editedElsewhere = previous?.remoteVersion != null && remoteVersion !== previous.remoteVersion;
  const at = ctx.now().toISOString();
  const summary = editedElsewhere
    ? `remote config was changed outside edgeplane (version ${previous?.remoteVersion ?? '?'} → ${remoteVersion ?? '?'})`
    : 'remote config differs from the desired config';
  if (options.mode === 'drift' && state.row.driftPolicy !== 'revert') {
    await markSuccess(ctx, 'tunnel_config', tunnelId, {
      remoteVersion,
      drift: { detectedAt: at, summary, reverted: false },
      driftCheckedAt: at,
    });
    return 'drift-reported';
  }
  const written = await ctx.cf.zeroTrust.tunnels.cloudflared.configurations.update(cfId, {
    account_id: ctx.account,
    config: asSdkConfig(desired),
  });
  const drift = options.mode === 'drift' || editedElsewhere ? { detectedAt: at, summary, reverted: true } : null;
  await markSuccess(ctx, 'tunnel_config', tunnelId, {
    remoteVersion: typeof written.version === 'number' ? written.version : null,
    pushedHash: desiredHash,
    drift,
    driftCheckedAt: at,
  });
  return 'written';
}
