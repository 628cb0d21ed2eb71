import { parseConfig } from './config';
import { Kube } from './kube';
import { log } from './log';
import { Metrics } from './metrics';
import { runProbeCommand } from './probe-command';
import { DryRunner } from './dry-run-runner';
import { ProbeRunner } from './probe-runner';
import { startServer } from './server';
import { CREDENTIAL_SECRET, newCredential, StateStore } from './state';
import { Syncer, type SyncResult } from './sync';
import { backoff, Transport } from './transport';
import { AGENT_VERSION } from './version';

/** Reads the facts registration reports: the kube-system UID (identity), the version and the node count. */
async function clusterFacts(kube: Kube): Promise<{ identity: string; kubernetesVersion: string; nodeCount: number }> {
  const ns = await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: 'kube-system' });
  if (!ns.ok || !ns.value.metadata.uid)
    throw new Error(`cannot read the kube-system namespace (${ns.status}); the agent needs "get namespaces"`);
  const version = await kube.version();
  const nodes = await kube.list('v1', 'Node');
  return {
    identity: ns.value.metadata.uid,
    kubernetesVersion: version.ok ? version.value.gitVersion : 'unknown',
    nodeCount: nodes.ok ? nodes.value.length : 0,
  };
}

/**
 * A full collection between passes when the runtime allows it (agent/Dockerfile passes --expose-gc). A pass allocates
 * and drops a few MB (list pages, comparisons, the report); left alone V8 promotes that garbage and lets the old
 * generation grow for several passes before collecting. Collecting while idle keeps resident memory at the live set
 * (bench/agent.bench.mjs: the 64 MB budget at 500 objects) for a few milliseconds per pass.
 */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function main(): Promise<void> {
  const config = parseConfig(process.env);
  const kube = await Kube.connect(config.kubeconfig);
  const store = new StateStore(kube, config.namespace);
  const metrics = new Metrics();
  const transport = new Transport(config.url, config.backoffBaseMs, config.backoffMaxMs);
  let stopping = false;
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, ms);
    });

  const { server, port } = await startServer(config.listenPort, {
    health: () => ({
      ok: !stopping,
      body: {
        ok: !stopping,
        cluster: config.clusterId,
        lastAppliedRevision: metrics.lastAppliedRevision,
        worker: metrics.workerReachable ? 'reachable' : 'unreachable',
        notify: metrics.notifyConnected ? 'connected' : 'polling',
      },
    }),
    metrics: () => metrics.render({ apiserverWrites: kube.writes, workerRequests: transport.requests }),
  });
  log('info', 'agent started', {
    version: AGENT_VERSION,
    cluster: config.clusterId,
    namespace: config.namespace,
    worker: config.url,
    port,
  });

  process.on('SIGTERM', () => {
    log('info', 'SIGTERM: finishing the current pass and exiting');
    stopping = true;
    transport.close();
    if (timer) clearTimeout(timer);
    wake?.();
  });

  // Register once. The agent makes its credential and stores it (as not yet registered) before asking the Worker to
  // accept it, so a kill at any point leaves either an unspent token or a stored credential the Worker knows: on
  // restart the same registration is sent again and the Worker answers it as already done.
  let stored = (await store.loadCredential()) ?? (await store.claimCredential(newCredential(config.clusterId)));
  const owner = stored.credential.split('.')[1];
  if (owner !== config.clusterId)
    throw new Error(
      `${config.namespace}/${CREDENTIAL_SECRET} holds the credential of edgeplane cluster "${owner ?? '?'}", not "${config.clusterId}" (EDGEPLANE_CLUSTER_ID changed?); delete that Secret and re-install from GET /v1/clusters/${config.clusterId}/install.yaml`,
    );
  for (let attempt = 0; !stored.registered && !stopping; attempt++) {
    const token = config.bootstrapToken();
    if (!token)
      throw new Error('the agent is not registered and no bootstrap token is mounted; re-install from GET /v1/clusters/<id>/install.yaml');
    const facts = await clusterFacts(kube);
    const registered = await transport.register(token, {
      clusterId: config.clusterId,
      credential: stored.credential,
      agentVersion: AGENT_VERSION,
      ...facts,
    });
    if (registered.ok) {
      stored = { credential: stored.credential, registered: true };
      await store.saveCredential(stored);
      log('info', 'registered', {
        cluster: config.clusterId,
        kubernetesVersion: facts.kubernetesVersion,
        nodes: facts.nodeCount,
        ...(registered.value.replayed ? { completed: 'a registration cut off before its answer' } : {}),
      });
    } else if (registered.status === 0 || registered.status >= 500) {
      log('warn', 'registration failed; retrying', { reason: registered.message });
      await sleep(backoff(attempt, config.backoffBaseMs, config.backoffMaxMs));
    } else throw new Error(`registration refused (${registered.status}): ${registered.message}${refusalHint(registered.status)}`);
  }
  if (!stored.registered) return shutdown();
  transport.setCredential(stored.credential);

  const state = await store.load();
  // A finished egress probe is reported by the next pass, at once rather than at the next timer.
  let probeDone = false;
  const probes = new ProbeRunner({
    kube,
    clusterId: config.clusterId,
    namespace: config.namespace,
    podName: config.podName,
    onDone: () => {
      probeDone = true;
      wake?.();
    },
  });
  const syncer = new Syncer(config.clusterId, kube, transport, store, state, metrics, config.applyConcurrency, probes);
  let notified = 0;
  const dryRuns = new DryRunner(kube, transport);
  transport.openNotify(
    (revision) => {
      notified = revision;
      if (revision !== syncer.cachedRevision) wake?.();
    },
    (connected, reason) => {
      metrics.notifyConnected = connected ? 1 : 0;
      log(connected ? 'info' : 'warn', connected ? 'notify channel open' : 'notify channel down; polling', { reason });
      if (connected) {
        wake?.();
        // A dry run announced while the socket was down is still waiting (for a few minutes): pick it up.
        void dryRuns.trigger();
      }
    },
    () => void dryRuns.trigger(),
  );

  let failures = 0;
  let chased = 0;
  while (!stopping) {
    let result: SyncResult;
    try {
      result = await syncer.sync();
    } catch (error) {
      result = 'failed';
      metrics.syncs.failed++;
      log('error', 'sync pass failed', { error: (error as Error).message });
    }
    if (stopping) break;
    collectGarbage();
    failures = result === 'offline' || result === 'unauthorized' || result === 'failed' ? failures + 1 : 0;
    // A revision that arrived during the pass is fetched at once; otherwise wait for a notification or the timer.
    if (probeDone) {
      probeDone = false;
      continue;
    }
    if (failures === 0 && notified > syncer.cachedRevision && notified !== chased) {
      chased = notified;
      continue;
    }
    const interval = transport.notifyConnected ? config.resyncIntervalMs : config.pollIntervalMs;
    const wait =
      failures > 0
        ? Math.min(interval, backoff(failures, config.backoffBaseMs, config.backoffMaxMs) + config.backoffBaseMs)
        : syncer.healthInProgress
          ? Math.min(interval, 2000)
          : interval;
    await sleep(wait);
  }
  await shutdown();

  async function shutdown(): Promise<void> {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    log('info', 'agent stopped');
  }
}

// `agent probe` is the egress probe run inside each node's Job (agent/probe-command.ts); anything else is the agent.
(process.argv[2] === 'probe' ? runProbeCommand(process.env) : main().then(() => 0)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    log('error', 'agent failed', { error: (error as Error).message });
    process.exit(1);
  },
);

/**
 * What the operator can do about a refused registration: retrying cannot help (the token is spent, revoked or for
 * another cluster, or the cluster already has an agent), so the agent exits with the Worker's reason and this hint.
 */
function refusalHint(status: number): string {
  if (status === 409)
    return ' (to replace the registered agent, an admin requests re-registration naming its credential and installs the new manifest; see docs/security.md)';
  if (status === 401) return ' (the bootstrap token is unknown, used, revoked or expired: apply a new install manifest)';
  return '';
}
