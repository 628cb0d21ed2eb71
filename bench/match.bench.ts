// The route tester's matcher (issue 17): 10,000 URLs against a 1,000-rule compiled config, per URL, exactly as
// cloudflared decides (src/shared/cloudflared/matcher.ts: Host port dropped, byte-for-byte hostnames and punycode
// aliases, `*.` wildcards at any depth, unanchored RE2 path regexes on the decoded path).
// Baseline in the same run: the cheapest scan that still looks at every rule per URL — the first rule whose hostname
// equals the URL's host by ===, no path test — so the ratio is what cloudflared's semantics cost over a bare linear
// scan. Beside it, the compile of the same 1,000 routes (compile.bench.ts's subject) for scale.
// Run: `npm run bench match` (or `npx tsx bench/match.bench.ts`). Env: BENCH_URLS (10000), BENCH_RULES (1000).
import { pathToFileURL } from 'node:url';
import type { Route, Tunnel } from '../src/shared/api';
import { matchRequest, parseRequestUrl, validateIngress } from '../src/shared/cloudflared';
import { checkTunnelConfig, compileTunnelConfig, type DesiredTunnel, originKindOf } from '../src/shared/compiler';

const URLS = Number(process.env.BENCH_URLS ?? 10_000);
const RULES = Number(process.env.BENCH_RULES ?? 1000);
const meta = { etag: '"1.0"', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' };

/**
 * `count` routes over count/4 hostnames: exact names, `*.` wildcards (every fifth), unicode names (every seventh,
 * matched through their punycode alias), and per hostname a no-path route, path prefixes, and path regexes.
 */
function desiredTunnel(count: number): DesiredTunnel {
  const tunnel: Tunnel = {
    id: 'edge',
    cluster: 'oceanid',
    account: '0123456789abcdef0123456789abcdef',
    name: 'oceanid-edge',
    cloudflareTunnelId: null,
    placement: { type: 'cluster', replicas: 2 },
    mode: { type: 'direct' },
    originRequest: {},
    catchAll: 'http_status:404',
    driftPolicy: 'alert',
    warpRouting: false,
    hasToken: false,
    ...meta,
  };
  const hostnames = Math.max(1, Math.floor(count / 4));
  const routes: Route[] = Array.from({ length: count }, (_, i) => {
    const h = i % hostnames;
    const depth = Math.floor(i / hostnames);
    const hostname = h % 5 === 0 ? `*.zone${h}.example.com` : h % 7 === 0 ? `bücher${h}.example.com` : `app${h}.example.com`;
    const origin = { url: `http://10.0.${h % 250}.${depth + 1}:8080` };
    const paths =
      depth === 0
        ? { path: null, pathRegex: null }
        : depth % 2 === 1
          ? { path: `/api/v${depth}`, pathRegex: null }
          : { path: null, pathRegex: `^/u/[0-9]+/v${depth}\\.(png|jpg)$` };
    return {
      id: `rt_${i}`,
      tunnel: 'edge',
      hostname,
      ...paths,
      origin,
      originKind: originKindOf(origin, {}),
      originRequest: {},
      dns: true,
      access: null,
      ...meta,
    };
  });
  return { tunnel, routes, privateNetworks: [] };
}

/** URLs that hit rules at every position, through every kind of match, and miss (the catch-all answers). */
function urls(count: number, hostnames: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const h = (i * 7919) % hostnames;
    const host = h % 5 === 0 ? `a.b.zone${h}.example.com` : h % 7 === 0 ? `xn--bcher${h}-kva.example.com` : `app${h}.example.com`;
    switch (i % 5) {
      case 0:
        return `https://${host}/api/v1/items?x=1`;
      case 1:
        return `https://${host}:443/u/${i}/v2.png`;
      case 2:
        return `https://${host}/static/%E2%9C%93.css`;
      case 3:
        return `https://nope${i}.example.org/`; // no hostname matches: every rule is tried
      default:
        return `https://${host}/api/v3`;
    }
  });
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

/** Runs the benchmark and prints its figures. */
export function run(rounds = 15): { perUrlUs: number; baselinePerUrlUs: number; ratio: number } {
  const desired = desiredTunnel(RULES);
  const config = compileTunnelConfig(desired);
  const checked = checkTunnelConfig(config);
  if (!checked.ok) throw new Error(`the bench config would be refused: ${checked.problem.message}`);
  const rules = checked.rules;
  const list = urls(URLS, Math.max(1, Math.floor(RULES / 4)));
  const hosts = config.ingress.map((r) => r.hostname ?? '');

  let sink = 0;
  const match = () => {
    for (const url of list) {
      const parsed = parseRequestUrl(url);
      if (parsed.ok) sink += matchRequest(rules, parsed.request).index;
    }
  };
  const baseline = () => {
    for (const url of list) {
      const host = url.slice(url.indexOf('//') + 2).split(/[/:]/)[0] ?? '';
      let index = hosts.length - 1;
      for (let r = 0; r < hosts.length; r++) {
        if (hosts[r] === host) {
          index = r;
          break;
        }
      }
      sink += index;
    }
  };
  const compile = () => {
    sink += validateIngress(
      compileTunnelConfig(desired).ingress.map((r) => ({
        hostname: r.hostname ?? '',
        path: r.path ?? '',
        service: r.service,
        originRequest: {},
      })),
    ).ok
      ? 1
      : 0;
  };

  const times = { match: [] as number[], baseline: [] as number[], compile: [] as number[] };
  for (let round = -2; round < rounds; round++) {
    // Alternating, so all three see the same machine load; the first two rounds warm the JIT and are dropped.
    for (const [name, fn] of [
      ['match', match],
      ['baseline', baseline],
      ['compile', compile],
    ] as const) {
      const start = performance.now();
      fn();
      if (round >= 0) times[name].push(performance.now() - start);
    }
  }
  if (sink === -1) console.log(sink); // keeps the results observable
  const perUrlUs = (median(times.match) * 1000) / list.length;
  const baselinePerUrlUs = (median(times.baseline) * 1000) / list.length;
  const ratio = perUrlUs / baselinePerUrlUs;
  const hits = list.filter((u) => {
    const parsed = parseRequestUrl(u);
    return parsed.ok && !matchRequest(rules, parsed.request).catchAll;
  }).length;
  console.log(`match: ${list.length} URLs against ${rules.length} rules (${hits} served by a route, the rest by the catch-all)`);
  console.log(
    `match: ${perUrlUs.toFixed(2)} µs per URL (median of ${rounds} rounds), baseline === scan ${baselinePerUrlUs.toFixed(2)} µs per URL, ratio ${ratio.toFixed(1)}`,
  );
  console.log(`match: beside it, compiling and validating the ${RULES}-route config takes ${median(times.compile).toFixed(2)} ms`);
  return { perUrlUs, baselinePerUrlUs, ratio };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) run();
