import type { Cluster } from '../../src/shared/api/cluster';
import type { PrivateNetwork } from '../../src/shared/api/private-network';
import type { SplitTunnelEntry, SplitTunnelProfile } from '../../src/shared/api/split-tunnel';
import type { Tunnel } from '../../src/shared/api/tunnel';
import { ApiError, messageOf } from '../api';
import { badge, h, notReported, table } from '../dom';
import type { View, ViewContext } from '../view';

async function deleteEntry(ctx: ViewContext, entry: SplitTunnelEntry): Promise<void> {
  const target = entry.address ?? entry.host ?? entry.id;
  if (!confirm(`Delete split-tunnel entry ${target}?`)) return;
  try {
    await ctx.api.call('DELETE', `/v1/split-tunnel/${encodeURIComponent(entry.id)}`, { etag: entry.etag });
    ctx.notice(`Entry ${target} deleted.`);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) ctx.error(messageOf(error));
  }
  await ctx.refresh();
}

function entryRow(ctx: ViewContext, e: SplitTunnelEntry): HTMLTableRowElement {
  const target = e.address ?? e.host ?? '';
  return h(
    'tr',
    { 'data-entry': e.id },
    h('td', {}, e.mode),
    h('td', { class: 'mono' }, target),
    h('td', {}, e.description),
    h('td', {}, badge(e.owner === 'edgeplane' ? 'edgeplane' : 'foreign (read-only)', e.owner === 'edgeplane' ? 'ok' : 'muted')),
    h(
      'td',
      {},
      e.owner === 'edgeplane'
        ? h(
            'button',
            {
              type: 'button',
              class: 'action danger',
              'aria-label': `Delete split-tunnel entry ${target}`,
              onclick: () => void deleteEntry(ctx, e),
            },
            'Delete',
          )
        : null,
    ),
  );
}

/** The cluster's WARP kubectl path check (`warpAccess`): complete, or each missing step with what to add. */
function warpCell(c: Cluster): HTMLElement {
  const access = c.warpAccess;
  if (!access) return notReported();
  if (access.complete)
    return h(
      'span',
      {},
      badge('complete', 'ok'),
      ' ',
      h('code', {}, access.server),
      ' — kubeconfig: ',
      h('code', {}, `GET /v1/clusters/${c.id}/kubeconfig-warp?format=yaml`),
    );
  return h(
    'div',
    {},
    badge('incomplete', 'warn'),
    ' ',
    h('code', {}, access.server),
    h(
      'ul',
      { class: 'warp-missing' },
      ...access.missing.map((m) => h('li', { 'data-reason': m.reason }, h('code', {}, m.reason), ': ', m.message)),
    ),
  );
}

export const warp: View = {
  id: 'warp',
  title: 'WARP',
  mount(root) {
    root.append(
      h('h2', {}, 'WARP split tunnel'),
      h('p', { class: 'muted' }, 'Entries owned by edgeplane can be deleted here; foreign entries were made elsewhere and are read-only.'),
      h('div', { id: 'split-body' }),
      h('h2', {}, 'Private networks'),
      h('div', { id: 'networks-body' }),
      h('h2', {}, 'Cluster API servers over WARP'),
      h('div', { id: 'apiserver-body' }),
    );
  },
  async refresh(ctx) {
    const { api } = ctx;
    const [entries, profiles, networks, tunnels, clusters] = await Promise.all([
      api.list<SplitTunnelEntry>('/v1/split-tunnel'),
      api.list<SplitTunnelProfile>('/v1/split-tunnel-profiles'),
      api.list<PrivateNetwork>('/v1/private-networks'),
      api.list<Tunnel>('/v1/tunnels'),
      api.list<Cluster>('/v1/clusters'),
    ]);
    const byProfile = new Map<string, SplitTunnelEntry[]>();
    for (const e of entries) byProfile.set(e.profile, [...(byProfile.get(e.profile) ?? []), e]);
    const policy = (profile: string) => profiles.find((p) => p.profile === profile)?.driftPolicy ?? 'alert';
    document.getElementById('split-body')?.replaceChildren(
      ...(byProfile.size === 0
        ? [h('p', { class: 'muted' }, 'No split-tunnel entries.')]
        : [...byProfile].map(([profile, list]) =>
            h(
              'div',
              { 'data-profile': profile },
              h('h3', {}, 'Profile ', h('code', {}, profile), ' ', h('small', {}, `drift policy: ${policy(profile)}`)),
              table(
                ['Mode', 'Address / host', 'Description', 'Owner', ''],
                list.map((e) => entryRow(ctx, e)),
                'No entries.',
              ),
            ),
          )),
    );
    document.getElementById('networks-body')?.replaceChildren(
      table(
        ['CIDR', 'Tunnel', 'Virtual network', 'Comment'],
        networks.map((n) =>
          h(
            'tr',
            {},
            h('td', { class: 'mono' }, n.cidr),
            h('td', { class: 'mono' }, n.tunnel),
            h('td', { class: 'mono' }, n.virtualNetworkId ?? 'default'),
            h('td', {}, n.comment),
          ),
        ),
        'No private networks.',
      ),
    );
    const routed = (clusterId: string) =>
      networks.filter((n) => tunnels.some((t) => t.id === n.tunnel && t.cluster === clusterId)).map((n) => n.cidr);
    document.getElementById('apiserver-body')?.replaceChildren(
      table(
        ['Cluster', 'Private networks routed', 'kubectl over WARP (default profile)'],
        clusters.map((c) => {
          const cidrs = routed(c.id);
          return h(
            'tr',
            { 'data-warp-cluster': c.id },
            h('td', { class: 'mono' }, c.id),
            h('td', { class: 'mono' }, cidrs.length ? cidrs.join(', ') : h('span', { class: 'muted' }, 'none')),
            h('td', {}, warpCell(c)),
          );
        }),
        'No clusters.',
      ),
    );
  },
};
