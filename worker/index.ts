import { createApp, createInferenceApp } from './app';
import { isInferencePath } from './inference-path';
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
import { registerMe } from './routes/v1-me';
import { registerAgentApi } from './routes/agent-v1';
import { registerInstall } from './routes/v1-install';
import { registerAgentRegistration } from './routes/v1-agent-registration';
import { registerClusterInfra } from './routes/v1-cluster-infra';
import { registerClusterReports } from './routes/v1-cluster-reports';
import { registerPruneApprovals } from './routes/v1-prune-approvals';
import { registerSync } from './routes/v1-sync';
import { runScheduledDrift } from './sync/scheduled';
import { registerTunnelConfig } from './routes/v1-tunnel-config';
import { registerManifests } from './routes/v1-manifests';
import { registerImport } from './routes/v1-import';
import { registerPlan } from './routes/v1-plan';
import { registerMatch } from './routes/v1-match';
import { registerInferenceBackends } from './routes/v1-inference-backends';
import { registerInferenceProxy } from './routes/inference-proxy';
import { registerInferenceMetrics } from './routes/v1-inference-metrics';
import { registerInferenceHealth } from './routes/v1-inference-health';
import { registerMl } from './routes/ml';
import { registerWorkloads } from './routes/v1-workloads';
import { registerComposeImport } from './routes/v1-import-compose';
import { registerProbes } from './routes/v1-probes';
import { registerTrace } from './routes/v1-trace';
import { registerInstallLink } from './routes/v1-install-link';
import { registerKubeconfigWarp } from './routes/v1-kubeconfig-warp';
import { registerAgentDryRuns } from './routes/agent-v1-dry-runs';
import { registerClusterDryRuns } from './routes/v1-cluster-dry-runs';
import { runScheduledProbes } from './services/probe-cron';

const app = createApp();
registerSystem(app);
registerMe(app);
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
registerAgentRegistration(app);
registerClusterReports(app);
registerPruneApprovals(app);
registerClusterInfra(app);
registerAgentApi(app);
registerAgentDryRuns(app);
registerSync(app);
registerTunnelConfig(app);
registerManifests(app);
registerImport(app);
registerPlan(app);
registerMatch(app);
registerInferenceBackends(app);
registerInferenceMetrics(app);
registerInferenceHealth(app);
registerMl(app);
registerWorkloads(app);
registerComposeImport(app);
registerProbes(app);
registerTrace(app);
registerInstallLink(app);
registerKubeconfigWarp(app);
registerClusterDryRuns(app);

export { ClusterNotifier } from './durable/cluster-notifier';
export { AccountWriter } from './sync/account-writer';
export { TokenBudget } from './sync/token-budget';
export { InferenceMetrics } from './durable/inference-metrics';
export { InferenceRate } from './durable/inference-rate';

// The inference proxy's paths skip the API's router and middleware (createInferenceApp).
const inference = createInferenceApp();
registerInferenceProxy(inference);

export default {
  fetch: (request: Request, env: Env, ctx: ExecutionContext) =>
    isInferencePath(request.url) ? inference.fetch(request, env, ctx) : app.fetch(request, env, ctx),
  scheduled: (_controller, env, ctx) => ctx.waitUntil(Promise.all([runScheduledDrift(env), runScheduledProbes(env, ctx)])),
} satisfies ExportedHandler<Env>;
