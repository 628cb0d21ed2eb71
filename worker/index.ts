import { createApp } from './app';
import { registerAdmin } from './routes/admin';
import { registerAudit } from './routes/v1-audit';
import { registerClusters } from './routes/v1-clusters';
import { registerPrivateNetworks } from './routes/v1-private-networks';
import { registerRoutes } from './routes/v1-routes';
import { registerSplitTunnel } from './routes/v1-split-tunnel';
import { registerSplitTunnelProfiles } from './routes/v1-split-tunnel-profiles';
import { registerTokens } from './routes/v1-tokens';
import { registerTunnels } from './routes/v1-tunnels';
import { registerSystem } from './routes/system';
import { registerAgentApi } from './routes/agent-v1';
import { registerInstall } from './routes/v1-install';
import { registerClusterInfra } from './routes/v1-cluster-infra';
import { registerClusterReports } from './routes/v1-cluster-reports';
import { registerSync } from './routes/v1-sync';
import { runScheduledDrift } from './sync/scheduled';
import { registerTunnelConfig } from './routes/v1-tunnel-config';
import { registerManifests } from './routes/v1-manifests';
import { registerImport } from './routes/v1-import';
import { registerPlan } from './routes/v1-plan';
import { registerMatch } from './routes/v1-match';
import { registerInferenceBackends } from './routes/v1-inference-backends';
import { registerInferenceProxy } from './routes/inference-proxy';
import { registerMl } from './routes/ml';
import { registerWorkloads } from './routes/v1-workloads';
import { registerComposeImport } from './routes/v1-import-compose';

const app = createApp();
registerSystem(app);
registerClusters(app);
registerTunnels(app);
registerRoutes(app);
registerPrivateNetworks(app);
registerSplitTunnel(app);
registerSplitTunnelProfiles(app);
registerTokens(app);
registerAudit(app);
registerAdmin(app);
registerInstall(app);
registerClusterReports(app);
registerClusterInfra(app);
registerAgentApi(app);
registerSync(app);
registerTunnelConfig(app);
registerManifests(app);
registerImport(app);
registerPlan(app);
registerMatch(app);
registerInferenceBackends(app);
registerInferenceProxy(app);
registerMl(app);
registerWorkloads(app);
registerComposeImport(app);

export { ClusterNotifier } from './durable/cluster-notifier';
export { AccountWriter } from './sync/account-writer';
export { TokenBudget } from './sync/token-budget';

export default {
  fetch: app.fetch,
  scheduled: (_controller, env, ctx) => ctx.waitUntil(runScheduledDrift(env)),
} satisfies ExportedHandler<Env>;
