import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Cluster, PrivateNetwork, Route, SplitTunnelEntry, Tunnel } from '../../../src/shared/api';
import { type Current, exportState } from '../../../cli/current';
import { diffState } from '../../../cli/diff';
import { formatPath, parseState, StateFileError } from '../../../cli/state-file';

// The CLI's diff between a state file and what the Worker lists: what it owns, what it never touches, what it refuses.

const ACCOUNT = '0123456789abcdef0123456789abcdef';
const meta = (n: number) => ({ etag: `"v${n}"`, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' });

const cluster = (id: string): Cluster => ({
  id,
  name: id,
  labels: {},
  nodes: [],
  desiredRevision: 1,
  appliedRevision: null,
  connection: 'never',
  lastSeenAt: null,
  agentVersion: null,
  kubernetesVersion: null,
  nodeCount: null,
  apiServerAddress: '10.43.0.1',
  prune: { maxDeletes: 25, windowMinutes: 10 },
  agentCredential: null,
  reregistrationRequestedAt: null,
  ...meta(1),
});
const tunnel = (id: string, clusterId: string): Tunnel => ({
  id,
  cluster: clusterId,
  account: ACCOUNT,
  name: `${clusterId}-${id}`,
  cloudflareTunnelId: null,
  placement: { type: 'cluster', replicas: 2 },
  mode: { type: 'direct' },
  originRequest: {},
  catchAll: 'http_status:404',
  driftPolicy: 'alert',
  warpRouting: false,
  hasToken: false,
  ...meta(2),
});
const route = (id: string, tunnelId: string, hostname: string): Route => ({
  id,
  tunnel: tunnelId,
  hostname,
  path: null,
  pathRegex: null,
  origin: { url: 'http://web.apps:80' },
  originKind: 'http',
  originRequest: {},
  dns: true,
  access: null,
  ...meta(3),
});
const network = (id: string, tunnelId: string, cidr: string): PrivateNetwork => ({
  id,
  tunnel: tunnelId,
  cidr,
  virtualNetworkId: null,
  comment: '',
  ...meta(4),
});
const entry = (id: string, host: string, owner: 'edgeplane' | 'foreign'): SplitTunnelEntry => ({
  id,
  profile: 'default',
  mode: 'include',
  address: null,
  host,
  description: '',
  owner,
  ...meta(5),
});

function at<T>(list: T[], index: number): T {
  const item = list[index];
  if (item === undefined) throw new Error(`no item ${index}`);
  return item;
}

const current: Current = {
  clusters: [cluster('mine'), cluster('theirs')],
  tunnels: [tunnel('t1', 'mine'), tunnel('t2', 'mine'), tunnel('x1', 'theirs')],
  routes: [route('rt_1', 't1', 'a.example.com'), route('rt_2', 't1', 'b.example.com'), route('rt_3', 'x1', 'x.example.com')],
  privateNetworks: [network('pn_1', 't1', '10.0.0.0/16')],
  splitTunnel: [entry('st_1', 'mine.example.com', 'edgeplane'), entry('st_2', 'foreign.example.com', 'foreign')],
  workloads: [],
  inferenceBackends: [],
  mlBackends: [],
};

/** The file `export` writes for `current`, restricted to cluster "mine" and edited by `edit`. */
function file(edit: (state: Record<string, unknown> & { tunnels: Record<string, unknown>[] }) => void) {
  const exported = exportState(current) as unknown as Record<string, unknown> & {
    tunnels: Record<string, unknown>[];
    clusters: { id: string }[];
  };
  exported.clusters = exported.clusters.filter((c) => c.id === 'mine');
  exported.tunnels = exported.tunnels.filter((t) => t.cluster === 'mine');
  edit(exported);
  return parseState(stringify(exported), 'state.yaml');
}

describe('diffState', () => {
  it('an exported state has no changes, with or without prune', () => {
    const loaded = parseState(stringify(exportState(current)), 'state.yaml');
    for (const prune of [false, true]) {
      const diff = diffState(loaded.state, loaded.present, current, prune);
      expect(diff).toEqual({ steps: [], unnamed: [], problems: [] });
    }
  });

  it('prune deletes only what the file owns: never another cluster, never a foreign entry', () => {
    const loaded = file((s) => {
      s.tunnels = s.tunnels.filter((t) => t.id === 't1');
      (s.tunnels[0] as { routes: unknown[] }).routes = [];
      s.splitTunnel = [];
    });
    const kept = diffState(loaded.state, loaded.present, current, false);
    expect(kept.steps).toEqual([]);
    expect(kept.unnamed).toHaveLength(4);
    const pruned = diffState(loaded.state, loaded.present, current, true);
    expect(pruned.steps.map((s) => [s.change.action, s.request.path, s.request.ifMatch])).toEqual([
      ['route.delete', 'v1/routes/rt_1', '"v3"'],
      ['route.delete', 'v1/routes/rt_2', '"v3"'],
      ['splitTunnel.delete', 'v1/split-tunnel/st_1', '"v5"'],
      ['tunnel.delete', 'v1/tunnels/t2?cascade=true', '"v2"'],
    ]);
  });

  it('a file without a splitTunnel list leaves every split-tunnel entry alone', () => {
    const loaded = file((s) => delete s.splitTunnel);
    expect(diffState(loaded.state, loaded.present, current, true).steps).toEqual([]);
  });

  it('orders creates by dependency and sends If-Match with every update', () => {
    const loaded = file((s) => {
      s.clusters = [...(s.clusters as object[]), { id: 'new-c', name: 'new' }];
      s.tunnels.push({
        id: 'nt',
        cluster: 'new-c',
        account: ACCOUNT,
        routes: [{ hostname: 'n.example.com', origin: { url: 'http://n:80' } }],
      });
      at(s.tunnels, 0).catchAll = 'http_status:503';
    });
    const diff = diffState(loaded.state, loaded.present, current, false);
    expect(diff.steps.map((s) => `${s.change.action} ${s.request.ifMatch ?? ''}`.trim())).toEqual([
      'cluster.create',
      'tunnel.update "v2"',
      'tunnel.create',
      'route.create',
    ]);
    expect(diff.steps[1]?.fields).toEqual([{ field: 'catchAll', before: 'http_status:404', after: 'http_status:503' }]);
  });

  it('reports what the API cannot change and names the field', () => {
    const loaded = file((s) => {
      at(s.tunnels, 1).cluster = 'theirs';
      s.tunnels.push({ ...s.tunnels[0], cluster: 'mine' });
    });
    expect(diffState(loaded.state, loaded.present, current, false).problems.map((p) => p.path)).toEqual([
      'tunnels[2].id',
      'tunnels[2].routes[0].hostname',
      'tunnels[2].routes[1].hostname',
      'tunnels[1].cluster',
    ]);
  });
});

describe('state file parsing', () => {
  it('names the offending field like a reader would', () => {
    expect(formatPath(['tunnels', 1, 'routes', 0, 'hostname'])).toBe('tunnels[1].routes[0].hostname');
    expect(() => parseState('tunnels:\n  - id: Bad_Id\n', 'x.yaml')).toThrow(StateFileError);
    let problems: unknown;
    try {
      parseState('clusters: [{id: c, name: c}]\nextra: 1\n', 'x.yaml');
    } catch (error) {
      problems = (error as StateFileError).problems;
    }
    expect(problems).toEqual([{ path: '', message: expect.stringContaining('extra') as string }]);
  });
});
