/** The agent's counters and gauges, rendered as Prometheus text on /metrics. */
export class Metrics {
  syncs = { ok: 0, failed: 0, offline: 0 };
  applyDurationSecondsSum = 0;
  applyDurationSecondsCount = 0;
  lastApplyDurationSeconds = 0;
  lastAppliedRevision = 0;
  conflicts = 0;
  conflictsTotal = 0;
  pruned = 0;
  workerReachable = 1;
  notifyConnected = 0;
  lastSyncAt = 0;

  render(extra: { apiserverWrites: number; workerRequests: number }): string {
    const lines = [
      '# HELP edgeplane_agent_syncs_total Sync passes by result.',
      '# TYPE edgeplane_agent_syncs_total counter',
      ...Object.entries(this.syncs).map(([result, n]) => `edgeplane_agent_syncs_total{result="${result}"} ${n}`),
      '# HELP edgeplane_agent_apply_duration_seconds Time to converge the cluster to a bundle.',
      '# TYPE edgeplane_agent_apply_duration_seconds summary',
      `edgeplane_agent_apply_duration_seconds_sum ${this.applyDurationSecondsSum}`,
      `edgeplane_agent_apply_duration_seconds_count ${this.applyDurationSecondsCount}`,
      '# HELP edgeplane_agent_last_apply_duration_seconds Duration of the last converge.',
      '# TYPE edgeplane_agent_last_apply_duration_seconds gauge',
      `edgeplane_agent_last_apply_duration_seconds ${this.lastApplyDurationSeconds}`,
      '# HELP edgeplane_agent_last_applied_revision The last desired revision applied completely.',
      '# TYPE edgeplane_agent_last_applied_revision gauge',
      `edgeplane_agent_last_applied_revision ${this.lastAppliedRevision}`,
      '# HELP edgeplane_agent_conflicts Field-ownership conflicts in the last converge.',
      '# TYPE edgeplane_agent_conflicts gauge',
      `edgeplane_agent_conflicts ${this.conflicts}`,
      '# HELP edgeplane_agent_conflicts_total Field-ownership conflicts seen.',
      '# TYPE edgeplane_agent_conflicts_total counter',
      `edgeplane_agent_conflicts_total ${this.conflictsTotal}`,
      '# HELP edgeplane_agent_pruned_total Objects deleted by pruning.',
      '# TYPE edgeplane_agent_pruned_total counter',
      `edgeplane_agent_pruned_total ${this.pruned}`,
      '# HELP edgeplane_agent_apiserver_writes_total Write requests sent to the Kubernetes API.',
      '# TYPE edgeplane_agent_apiserver_writes_total counter',
      `edgeplane_agent_apiserver_writes_total ${extra.apiserverWrites}`,
      '# HELP edgeplane_agent_worker_requests_total Requests sent to the edgeplane Worker.',
      '# TYPE edgeplane_agent_worker_requests_total counter',
      `edgeplane_agent_worker_requests_total ${extra.workerRequests}`,
      '# HELP edgeplane_agent_worker_reachable 1 when the last call to the Worker succeeded.',
      '# TYPE edgeplane_agent_worker_reachable gauge',
      `edgeplane_agent_worker_reachable ${this.workerReachable}`,
      '# HELP edgeplane_agent_notify_connected 1 while the notify WebSocket is open.',
      '# TYPE edgeplane_agent_notify_connected gauge',
      `edgeplane_agent_notify_connected ${this.notifyConnected}`,
      '# HELP edgeplane_agent_resident_memory_bytes Resident set size of the agent process.',
      '# TYPE edgeplane_agent_resident_memory_bytes gauge',
      `edgeplane_agent_resident_memory_bytes ${process.memoryUsage.rss()}`,
      '# HELP edgeplane_agent_heap_used_bytes V8 heap in use.',
      '# TYPE edgeplane_agent_heap_used_bytes gauge',
      `edgeplane_agent_heap_used_bytes ${process.memoryUsage().heapUsed}`,
    ];
    return `${lines.join('\n')}\n`;
  }
}
