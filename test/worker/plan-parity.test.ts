import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACCOUNT, labelStudio } from './fixtures';
import { api, type Envelope, storeSnapshot, uid } from './helpers';

// The plan runs each change through its endpoint's own decision code. This property holds it to that: for generated
// sequences of changes, the plan's verdict on each change (status, code, message, details) equals what the real
// endpoint answers when the same changes are sent one after another to the same starting state.

interface PlanResult {
  index: number;
  action: string;
  status: number;
  id?: string;
  error?: { code: string; message: string; details?: { path: string; message: string }[] };
}

/**
 * Path regexes: valid ones (one the same text as a prefix, so prefix and regex routes meet on one hostname) and ones
 * Go's regexp.Compile refuses (lookahead, backreference, unclosed bracket, dangling star), which prepare answers 422.
 */
const REGEXES = ['^/api/[0-9]+$', '/api', '\\.php$', '(?=x)', '(a)\\1', '^/[a', '*x'];

/** A change in terms of a small pool of names, so that collisions (duplicates, conflicts, missing ids) happen often. */
type Step =
  | { action: 'route.create'; tunnel: number; host: number; path: number; regex: number | null }
  | { action: 'route.update'; route: number; host?: number; path?: number | null; regex?: number | null }
  | { action: 'route.delete'; route: number }
  | { action: 'tunnel.create'; tunnel: number; node: number; adopt: number | null }
  | { action: 'tunnel.update'; tunnel: number; node?: number; name?: string }
  | { action: 'tunnel.delete'; tunnel: number; cascade: boolean }
  | { action: 'cluster.create'; cluster: number }
  | { action: 'cluster.update'; cluster: number; nodes?: number; name?: string }
  | { action: 'cluster.delete'; cluster: number }
  | { action: 'privateNetwork.create'; tunnel: number; cidr: number }
  | { action: 'privateNetwork.update'; network: number; comment: string }
  | { action: 'privateNetwork.delete'; network: number }
  | { action: 'splitTunnel.create'; host: number; mode: 'include' | 'exclude' }
  | { action: 'splitTunnel.update'; entry: number; description: string }
  | { action: 'splitTunnel.delete'; entry: number }
  | { action: 'workload.create'; workload: number; cluster: number; route: number | null; ports: boolean; secret: number | null }
  | { action: 'workload.update'; workload: number; replicas?: number; route?: number | null; secret?: number | null }
  | { action: 'workload.delete'; workload: number }
  | { action: 'inferenceBackend.create'; backend: number; default: boolean; credentials: boolean }
  | { action: 'inferenceBackend.update'; backend: number; default?: boolean; credentials?: boolean | null }
  | { action: 'inferenceBackend.delete'; backend: number }
  | { action: 'mlBackend.create'; ml: number; backend: number }
  | { action: 'mlBackend.update'; ml: number; backend?: number; choices?: number }
  | { action: 'mlBackend.delete'; ml: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    action: fc.constant('route.create' as const),
    tunnel: fc.nat(2),
    host: fc.nat(2),
    path: fc.nat(2),
    regex: fc.option(fc.nat(REGEXES.length - 1)),
  }),
  fc.record(
    {
      action: fc.constant('route.update' as const),
      route: fc.nat(3),
      host: fc.nat(2),
      path: fc.option(fc.nat(2)),
      regex: fc.option(fc.nat(REGEXES.length - 1)),
    },
    { requiredKeys: ['action', 'route'] },
  ),
  fc.record({ action: fc.constant('route.delete' as const), route: fc.nat(3) }),
  fc.record({ action: fc.constant('tunnel.create' as const), tunnel: fc.nat(2), node: fc.nat(2), adopt: fc.option(fc.nat(1)) }),
  fc.record(
    { action: fc.constant('tunnel.update' as const), tunnel: fc.nat(2), node: fc.nat(2), name: fc.constantFrom('a', 'b') },
    { requiredKeys: ['action', 'tunnel'] },
  ),
  fc.record({ action: fc.constant('tunnel.delete' as const), tunnel: fc.nat(2), cascade: fc.boolean() }),
  fc.record({ action: fc.constant('cluster.create' as const), cluster: fc.nat(1) }),
  fc.record(
    { action: fc.constant('cluster.update' as const), cluster: fc.nat(1), nodes: fc.nat(2), name: fc.constantFrom('x', 'y') },
    { requiredKeys: ['action', 'cluster'] },
  ),
  fc.record({ action: fc.constant('cluster.delete' as const), cluster: fc.nat(1) }),
  fc.record({ action: fc.constant('privateNetwork.create' as const), tunnel: fc.nat(2), cidr: fc.nat(2) }),
  fc.record({ action: fc.constant('privateNetwork.update' as const), network: fc.nat(1), comment: fc.constantFrom('a', 'b') }),
  fc.record({ action: fc.constant('privateNetwork.delete' as const), network: fc.nat(1) }),
  fc.record({
    action: fc.constant('splitTunnel.create' as const),
    host: fc.nat(2),
    mode: fc.constantFrom('include' as const, 'exclude' as const),
  }),
  fc.record({ action: fc.constant('splitTunnel.update' as const), entry: fc.nat(1), description: fc.constantFrom('a', 'b') }),
  fc.record({ action: fc.constant('splitTunnel.delete' as const), entry: fc.nat(1) }),
  fc.record({
    action: fc.constant('workload.create' as const),
    workload: fc.nat(2),
    cluster: fc.nat(1),
    route: fc.option(fc.nat(2)),
    ports: fc.boolean(),
    secret: fc.option(fc.nat(1)),
  }),
  fc.record(
    {
      action: fc.constant('workload.update' as const),
      workload: fc.nat(2),
      replicas: fc.nat(2),
      route: fc.option(fc.nat(2)),
      secret: fc.option(fc.nat(1)),
    },
    { requiredKeys: ['action', 'workload'] },
  ),
  fc.record({ action: fc.constant('workload.delete' as const), workload: fc.nat(2) }),
  fc.record({
    action: fc.constant('inferenceBackend.create' as const),
    backend: fc.nat(1),
    default: fc.boolean(),
    credentials: fc.boolean(),
  }),
  fc.record(
    {
      action: fc.constant('inferenceBackend.update' as const),
      backend: fc.nat(1),
      default: fc.boolean(),
      credentials: fc.option(fc.boolean()),
    },
    { requiredKeys: ['action', 'backend'] },
  ),
  fc.record({ action: fc.constant('inferenceBackend.delete' as const), backend: fc.nat(1) }),
  fc.record({ action: fc.constant('mlBackend.create' as const), ml: fc.nat(1), backend: fc.nat(1) }),
  fc.record(
    { action: fc.constant('mlBackend.update' as const), ml: fc.nat(1), backend: fc.nat(1), choices: fc.nat(2) },
    { requiredKeys: ['action', 'ml'] },
  ),
  fc.record({ action: fc.constant('mlBackend.delete' as const), ml: fc.nat(1) }),
);

/** The names one run's pool indexes stand for; every run has its own, so runs never see each other's resources. */
function pool(run: string, seeded: Seeded) {
  const nodes = ['node-a', 'node-b', 'no-such-node'];
  const { routeIds } = seeded;
  const nodeSets = [[{ name: 'node-a' }, { name: 'node-b' }], [{ name: 'node-a' }], []];
  return {
    cluster: (i: number) => (i === 0 ? seeded.cluster : `${run}-c${i}`),
    nodes: (i: number) => nodeSets[i] ?? [],
    cidr: (i: number) => ['10.20.0.0/16', '10.20.1.0/24', '192.168.7.0/24'][i] ?? '10.99.0.0/16',
    vnet: seeded.vnet,
    profile: seeded.profile,
    network: (i: number) => (i === 0 ? seeded.networkId : `pn_missing_${run}`),
    entry: (i: number) => (i === 0 ? seeded.entryId : `st_missing_${run}`),
    tunnel: (i: number) => `${run}-t${i}`,
    // w0 is seeded (with a route and a secret); the others start missing.
    workload: (i: number) => `${run}-w${i}`,
    // b0 is seeded (not the default, so runs do not block each other's defaults); b1 starts missing.
    backend: (i: number) => `${run}-b${i}`,
    ml: (i: number) => `${run}-m${i}`,
    host: (i: number) => `h${i}.${run}.example.com`,
    path: (i: number) => ['/api', '/api/v2', '/'][i] ?? '/x',
    route: (i: number) => routeIds[i] ?? `rt_missing_${run}`,
    placement: (i: number) => ({ type: 'node', node: nodes[i] ?? 'node-a' }),
    adopt: (i: number) =>
      `00000000-0000-4000-8000-${run
        .replace(/[^0-9a-f]/g, '')
        .padStart(12, '0')
        .slice(-11)}${i}`,
  };
}

type Pool = ReturnType<typeof pool>;

/** The plan change and the HTTP request a step stands for. */
function translate(p: Pool, cluster: string, s: Step) {
  const item = (collection: string, id: string) => `/v1/${collection}/${id}`;
  switch (s.action) {
    case 'route.create': {
      // With a regex the route has no prefix; sometimes both are sent, which the endpoint refuses.
      const paths = s.regex === null ? { path: p.path(s.path) } : { pathRegex: REGEXES[s.regex], ...(s.path === 2 ? { path: '/' } : {}) };
      const route = { tunnel: p.tunnel(s.tunnel), hostname: p.host(s.host), ...paths, origin: labelStudio };
      return { change: { action: s.action, route }, request: ['POST', '/v1/routes', route] as const };
    }
    case 'route.update': {
      const patch = {
        ...(s.host !== undefined ? { hostname: p.host(s.host) } : {}),
        ...(s.path !== undefined ? { path: s.path === null ? null : p.path(s.path) } : {}),
        ...(s.regex !== undefined && (s.path === undefined || s.path === null)
          ? { pathRegex: s.regex === null ? null : REGEXES[s.regex] }
          : {}),
      };
      return {
        change: { action: s.action, id: p.route(s.route), route: patch },
        request: ['PATCH', `/v1/routes/${p.route(s.route)}`, patch] as const,
      };
    }
    case 'route.delete':
      return {
        change: { action: s.action, id: p.route(s.route) },
        request: ['DELETE', `/v1/routes/${p.route(s.route)}`, undefined] as const,
      };
    case 'tunnel.create': {
      const tunnel = {
        id: p.tunnel(s.tunnel),
        cluster,
        account: ACCOUNT,
        placement: p.placement(s.node),
        ...(s.adopt !== null ? { cloudflareTunnelId: p.adopt(s.adopt) } : {}),
      };
      return { change: { action: s.action, tunnel }, request: ['POST', '/v1/tunnels', tunnel] as const };
    }
    case 'tunnel.update': {
      const patch = {
        ...(s.node !== undefined ? { placement: p.placement(s.node) } : {}),
        ...(s.name !== undefined ? { name: `${cluster}-${s.name}` } : {}),
      };
      return {
        change: { action: s.action, id: p.tunnel(s.tunnel), tunnel: patch },
        request: ['PATCH', `/v1/tunnels/${p.tunnel(s.tunnel)}`, patch] as const,
      };
    }
    case 'tunnel.delete':
      return {
        change: { action: s.action, id: p.tunnel(s.tunnel), cascade: s.cascade },
        request: ['DELETE', `/v1/tunnels/${p.tunnel(s.tunnel)}${s.cascade ? '?cascade=true' : ''}`, undefined] as const,
      };
    case 'cluster.create': {
      const body = { id: p.cluster(s.cluster), name: 'made', nodes: p.nodes(0) };
      return { change: { action: s.action, cluster: body }, request: ['POST', '/v1/clusters', body] as const };
    }
    case 'cluster.update': {
      const patch = {
        ...(s.nodes !== undefined ? { nodes: p.nodes(s.nodes) } : {}),
        ...(s.name !== undefined ? { name: s.name } : {}),
      };
      const id = p.cluster(s.cluster);
      return { change: { action: s.action, id, cluster: patch }, request: ['PATCH', item('clusters', id), patch] as const };
    }
    case 'cluster.delete': {
      const id = p.cluster(s.cluster);
      return { change: { action: s.action, id }, request: ['DELETE', item('clusters', id), undefined] as const };
    }
    case 'privateNetwork.create': {
      const body = { tunnel: p.tunnel(s.tunnel), cidr: p.cidr(s.cidr), virtualNetworkId: p.vnet };
      return { change: { action: s.action, privateNetwork: body }, request: ['POST', '/v1/private-networks', body] as const };
    }
    case 'privateNetwork.update': {
      const id = p.network(s.network);
      const patch = { comment: s.comment };
      return {
        change: { action: s.action, id, privateNetwork: patch },
        request: ['PATCH', item('private-networks', id), patch] as const,
      };
    }
    case 'privateNetwork.delete': {
      const id = p.network(s.network);
      return { change: { action: s.action, id }, request: ['DELETE', item('private-networks', id), undefined] as const };
    }
    case 'splitTunnel.create': {
      const body = { profile: p.profile, mode: s.mode, host: p.host(s.host) };
      return { change: { action: s.action, splitTunnel: body }, request: ['POST', '/v1/split-tunnel', body] as const };
    }
    case 'splitTunnel.update': {
      const id = p.entry(s.entry);
      const patch = { description: s.description };
      return { change: { action: s.action, id, splitTunnel: patch }, request: ['PATCH', item('split-tunnel', id), patch] as const };
    }
    case 'splitTunnel.delete': {
      const id = p.entry(s.entry);
      return { change: { action: s.action, id }, request: ['DELETE', item('split-tunnel', id), undefined] as const };
    }
    case 'workload.create': {
      // Without ports a route has no Service to go to (422); `{"secret": true}` on create has no value to keep (422).
      const body = {
        id: p.workload(s.workload),
        cluster: p.cluster(s.cluster),
        namespace: 'apps',
        image: 'nginx:1.27',
        ports: s.ports ? [80] : [],
        ...(s.route !== null ? { route: { tunnel: p.tunnel(s.route), hostname: p.host(s.route) } } : {}),
        ...(s.secret !== null ? { env: { DB_PASSWORD: s.secret === 0 ? { secret: 'hunter2' } : { secret: true } } } : {}),
      };
      return { change: { action: s.action, workload: body }, request: ['POST', '/v1/workloads', body] as const };
    }
    case 'workload.update': {
      const id = p.workload(s.workload);
      const patch = {
        ...(s.replicas !== undefined ? { replicas: s.replicas } : {}),
        ...(s.route !== undefined ? { route: s.route === null ? null : { tunnel: p.tunnel(s.route), hostname: p.host(s.route) } } : {}),
        ...(s.secret !== undefined
          ? { env: s.secret === null ? {} : { DB_PASSWORD: s.secret === 0 ? { secret: 'rotated' } : { secret: true } } }
          : {}),
      };
      return { change: { action: s.action, id, workload: patch }, request: ['PATCH', item('workloads', id), patch] as const };
    }
    case 'workload.delete': {
      const id = p.workload(s.workload);
      return { change: { action: s.action, id }, request: ['DELETE', item('workloads', id), undefined] as const };
    }
    case 'inferenceBackend.create': {
      const body = {
        id: p.backend(s.backend),
        upstreams: [{ url: 'https://triton.example.com' }],
        default: s.default,
        ...(s.credentials ? { credentials: { type: 'bearer', token: 'secret-token' } } : {}),
      };
      return { change: { action: s.action, inferenceBackend: body }, request: ['POST', '/v1/inference/backends', body] as const };
    }
    case 'inferenceBackend.update': {
      const id = p.backend(s.backend);
      const patch = {
        ...(s.default !== undefined ? { default: s.default } : {}),
        ...(s.credentials !== undefined ? { credentials: s.credentials ? { type: 'bearer', token: 'other-token' } : null } : {}),
      };
      return {
        change: { action: s.action, id, inferenceBackend: patch },
        request: ['PATCH', item('inference/backends', id), patch] as const,
      };
    }
    case 'inferenceBackend.delete': {
      const id = p.backend(s.backend);
      return { change: { action: s.action, id }, request: ['DELETE', item('inference/backends', id), undefined] as const };
    }
    case 'mlBackend.create': {
      const body = {
        id: p.ml(s.ml),
        backend: p.backend(s.backend),
        model: 'sentiment',
        task: 'text-classification',
        input: { field: 'text', tensor: 'TEXT' },
        output: { tensor: 'LOGITS' },
      };
      return { change: { action: s.action, mlBackend: body }, request: ['POST', '/v1/ml-backends', body] as const };
    }
    case 'mlBackend.update': {
      const id = p.ml(s.ml);
      const patch = {
        ...(s.backend !== undefined ? { backend: p.backend(s.backend) } : {}),
        ...(s.choices !== undefined ? { choices: ['a', 'b', 'c'].slice(0, s.choices) } : {}),
      };
      return { change: { action: s.action, id, mlBackend: patch }, request: ['PATCH', item('ml-backends', id), patch] as const };
    }
    case 'mlBackend.delete': {
      const id = p.ml(s.ml);
      return { change: { action: s.action, id }, request: ['DELETE', item('ml-backends', id), undefined] as const };
    }
  }
}

interface Seeded {
  cluster: string;
  routeIds: string[];
  networkId: string;
  entryId: string;
  /** Overlap and duplicate checks span every run; a virtual network and a device profile of its own keep runs apart. */
  vnet: string;
  profile: string;
}

/** A cluster with two nodes, one tunnel with two routes and a private network, a split-tunnel entry: one run's start. */
async function seed(run: string): Promise<Seeded> {
  const cluster = `${run}-c`;
  const nodes = [
    { name: 'node-a', role: 'worker' },
    { name: 'node-b', role: 'gpu' },
  ];
  expect((await api('POST', '/v1/clusters', { body: { id: cluster, name: cluster, nodes } })).status).toBe(201);
  expect((await api('POST', '/v1/tunnels', { body: { id: `${run}-t0`, cluster, account: ACCOUNT } })).status).toBe(201);
  const routeIds: string[] = [];
  for (const [host, path] of [
    [`h0.${run}.example.com`, '/api'],
    [`h1.${run}.example.com`, '/'],
  ] as const) {
    const response = await api('POST', '/v1/routes', { body: { tunnel: `${run}-t0`, hostname: host, path, origin: labelStudio } });
    expect(response.status).toBe(201);
    routeIds.push(((await response.json()) as { id: string }).id);
  }
  const own = { vnet: crypto.randomUUID(), profile: crypto.randomUUID() };
  const p = pool(run, { cluster, routeIds, networkId: '', entryId: '', ...own });
  const network = await api('POST', '/v1/private-networks', {
    body: { tunnel: `${run}-t0`, cidr: '10.30.0.0/16', virtualNetworkId: p.vnet },
  });
  expect(network.status).toBe(201);
  const entry = await api('POST', '/v1/split-tunnel', { body: { profile: p.profile, mode: 'include', host: p.host(0) } });
  expect(entry.status).toBe(201);
  // A workload with a route of its own (on a hostname of the pool) and a secret; an inference backend with an ML backend.
  const workload = await api('POST', '/v1/workloads', {
    body: {
      id: p.workload(0),
      cluster,
      namespace: 'apps',
      image: 'nginx:1.27',
      ports: [80],
      env: { DB_PASSWORD: { secret: 'seeded' } },
      route: { tunnel: `${run}-t0`, hostname: p.host(2) },
    },
  });
  expect(workload.status).toBe(201);
  expect(
    (await api('POST', '/v1/inference/backends', { body: { id: p.backend(0), upstreams: [{ url: 'https://gpu.example.com' }] } })).status,
  ).toBe(201);
  const ml = {
    id: p.ml(0),
    backend: p.backend(0),
    model: 'sentiment',
    task: 'text-classification',
    input: { field: 'text', tensor: 'TEXT' },
    output: { tensor: 'LOGITS' },
  };
  expect((await api('POST', '/v1/ml-backends', { body: ml })).status).toBe(201);
  return {
    cluster,
    routeIds,
    networkId: ((await network.json()) as { id: string }).id,
    entryId: ((await entry.json()) as { id: string }).id,
    ...own,
  };
}

describe('POST /v1/plan answers each change exactly as its endpoint does', () => {
  it('for generated sequences of changes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        const run = uid('pp');
        const seeded = await seed(run);
        const { cluster } = seeded;
        const p = pool(run, seeded);
        const translated = steps.map((s) => translate(p, cluster, s));
        const before = await storeSnapshot();
        const planned = await api('POST', '/v1/plan', { role: 'viewer', body: { changes: translated.map((t) => t.change) } });
        expect(planned.status).toBe(200);
        const { results } = (await planned.json()) as { results: PlanResult[] };
        expect(await storeSnapshot()).toEqual(before);
        // A route created by the plan has an id of its own; the real one gets another. Errors naming it are compared
        // with the planned id replaced by the real one.
        const realIds = new Map<string, string>();
        const realName = (text: string) => [...realIds].reduce((t, [planned, real]) => t.replaceAll(planned, real), text);
        // A workload's own route gets an id the plan cannot tell (it answers the workload, not its route): any route id
        // neither seeded nor created by a route change is one of those, and is compared as such.
        const known = () => new Set([...seeded.routeIds, ...realIds.values()]);
        const workloadRoutes = (text: string) => text.replace(/rt_[0-9a-z]{22}/g, (id) => (known().has(id) ? id : 'rt_(a workload route)'));
        for (const [index, { request }] of translated.entries()) {
          const [method, path, body] = request;
          const response = await api(method, path, body === undefined ? {} : { body });
          const verdict = results[index];
          const answer = response.status === 204 ? undefined : ((await response.json()) as Partial<Envelope> & { id?: string });
          const answered = answer?.error as { code: string; message: string; details?: unknown; requestId?: string } | undefined;
          if (answered) delete answered.requestId;
          if (verdict?.action.endsWith('.create') && verdict.id && answer?.id) realIds.set(verdict.id, answer.id);
          const planned = verdict?.error
            ? (JSON.parse(workloadRoutes(realName(JSON.stringify(verdict.error)))) as PlanResult['error'])
            : undefined;
          const real = answered ? (JSON.parse(workloadRoutes(JSON.stringify(answered))) as PlanResult['error']) : undefined;
          expect({ index, status: verdict?.status, error: planned }).toEqual({ index, status: response.status, error: real });
        }
      }),
      { numRuns: 30 },
    );
  }, 120_000);
});
