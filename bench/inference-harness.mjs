// What the inference benches share (not a bench itself: run.mjs only runs *.bench.mjs): the Triton-protocol fake
// (test/fakes/triton/serve.ts) as its own process, and edgeplane from the `wrangler deploy --dry-run` bundle in
// Miniflare with wrangler.toml's bindings beside a bare pass-through Worker, both in one workerd and each on its own
// direct socket; requests go from `node:http` with keep-alive, one at a time. See inference-proxy.bench.mjs.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const devToken = 'bench-dev-admin-token-0123456789';

export const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
};
export const ms = (v) => `${v.toFixed(3)} ms`;

/** A seeded shuffle (mulberry32), so a run's call order can be repeated. */
export function shuffler(seed = 1) {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (items) => {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  };
}
export const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

const BARE_WORKER = `export default {
  fetch(request, env) {
    const url = new URL(request.url);
    return fetch(env.UPSTREAM + url.pathname + url.search, request);
  },
};`;

/**
 * One request over a keep-alive agent: elapsed ms, status, headers, response bytes and the body; with `discard` the
 * body is only counted (a 64 MiB answer is not held, so the client costs every way the same).
 */
export function send(agent, url, { method = 'GET', headers = {}, body, discard = false } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const request = http.request(url, { method, agent, headers }, (response) => {
      const chunks = [];
      let bytes = 0;
      response.on('data', (chunk) => {
        bytes += chunk.length;
        if (!discard) chunks.push(chunk);
      });
      response.on('end', () => {
        const data = discard ? undefined : Buffer.concat(chunks);
        resolve({ elapsed: performance.now() - started, status: response.statusCode, headers: response.headers, bytes, data });
      });
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** A keep-alive agent with one socket, so every request of a way reuses one connection as a client would. */
export const oneSocket = () => new http.Agent({ keepAlive: true, maxSockets: 1 });

/**
 * Starts the fake Triton and both Workers; `run(ctx)` gets the origin, the two Workers' URLs and an admin call.
 * Everything is stopped afterwards, whatever happens. `builds` adds edgeplane Workers built from other source trees
 * (`{ name, tree }`, e.g. a git worktree of another commit) beside this tree's, in the same workerd and on the same
 * D1, each with the same bindings; `run` gets their URLs as `builds` (bench/inference-ab.mjs).
 */
export async function withInferenceWorkers(run, { builds = [] } = {}) {
  const requireFromWrangler = createRequire(createRequire(path.join(root, 'package.json')).resolve('wrangler/package.json'));
  const { Miniflare, convertV4MiniflareOptions } = requireFromWrangler('miniflare');
  const wrangler = await import('wrangler');
  const work = mkdtempSync(path.join(tmpdir(), 'edgeplane-inference-bench-'));
  const persist = path.join(work, 'state');
  const bundleDir = path.join(work, 'bundle');
  const runWrangler = (args, cwd = root) => {
    const result = spawnSync('npx', ['wrangler', ...args], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, CI: '1', WRANGLER_SEND_METRICS: 'false' },
    });
    if (result.status !== 0) throw new Error(`wrangler ${args.join(' ')} failed: ${result.stderr || result.stdout}`);
  };
  let mf;
  let origin;
  try {
    origin = spawn(path.join(root, 'node_modules/.bin/tsx'), [path.join(root, 'test/fakes/triton/serve.ts')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const originUrl = await new Promise((resolve, reject) => {
      createInterface({ input: origin.stdout }).once('line', resolve);
      origin.once('exit', (code) => reject(new Error(`the Triton fake exited with ${code}`)));
    });
    runWrangler(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist]);
    runWrangler(['deploy', '--dry-run', '--outdir', bundleDir]);
    const optionsOf = (tree) => {
      const { workerOptions } = wrangler.unstable_getMiniflareWorkerOptions(path.join(tree, 'wrangler.toml'));
      delete workerOptions.modulesRules;
      return workerOptions;
    };
    const workerOptions = optionsOf(root);
    const encryptionKey = randomBytes(32).toString('base64');
    /** An edgeplane Worker from a bundle, with the bench's bindings over its wrangler.toml's. */
    const edgeplaneWorker = (name, options, dir) => ({
      ...options,
      name,
      rootPath: dir,
      modules: true,
      scriptPath: path.join(dir, 'index.js'),
      unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
      bindings: {
        ...options.bindings,
        // Counted as in production (calls leased from the token's rate object), but never refusing the bench.
        EDGEPLANE_INFERENCE_RATE_PER_MINUTE: '1000000000',
        ENVIRONMENT: 'development',
        EDGEPLANE_DEV_ADMIN_TOKEN: devToken,
        EDGEPLANE_ENCRYPTION_KEY: encryptionKey,
        EDGEPLANE_SYNC_DEBOUNCE_MS: '3600000',
      },
    });
    const others = builds.map(({ name, tree }) => {
      const dir = path.join(work, `bundle-${name}`);
      runWrangler(['deploy', '--dry-run', '--outdir', dir], path.resolve(tree));
      return edgeplaneWorker(`build-${name}`, optionsOf(path.resolve(tree)), dir);
    });
    mf = new Miniflare(
      convertV4MiniflareOptions({
        host: '127.0.0.1',
        port: 0,
        resourcePersistencePath: path.join(persist, 'v3'),
        logRequests: false,
        workers: [
          edgeplaneWorker('edgeplane', workerOptions, bundleDir),
          ...others,
          {
            name: 'bare',
            compatibilityDate: workerOptions.compatibilityDate,
            compatibilityFlags: workerOptions.compatibilityFlags,
            modules: true,
            script: BARE_WORKER,
            bindings: { UPSTREAM: originUrl },
            unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
          },
        ],
      }),
    );
    await mf.ready;
    const edgeplane = (await mf.unsafeGetDirectURL('edgeplane')).href.replace(/\/$/, '');
    const bare = (await mf.unsafeGetDirectURL('bare')).href.replace(/\/$/, '');
    const admin = async (method, url, body) => {
      const response = await fetch(`${edgeplane}${url}`, {
        method,
        headers: { authorization: `Bearer ${devToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (response.status >= 400) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
      return response.json();
    };
    /** The fake's control calls for one instance (`<origin>/i/<instance>` is a backend's upstream URL). */
    const fake = (instance) => ({
      url: `${originUrl}/i/${instance}`,
      received: async () => (await fetch(`${originUrl}/__fake/${instance}/requests`)).json(),
      set: async (switches) =>
        void (await (await fetch(`${originUrl}/__fake/${instance}/switch`, { method: 'POST', body: JSON.stringify(switches) })).text()),
    });
    const buildUrls = {};
    for (const { name } of builds) buildUrls[name] = (await mf.unsafeGetDirectURL(`build-${name}`)).href.replace(/\/$/, '');
    await run({ originUrl, edgeplane, bare, admin, fake, builds: buildUrls });
  } finally {
    await mf?.dispose();
    origin?.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
}
