import { env } from 'cloudflare:test';
import { expect } from 'vitest';
import { secretHash } from '../../worker/crypto';
import { api } from './helpers';

// Seeds a large estate quickly: one cluster, tunnel, route, private network and split-tunnel entry are made through the
// API (so every column holds what the Worker itself writes), then cloned in D1 with other ids. Making 2,000 routes
// through the API would take minutes in workerd; the clones differ from the templates only in ids, names and addresses.

export interface Scale {
  account: string;
  clusters: string[];
  tunnels: string[];
  /** The tunnel holding every route (on clusters[0]). */
  bigTunnel: string;
  hostnames: string[];
  routes: string[];
  /** `epa.<cluster>.<secret>` per cluster, as a registered agent holds it. */
  credentials: Map<string, string>;
}

type Row = Record<string, unknown>;

async function template(table: string, id: string): Promise<Row> {
  const row = await env.DB.prepare(`SELECT * FROM ${table} WHERE id = ?`).bind(id).first<Row>();
  expect(row, `${table} ${id}`).toBeTruthy();
  return row ?? {};
}

/** Inserts copies of a template row with per-copy overrides, 400 statements a batch. */
async function clone(table: string, base: Row, copies: Row[]): Promise<void> {
  const columns = Object.keys(base);
  const sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
  for (let i = 0; i < copies.length; i += 400) {
    const statements = copies.slice(i, i + 400).map((copy) => {
      const row = { ...base, ...copy };
      return env.DB.prepare(sql).bind(...columns.map((c) => row[c] ?? null));
    });
    await env.DB.batch(statements);
  }
}

async function created(path: string, body: unknown): Promise<{ id: string }> {
  const response = await api('POST', path, { body });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as { id: string };
}

const pad = (n: number, width = 4) => String(n).padStart(width, '0');

/**
 * `clusters` clusters with one tunnel each (and a private network each); `routes` routes over `hostnames` hostnames
 * (DNS on) all on the first cluster's tunnel; `splitEntries` edgeplane split-tunnel entries; agents registered.
 */
export async function seedScale(
  prefix: string,
  counts: { clusters: number; routes: number; hostnames: number; splitEntries: number },
): Promise<Scale> {
  const account = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
  const c0 = `${prefix}-c0000`;
  const t0 = `${prefix}-t0000`;
  await created('/v1/clusters', { id: c0, name: c0 });
  await created('/v1/tunnels', { id: t0, cluster: c0, account });
  const route = await created('/v1/routes', {
    tunnel: t0,
    hostname: `h0000.${prefix}.example.com`,
    origin: { service: { namespace: 'apps', name: 'web', port: 80 } },
  });
  const network = await created('/v1/private-networks', { tunnel: t0, cidr: '10.0.0.0/24' });
  const entry = await created('/v1/split-tunnel', { account, profile: 'default', mode: 'include', address: '10.200.0.0/32' });

  const clusterRow = await template('clusters', c0);
  const clusters = [c0, ...Array.from({ length: counts.clusters - 1 }, (_, i) => `${prefix}-c${pad(i + 1)}`)];
  const tunnels = clusters.map((_, i) => `${prefix}-t${pad(i)}`);
  await clone(
    'clusters',
    clusterRow,
    clusters.slice(1).map((id) => ({ id, name: id })),
  );
  await clone(
    'tunnels',
    await template('tunnels', t0),
    tunnels.slice(1).map((id, i) => ({ id, cluster_id: clusters[i + 1], name: id })),
  );
  await clone(
    'private_networks',
    await template('private_networks', network.id),
    tunnels
      .slice(1)
      .map((tunnel, i) => ({ id: `${prefix}-pn${pad(i + 1)}`, tunnel_id: tunnel, cidr: `10.${1 + (i >> 8)}.${i & 255}.0/24` })),
  );
  const hostnames = Array.from({ length: counts.hostnames }, (_, i) => `h${pad(i)}.${prefix}.example.com`);
  const perHost = Math.ceil(counts.routes / counts.hostnames);
  const routes = [route.id, ...Array.from({ length: counts.routes - 1 }, (_, i) => `${prefix}-rt${pad(i + 1, 5)}`)];
  await clone(
    'routes',
    await template('routes', route.id),
    routes.slice(1).map((id, k) => {
      const i = k + 1;
      const slot = i % perHost;
      return { id, hostname: hostnames[Math.floor(i / perHost)], path: slot === 0 ? '' : `/p${slot}` };
    }),
  );
  await clone(
    'split_tunnel_entries',
    await template('split_tunnel_entries', entry.id),
    Array.from({ length: counts.splitEntries - 1 }, (_, k) => {
      // The template holds 10.200.0.0/32; copy n holds the n-th address after it.
      const n = k + 1;
      const address = `10.${200 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}/32`;
      return { id: `${prefix}-st${pad(n, 5)}`, address, target: address };
    }),
  );
  // The sync's view of the hostnames (what the route list's DNS status reads): half synced, half still queued.
  await env.DB.batch(
    hostnames.map((h, i) =>
      i % 2 === 0
        ? env.DB.prepare(
            `INSERT INTO cf_sync (key, account, kind, target, last_success_at, attempts, updated_at) VALUES (?, ?, 'dns', ?, ?, 0, ?)`,
          ).bind(`dns:${h}`, account, h, new Date().toISOString(), new Date().toISOString())
        : env.DB.prepare(`INSERT INTO outbox (account, kind, target, payload, created_at) VALUES (?, 'dns', ?, '{}', ?)`).bind(
            account,
            h,
            new Date().toISOString(),
          ),
    ),
  );
  const credentials = new Map<string, string>();
  const updates = [];
  for (const cluster of clusters) {
    const credential = `epa.${cluster}.${pad(Math.floor(Math.random() * 1e4))}secret-of-${cluster}`;
    credentials.set(cluster, credential);
    updates.push(
      env.DB.prepare('UPDATE clusters SET agent_credential_hash = ?, identity = ? WHERE id = ?').bind(
        secretHash(credential),
        `uid-${cluster}`,
        cluster,
      ),
    );
  }
  await env.DB.batch(updates);
  return { account, clusters, tunnels, bigTunnel: t0, hostnames, routes, credentials };
}
