import type { OriginCheck } from '../../src/shared/api/agent';
import type { Route } from '../../src/shared/api/route';
import type { TunnelConfigResponse } from '../../src/shared/api/tunnel-config';
import type { Tunnel } from '../../src/shared/api/tunnel';
import { ApiError, messageOf } from '../api';
import { badge, h, notReported, table, type Tone } from '../dom';
import { latestReports, type LatestReport } from '../reports';
import { RouteForm } from '../route-form';
import type { View, ViewContext } from '../view';

const DNS_TONE: Record<NonNullable<Route['dnsStatus']>['state'], Tone> = {
  synced: 'ok',
  pending: 'warn',
  conflict: 'bad',
  failing: 'bad',
  off: 'muted',
};
const DNS_TEXT: Record<NonNullable<Route['dnsStatus']>['state'], string> = {
  synced: 'owned, synced',
  pending: 'pending',
  conflict: 'collision',
  failing: 'failing',
  off: 'no DNS record (dns: false)',
};

/** A route's origin as an operator writes it: namespace/name:port for a Service, else the URL. */
export const originText = (route: Route): string =>
  'service' in route.origin
    ? `${route.origin.service.namespace}/${route.origin.service.name}:${route.origin.service.port}`
    : route.origin.url;

function dnsCell(route: Route): HTMLTableCellElement {
  const status = route.dnsStatus;
  if (!status) return h('td', {}, notReported());
  return h(
    'td',
    { class: 'dns' },
    badge(DNS_TEXT[status.state], DNS_TONE[status.state]),
    status.detail ? h('div', { class: 'muted' }, status.detail) : null,
  );
}

/** A path prefix as written, or a cloudflared regex marked as one (it is unanchored and matched as RE2). */
function pathCell(route: Route): HTMLTableCellElement {
  if (route.pathRegex === null) return h('td', { class: 'mono' }, route.path ?? '(any)');
  return h(
    'td',
    { class: 'mono', 'data-regex': 'true' },
    h('span', { class: 'badge', title: 'a cloudflared (RE2) regular expression, unanchored, tested against the URL path' }, 'regex'),
    ' ',
    route.pathRegex,
  );
}

/** The agent's check of a Service origin: found, or what it suggests instead. */
function originCheckCell(route: Route, latest: LatestReport | undefined): HTMLTableCellElement {
  if (!('service' in route.origin)) return h('td', {}, h('span', { class: 'muted' }, 'URL origin: not checked by the agent'));
  const check: OriginCheck | undefined = latest?.health?.origins.find((o) => o.route === route.id);
  if (!check) return h('td', {}, notReported());
  return h(
    'td',
    { class: 'origin-check', 'data-ok': String(check.ok) },
    badge(check.ok ? 'found' : 'broken', check.ok ? 'ok' : 'bad'),
    ' ',
    check.message,
  );
}

function accessCell(route: Route): HTMLTableCellElement {
  return h('td', {}, route.access ? badge('Access', 'ok') : h('span', { class: 'muted' }, 'none'));
}

async function deleteRoute(ctx: ViewContext, route: Route): Promise<void> {
  if (!confirm(`Delete route ${route.hostname}${route.path ?? ''}?`)) return;
  try {
    await ctx.api.call('DELETE', `/v1/routes/${encodeURIComponent(route.id)}`, { etag: route.etag });
    ctx.notice(`Route ${route.hostname}${route.path ?? ''} deleted.`);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) ctx.error(messageOf(error));
  }
  await ctx.refresh();
}

function tunnelSection(
  ctx: ViewContext,
  form: RouteForm,
  tunnel: Tunnel,
  compiled: TunnelConfigResponse,
  routes: Map<string, Route>,
  latest: LatestReport | undefined,
): HTMLElement {
  const rows = compiled.config.ingress.map((rule, index) => {
    const routeId = compiled.routes[index] ?? null;
    const route = routeId ? routes.get(routeId) : undefined;
    if (!route) {
      return h(
        'tr',
        { 'data-rule': index, class: 'catch-all' },
        h('td', { class: 'num' }, index + 1),
        h('td', { class: 'mono' }, rule.hostname ?? '(catch-all)'),
        h('td', { class: 'mono' }, rule.path ?? '(any)'),
        h('td', { class: 'mono' }, rule.service),
        h('td', {}, '—'),
        h('td', {}, '—'),
        h('td', {}, '—'),
        h('td', {}),
      );
    }
    const label = `${route.hostname}${route.pathRegex ?? route.path ?? ''}`;
    return h(
      'tr',
      { 'data-route': route.id, 'data-rule': index },
      h('td', { class: 'num' }, index + 1),
      h('td', { class: 'mono' }, route.hostname),
      pathCell(route),
      h(
        'td',
        { class: 'mono' },
        originText(route),
        ' ',
        h('span', { class: 'badge kind', 'data-kind': route.originKind, title: 'how cloudflared runs this origin' }, route.originKind),
      ),
      dnsCell(route),
      originCheckCell(route, latest),
      accessCell(route),
      h(
        'td',
        { class: 'actions' },
        h('button', { type: 'button', class: 'action', 'aria-label': `Edit route ${label}`, onclick: () => form.edit(route) }, 'Edit'),
        h(
          'button',
          { type: 'button', class: 'action danger', 'aria-label': `Delete route ${label}`, onclick: () => void deleteRoute(ctx, route) },
          'Delete',
        ),
      ),
    );
  });
  const count = compiled.routes.filter((r) => r !== null).length;
  return h(
    'div',
    { 'data-tunnel': tunnel.id },
    h(
      'h3',
      {},
      'Tunnel ',
      h('code', {}, tunnel.id),
      ' ',
      h('small', {}, `cluster ${tunnel.cluster} · ${count} route${count === 1 ? '' : 's'} · ${tunnel.mode.type} mode`),
    ),
    table(['#', 'Hostname', 'Path', 'Origin', 'DNS', 'Origin check', 'Access', ''], rows, 'No rules.', { class: 'routes' }),
  );
}

let form: RouteForm | null = null;

export const tunnels: View = {
  id: 'tunnels',
  title: 'Tunnels & routes',
  mount(root, ctx) {
    form = new RouteForm(ctx);
    root.append(
      h('h2', {}, 'Tunnels & routes'),
      h('p', { class: 'muted' }, 'Routes in the order cloudflared evaluates them (the compiled config), catch-all last.'),
      h('div', { id: 'tunnels-body' }),
      form.element,
    );
  },
  async refresh(ctx) {
    const { api } = ctx;
    const [tunnelList, routeList] = await Promise.all([api.list<Tunnel>('/v1/tunnels'), api.list<Route>('/v1/routes')]);
    const [configs, reports] = await Promise.all([
      Promise.all(tunnelList.map((t) => api.call<TunnelConfigResponse>('GET', `/v1/tunnels/${encodeURIComponent(t.id)}/config`))),
      latestReports(api, [...new Set(tunnelList.map((t) => t.cluster))]),
    ]);
    const routes = new Map(routeList.map((r) => [r.id, r]));
    const sections = tunnelList.map((t, i) => {
      const compiled = configs[i];
      return compiled ? tunnelSection(ctx, form ?? new RouteForm(ctx), t, compiled, routes, reports.get(t.cluster)) : null;
    });
    document
      .getElementById('tunnels-body')
      ?.replaceChildren(...(sections.length ? sections.filter((s) => s !== null) : [h('p', { class: 'muted' }, 'No tunnels yet.')]));
    form?.setTunnels(tunnelList);
  },
};
