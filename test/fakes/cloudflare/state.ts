import { randomBytes, randomUUID } from 'node:crypto';

// The fake's in-memory Cloudflare: every object belongs to an account, so test files running in parallel against one
// fake never see each other's tunnels, zones, calls, faults or violations.

export interface FakeTunnel {
  id: string;
  account_tag: string;
  name: string;
  created_at: string;
  deleted_at: string | null;
  config_src: 'local' | 'cloudflare';
  remote_config: boolean;
  status: 'inactive' | 'degraded' | 'healthy' | 'down';
  tun_type: 'cfd_tunnel';
  connections: { id: string; colo_name: string; client_id: string; opened_at: string }[];
  secret: string;
}

export interface FakeConfig {
  version: number;
  config: Record<string, unknown> | null;
  created_at: string;
}

export interface FakeRoute {
  id: string;
  account: string;
  network: string;
  tunnel_id: string;
  comment: string;
  virtual_network_id: string;
  created_at: string;
  deleted_at: string | null;
}

export interface FakeZone {
  id: string;
  name: string;
  status: 'active';
  account: { id: string; name: string };
}

export interface FakeRecord {
  id: string;
  zone_id: string;
  zone_name: string;
  name: string;
  type: string;
  content: string;
  proxied: boolean;
  proxiable: boolean;
  ttl: number;
  comment: string | null;
  tags: string[];
  meta: { auto_added: boolean; source: string };
  created_on: string;
  modified_on: string;
}

export interface SplitTunnelItem {
  address?: string;
  host?: string;
  description: string;
}

export interface FakePolicy {
  policy_id: string;
  name: string;
  match: string;
  precedence: number;
  default: boolean;
  enabled: boolean;
}

/** A scripted failure: the next `times` matching requests get `status` (with `retry-after`) or hang. */
export interface Fault {
  account?: string;
  method?: string;
  /** A regular expression tested against the path below /client/v4. */
  path?: string;
  status?: number;
  retryAfter?: number;
  hang?: boolean;
  times: number;
}

export interface CallRecord {
  account: string;
  /** SHA-256 (hex, first 16) of the bearer token the call came with: Cloudflare's rate limit is per token. */
  token: string;
  method: string;
  path: string;
  operationId: string;
  status: number;
}

export interface Violation {
  account: string;
  method: string;
  path: string;
  problems: string[];
}

/** How the fake answers one account's DNS batches: refused like an endpoint the account cannot use, and its size limit. */
export interface BatchPolicy {
  /** Answer every batch with this status (and Cloudflare error code) instead of applying it. */
  refuse?: { status: number; code: number };
  /** Records per batch (Cloudflare: 200 on the Free plan, 3,500 on the others). */
  limit: number;
}

export const DEFAULT_BATCH_LIMIT = 200;

export const hex32 = (): string => randomBytes(16).toString('hex');

/** The whole state of the fake. */
export class FakeState {
  tunnels = new Map<string, FakeTunnel>();
  configs = new Map<string, FakeConfig>();
  routes = new Map<string, FakeRoute>();
  zones = new Map<string, FakeZone>();
  records = new Map<string, FakeRecord>();
  /** `${account}:${policy or "default"}:${mode}` → the list as last PUT. */
  splitTunnel = new Map<string, SplitTunnelItem[]>();
  policies = new Map<string, FakePolicy[]>();
  faults: Fault[] = [];
  calls: CallRecord[] = [];
  /** Requests per token hash, as Cloudflare counts them against its 1200 / 5 min (never reset: tokens outlive tests). */
  tokenCounts = new Map<string, number>();
  violations: Violation[] = [];
  /** Per-account DNS batch policy (see BatchPolicy); an account without one gets the Free plan's limit. */
  batchPolicies = new Map<string, BatchPolicy>();

  /** Forgets one account's objects, calls, faults and violations (or everything without an account). */
  reset(account?: string): void {
    if (account === undefined) {
      for (const map of [this.tunnels, this.configs, this.routes, this.zones, this.records, this.splitTunnel, this.policies]) map.clear();
      this.faults = [];
      this.batchPolicies.clear();
      this.calls = [];
      this.violations = [];
      return;
    }
    for (const [id, t] of this.tunnels) {
      if (t.account_tag !== account) continue;
      this.tunnels.delete(id);
      this.configs.delete(id);
    }
    for (const [id, r] of this.routes) if (r.account === account) this.routes.delete(id);
    for (const [id, z] of this.zones) {
      if (z.account.id !== account) continue;
      this.zones.delete(id);
      for (const [rid, rec] of this.records) if (rec.zone_id === id) this.records.delete(rid);
    }
    for (const key of this.splitTunnel.keys()) if (key.startsWith(`${account}:`)) this.splitTunnel.delete(key);
    this.policies.delete(account);
    this.batchPolicies.delete(account);
    this.faults = this.faults.filter((f) => f.account !== account);
    this.calls = this.calls.filter((c) => c.account !== account);
    this.violations = this.violations.filter((v) => v.account !== account);
  }

  addZone(account: string, name: string): FakeZone {
    const zone: FakeZone = { id: hex32(), name, status: 'active', account: { id: account, name: `account ${account}` } };
    this.zones.set(zone.id, zone);
    return zone;
  }

  addPolicy(account: string, name: string): FakePolicy {
    const list = this.policies.get(account) ?? [];
    const policy: FakePolicy = {
      policy_id: randomUUID(),
      name,
      match: 'any(identity.groups.name[*] in {"staff"})',
      precedence: list.length + 10,
      default: false,
      enabled: true,
    };
    list.push(policy);
    this.policies.set(account, list);
    return policy;
  }

  /** A dump of one account's objects for assertions in tests. */
  snapshot(account: string): Record<string, unknown> {
    const tunnels = [...this.tunnels.values()].filter((t) => t.account_tag === account);
    const zoneIds = new Set([...this.zones.values()].filter((z) => z.account.id === account).map((z) => z.id));
    return {
      tunnels: tunnels.map(({ secret: _secret, ...t }) => t),
      configs: Object.fromEntries(tunnels.map((t) => [t.id, this.configs.get(t.id) ?? null])),
      routes: [...this.routes.values()].filter((r) => r.account === account),
      zones: [...this.zones.values()].filter((z) => z.account.id === account),
      records: [...this.records.values()].filter((r) => zoneIds.has(r.zone_id)),
      splitTunnel: Object.fromEntries(
        [...this.splitTunnel].filter(([k]) => k.startsWith(`${account}:`)).map(([k, v]) => [k.slice(account.length + 1), v]),
      ),
      policies: this.policies.get(account) ?? [],
    };
  }
}
