import { randomUUID } from 'node:crypto';
import { type FakeRecord, type FakeState, type FakeTunnel, type SplitTunnelItem, hex32 } from './state';

// What each Cloudflare operation does to the fake's state, answered in the real v4 envelope.

export interface Reply {
  status: number;
  body: unknown;
}

export interface HandlerContext {
  state: FakeState;
  account: string;
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
  now: () => string;
}

type Handler = (ctx: HandlerContext) => Reply;

export const ok = (result: unknown, resultInfo?: Record<string, number>): Reply => ({
  status: 200,
  body: { success: true, errors: [], messages: [], result, ...(resultInfo ? { result_info: resultInfo } : {}) },
});

export const fail = (status: number, code: number, message: string): Reply => ({
  status,
  body: { success: false, errors: [{ code, message }], messages: [], result: null },
});

/** Cloudflare's page/per_page pagination: past the last page the result is an empty array. */
function paginate<T>(items: T[], query: Record<string, string>, defaultPerPage: number): Reply {
  const page = Math.max(1, Number(query.page ?? 1));
  const perPage = Math.max(1, Number(query.per_page ?? defaultPerPage));
  const slice = items.slice((page - 1) * perPage, page * perPage);
  return ok(slice, {
    page,
    per_page: perPage,
    count: slice.length,
    total_count: items.length,
    total_pages: Math.ceil(items.length / perPage),
  });
}

const liveTunnel = (ctx: HandlerContext): FakeTunnel | undefined => {
  const tunnel = ctx.state.tunnels.get(ctx.params.tunnel_id ?? '');
  return tunnel && tunnel.account_tag === ctx.account && !tunnel.deleted_at ? tunnel : undefined;
};

const tunnelView = ({ secret: _secret, ...tunnel }: FakeTunnel) => tunnel;

const tunnelNotFound = (): Reply => fail(404, 1003, 'Tunnel not found');

const splitKey = (ctx: HandlerContext, mode: 'include' | 'exclude') => `${ctx.account}:${ctx.params.policy_id ?? 'default'}:${mode}`;

function policyMissing(ctx: HandlerContext): boolean {
  const id = ctx.params.policy_id;
  return id !== undefined && !(ctx.state.policies.get(ctx.account) ?? []).some((p) => p.policy_id === id);
}

const getSplit =
  (mode: 'include' | 'exclude'): Handler =>
  (ctx) => {
    if (policyMissing(ctx)) return fail(404, 2001, 'Device settings policy not found');
    return ok(ctx.state.splitTunnel.get(splitKey(ctx, mode)) ?? []);
  };

const putSplit =
  (mode: 'include' | 'exclude'): Handler =>
  (ctx) => {
    if (policyMissing(ctx)) return fail(404, 2001, 'Device settings policy not found');
    // A PUT replaces the whole list: whatever the caller leaves out is gone (the reason edgeplane merges).
    const items = (ctx.body as SplitTunnelItem[]).map((i) => ({ ...i, description: i.description ?? '' }));
    ctx.state.splitTunnel.set(splitKey(ctx, mode), items);
    return ok(items);
  };

function zoneOf(ctx: HandlerContext) {
  const zone = ctx.state.zones.get(ctx.params.zone_id ?? '');
  return zone && zone.account.id === ctx.account ? zone : undefined;
}

/** A CNAME cannot share its name with any other record (Cloudflare answers 81053). */
export function recordConflict(state: FakeState, zoneId: string, name: string, type: string, except?: string): FakeRecord | undefined {
  return [...state.records.values()].find(
    (r) => r.zone_id === zoneId && r.id !== except && r.name === name && (r.type === 'CNAME' || type === 'CNAME'),
  );
}

/** Every operation the fake implements, by operationId. */
export const handlers: Record<string, Handler> = {
  'cloudflare-tunnel-list-cloudflare-tunnels': (ctx) => {
    const { name, is_deleted: deleted, uuid } = ctx.query;
    const list = [...ctx.state.tunnels.values()]
      .filter((t) => t.account_tag === ctx.account)
      .filter((t) =>
        deleted === 'true' ? t.deleted_at !== null : deleted === 'false' || deleted === undefined ? t.deleted_at === null : true,
      )
      .filter((t) => (name === undefined ? true : t.name === name) && (uuid === undefined ? true : t.id === uuid))
      .map(tunnelView);
    return paginate(list, ctx.query, 20);
  },
  'cloudflare-tunnel-create-a-cloudflare-tunnel': (ctx) => {
    const body = ctx.body as { name: string; config_src?: 'local' | 'cloudflare'; tunnel_secret?: string };
    const taken = [...ctx.state.tunnels.values()].some((t) => t.account_tag === ctx.account && t.name === body.name && !t.deleted_at);
    if (taken) return fail(409, 1013, `A tunnel with name "${body.name}" already exists`);
    const tunnel: FakeTunnel = {
      id: randomUUID(),
      account_tag: ctx.account,
      name: body.name,
      created_at: ctx.now(),
      deleted_at: null,
      config_src: body.config_src ?? 'local',
      remote_config: body.config_src === 'cloudflare',
      status: 'inactive',
      tun_type: 'cfd_tunnel',
      connections: [],
      secret: body.tunnel_secret ?? Buffer.from(randomUUID() + randomUUID()).toString('base64'),
    };
    ctx.state.tunnels.set(tunnel.id, tunnel);
    return ok(tunnelView(tunnel));
  },
  'cloudflare-tunnel-get-a-cloudflare-tunnel': (ctx) => {
    const tunnel = liveTunnel(ctx);
    return tunnel ? ok(tunnelView(tunnel)) : tunnelNotFound();
  },
  'cloudflare-tunnel-update-a-cloudflare-tunnel': (ctx) => {
    // PATCH renames (or re-keys a locally managed tunnel); a name another live tunnel of the account holds is refused,
    // as on create.
    const tunnel = liveTunnel(ctx);
    if (!tunnel) return tunnelNotFound();
    const body = ctx.body as { name?: string; tunnel_secret?: string };
    if (body.name !== undefined) {
      const taken = [...ctx.state.tunnels.values()].some(
        (t) => t.account_tag === ctx.account && t.id !== tunnel.id && t.name === body.name && !t.deleted_at,
      );
      if (taken) return fail(409, 1013, `A tunnel with name "${body.name}" already exists`);
      tunnel.name = body.name;
    }
    if (body.tunnel_secret !== undefined) tunnel.secret = body.tunnel_secret;
    return ok(tunnelView(tunnel));
  },
  'cloudflare-tunnel-delete-a-cloudflare-tunnel': (ctx) => {
    const tunnel = liveTunnel(ctx);
    if (!tunnel) return tunnelNotFound();
    if (tunnel.connections.length > 0)
      return fail(400, 1022, 'Cannot delete a tunnel with active connections; clean up its connections first');
    tunnel.deleted_at = ctx.now();
    return ok(tunnelView(tunnel));
  },
  'cloudflare-tunnel-get-a-cloudflare-tunnel-token': (ctx) => {
    const tunnel = liveTunnel(ctx);
    if (!tunnel) return tunnelNotFound();
    return ok(Buffer.from(JSON.stringify({ a: tunnel.account_tag, t: tunnel.id, s: tunnel.secret })).toString('base64'));
  },
  'cloudflare-tunnel-configuration-get-configuration': (ctx) => {
    // Like the real API, a stored config is echoed with its empty defaults filled in (`originRequest: {}` on every
    // rule and at the top), so a client must compare configs semantically, not byte for byte.
    const tunnel = liveTunnel(ctx);
    if (!tunnel) return tunnelNotFound();
    const config = ctx.state.configs.get(tunnel.id);
    return ok({
      tunnel_id: tunnel.id,
      account_id: ctx.account,
      version: config?.version ?? 0,
      config: withEchoedDefaults(config?.config ?? null),
      source: tunnel.config_src,
      created_at: config?.created_at ?? tunnel.created_at,
    });
  },
  'cloudflare-tunnel-configuration-put-configuration': (ctx) => {
    const tunnel = liveTunnel(ctx);
    if (!tunnel) return tunnelNotFound();
    if (tunnel.config_src !== 'cloudflare')
      return fail(400, 1055, 'This tunnel is locally managed; its configuration cannot be changed remotely');
    const previous = ctx.state.configs.get(tunnel.id);
    const config = {
      version: (previous?.version ?? 0) + 1,
      config: (ctx.body as { config: Record<string, unknown> }).config,
      created_at: ctx.now(),
    };
    ctx.state.configs.set(tunnel.id, config);
    return ok({
      tunnel_id: tunnel.id,
      account_id: ctx.account,
      version: config.version,
      config: config.config,
      source: 'cloudflare',
      created_at: config.created_at,
    });
  },
  'cloudflare-tunnel-clean-up-cloudflare-tunnel-connections': (ctx) => {
    const tunnel = liveTunnel(ctx);
    if (!tunnel) return tunnelNotFound();
    tunnel.connections = [];
    tunnel.status = 'inactive';
    return ok({});
  },
  'tunnel-route-list-tunnel-routes': (ctx) => {
    const { tunnel_id: tunnelId, is_deleted: deleted, network_subset: subset, comment } = ctx.query;
    const list = [...ctx.state.routes.values()]
      .filter((r) => r.account === ctx.account && (deleted === 'true' ? r.deleted_at !== null : r.deleted_at === null))
      .filter(
        (r) =>
          (tunnelId === undefined || r.tunnel_id === tunnelId) &&
          (subset === undefined || r.network === subset) &&
          (comment === undefined || r.comment === comment),
      );
    return paginate(
      list.map(({ account: _a, ...r }) => ({ ...r, tun_type: 'cfd_tunnel', tunnel_name: ctx.state.tunnels.get(r.tunnel_id)?.name ?? '' })),
      ctx.query,
      20,
    );
  },
  'tunnel-route-create-a-tunnel-route': (ctx) => {
    const body = ctx.body as { network: string; tunnel_id: string; comment?: string; virtual_network_id?: string };
    const vnet = body.virtual_network_id ?? '00000000-0000-0000-0000-000000000000';
    if (!ctx.state.tunnels.get(body.tunnel_id) || ctx.state.tunnels.get(body.tunnel_id)?.account_tag !== ctx.account)
      return fail(404, 1003, 'Tunnel not found');
    const clash = [...ctx.state.routes.values()].find(
      (r) => r.account === ctx.account && !r.deleted_at && r.network === body.network && r.virtual_network_id === vnet,
    );
    if (clash) return fail(409, 1014, `A route for ${body.network} already exists in this virtual network (route ${clash.id})`);
    const route = {
      id: randomUUID(),
      account: ctx.account,
      network: body.network,
      tunnel_id: body.tunnel_id,
      comment: body.comment ?? '',
      virtual_network_id: vnet,
      created_at: ctx.now(),
      deleted_at: null,
    };
    ctx.state.routes.set(route.id, route);
    const { account: _a, ...view } = route;
    return ok(view);
  },
  'tunnel-route-delete-a-tunnel-route': (ctx) => {
    const route = ctx.state.routes.get(ctx.params.route_id ?? '');
    if (!route || route.account !== ctx.account || route.deleted_at) return fail(404, 1015, 'Route not found');
    route.deleted_at = ctx.now();
    const { account: _a, ...view } = route;
    return ok(view);
  },
  'zones-get': (ctx) => {
    const name = ctx.query.name;
    const list = [...ctx.state.zones.values()].filter(
      (z) => (ctx.account === '' || z.account.id === ctx.account) && (name === undefined || z.name === name),
    );
    return paginate(list, ctx.query, 20);
  },
  'dns-records-for-a-zone-list-dns-records': (ctx) => {
    const zone = zoneOf(ctx);
    if (!zone) return fail(404, 7003, 'Could not route to /zones/…/dns_records, perhaps your object identifier is invalid?');
    const { name, type, comment } = ctx.query;
    const list = [...ctx.state.records.values()].filter(
      (r) =>
        r.zone_id === zone.id &&
        (name === undefined || r.name === name) &&
        (type === undefined || r.type === type) &&
        (comment === undefined || r.comment === comment),
    );
    return paginate(list, ctx.query, 100);
  },
  'dns-records-for-a-zone-create-dns-record': (ctx) => {
    const zone = zoneOf(ctx);
    if (!zone) return fail(404, 7003, 'Could not route to /zones/…/dns_records, perhaps your object identifier is invalid?');
    const body = ctx.body as {
      type: string;
      name: string;
      content: string;
      proxied?: boolean;
      ttl?: number;
      comment?: string;
      tags?: string[];
    };
    const name = body.name === '@' ? zone.name : body.name;
    if (recordConflict(ctx.state, zone.id, name, body.type))
      return fail(400, 81053, 'An A, AAAA, or CNAME record with that host already exists.');
    const at = ctx.now();
    const record: FakeRecord = {
      id: hex32(),
      zone_id: zone.id,
      zone_name: zone.name,
      name,
      type: body.type,
      content: body.content,
      proxied: body.proxied ?? false,
      proxiable: ['A', 'AAAA', 'CNAME'].includes(body.type),
      ttl: body.ttl ?? 1,
      comment: body.comment ?? null,
      tags: body.tags ?? [],
      meta: { auto_added: false, source: 'primary' },
      created_on: at,
      modified_on: at,
    };
    ctx.state.records.set(record.id, record);
    return ok(record);
  },
  'dns-records-for-a-zone-patch-dns-record': (ctx) => {
    const zone = zoneOf(ctx);
    const record = ctx.state.records.get(ctx.params.dns_record_id ?? '');
    if (!zone || !record || record.zone_id !== zone.id) return fail(404, 81044, 'Record does not exist.');
    const patch = ctx.body as Partial<FakeRecord>;
    const name = patch.name ?? record.name;
    if (recordConflict(ctx.state, zone.id, name, patch.type ?? record.type, record.id))
      return fail(400, 81053, 'An A, AAAA, or CNAME record with that host already exists.');
    Object.assign(record, { ...patch, name, id: record.id, zone_id: zone.id, modified_on: ctx.now() });
    return ok(record);
  },
  'dns-records-for-a-zone-delete-dns-record': (ctx) => {
    const zone = zoneOf(ctx);
    const record = ctx.state.records.get(ctx.params.dns_record_id ?? '');
    if (!zone || !record || record.zone_id !== zone.id) return fail(404, 81044, 'Record does not exist.');
    ctx.state.records.delete(record.id);
    return ok({ id: record.id });
  },
  'devices-list-device-settings-policies': (ctx) => ok(ctx.state.policies.get(ctx.account) ?? []),
  'devices-get-split-tunnel-include-list': getSplit('include'),
  'devices-set-split-tunnel-include-list': putSplit('include'),
  'devices-get-split-tunnel-exclude-list': getSplit('exclude'),
  'devices-set-split-tunnel-exclude-list': putSplit('exclude'),
  'devices-get-split-tunnel-include-list-for-a-device-settings-policy': getSplit('include'),
  'devices-set-split-tunnel-include-list-for-a-device-settings-policy': putSplit('include'),
  'devices-get-split-tunnel-exclude-list-for-a-device-settings-policy': getSplit('exclude'),
  'devices-set-split-tunnel-exclude-list-for-a-device-settings-policy': putSplit('exclude'),
};

function withEchoedDefaults(config: Record<string, unknown> | null): Record<string, unknown> | null {
  if (!config) return null;
  const ingress = Array.isArray(config.ingress)
    ? config.ingress.map((rule: unknown) => (rule && typeof rule === 'object' ? { originRequest: {}, ...rule } : rule))
    : config.ingress;
  return { originRequest: {}, ...config, ingress };
}
