import type { UrlMatch } from '../../src/shared/api/match';
import type { Route } from '../../src/shared/api/route';
import type { Workload } from '../../src/shared/api/workload';
import type { Tunnel } from '../../src/shared/api/tunnel';
import { ApiError, messageOf } from '../api';
import { h } from '../dom';
import { latestReport } from '../reports';
import type { View, ViewContext } from '../view';
import { originText } from './tunnels';

type LinkState = 'ok' | 'degraded' | 'broken' | 'unknown';
interface Link {
  name: string;
  state: LinkState;
  text: string;
}

/** Does a route's hostname (exact, or a `*.` wildcard of any depth but not the apex) cover this host? */
function covers(hostname: string, host: string): boolean {
  if (hostname === host) return true;
  return hostname.startsWith('*.') && host.endsWith(hostname.slice(1)) && host.length > hostname.length - 1;
}

/**
 * The chain from a URL to its origin as edgeplane knows it: DNS record, the rule cloudflared picks (the route
 * tester), the origin the agent checked, the connectors, the workload. Each link says ok, broken or not known.
 */
async function trace(ctx: ViewContext, raw: string): Promise<Link[]> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`"${raw}" is not a URL; paste one like https://app.example.com/api/x`);
  }
  const host = url.hostname.toLowerCase();
  const [routes, tunnels, workloads] = await Promise.all([
    ctx.api.list<Route>('/v1/routes'),
    ctx.api.list<Tunnel>('/v1/tunnels'),
    ctx.api.list<Workload>('/v1/workloads'),
  ]);
  const ofHost = routes.filter((r) => r.hostname === host).concat(routes.filter((r) => r.hostname !== host && covers(r.hostname, host)));
  const first = ofHost[0];
  const tunnel = tunnels.find((t) => t.id === first?.tunnel);
  if (!first || !tunnel)
    return [{ name: 'Route', state: 'broken', text: `no edgeplane route serves ${host}: add one in Tunnels & routes` }];

  const links: Link[] = [];
  const dns = first.dnsStatus;
  links.push(
    !dns
      ? { name: 'DNS record', state: 'unknown', text: 'not reported yet' }
      : dns.state === 'synced'
        ? { name: 'DNS record', state: 'ok', text: `${first.hostname}: edgeplane's record, synced` }
        : dns.state === 'off'
          ? { name: 'DNS record', state: 'unknown', text: `${first.hostname}: edgeplane manages no DNS record for it (dns: false)` }
          : dns.state === 'pending'
            ? { name: 'DNS record', state: 'unknown', text: `${first.hostname}: pending, the Cloudflare sync has not written it yet` }
            : { name: 'DNS record', state: 'broken', text: `${first.hostname}: ${dns.state}${dns.detail ? ` — ${dns.detail}` : ''}` },
  );

  const { matches } = await ctx.api.call<{ matches: UrlMatch[] }>('POST', `/v1/tunnels/${encodeURIComponent(tunnel.id)}/match`, {
    body: { urls: [raw] },
  });
  const match = matches[0];
  if (!match) return links;
  const route = routes.find((r) => r.id === match.routeId);
  links.push(
    match.catchAll || !route
      ? {
          name: 'Rule',
          state: 'broken',
          text: `tunnel ${tunnel.id}: the catch-all answers (${match.service})${match.nearestMiss ? `; nearest rule ${match.nearestMiss.index + 1} (${match.nearestMiss.hostname ?? ''}): ${match.nearestMiss.reason}` : ''}`,
        }
      : {
          name: 'Rule',
          state: 'ok',
          text: `tunnel ${tunnel.id}, rule ${match.index + 1}: ${match.hostname ?? ''} ${match.pathRegex ?? '(any path)'} → ${match.service}`,
        },
  );
  if (!route) return links;

  const latest = await latestReport(ctx.api, tunnel.cluster);
  if ('service' in route.origin) {
    const check = latest?.health?.origins.find((o) => o.route === route.id);
    links.push(
      check
        ? { name: 'Origin', state: check.ok ? 'ok' : 'broken', text: `${originText(route)}: ${check.message}` }
        : { name: 'Origin', state: 'unknown', text: `${originText(route)}: not reported yet by the agent` },
    );
  } else links.push({ name: 'Origin', state: 'unknown', text: `${originText(route)}: a URL origin, not checked by the agent` });

  const connectors = latest?.health?.connectors;
  links.push(
    !connectors
      ? { name: 'Connectors', state: 'unknown', text: `cluster ${tunnel.cluster}: not reported yet` }
      : {
          name: 'Connectors',
          state: connectors.ready === 0 ? 'broken' : connectors.ready < connectors.desired ? 'degraded' : 'ok',
          text: `cluster ${tunnel.cluster}: ${connectors.ready} of ${connectors.desired} cloudflared replicas ready`,
        },
  );

  const workload = workloads.find((w) => w.routeId === route.id);
  if (workload) {
    const object = latest?.health?.objects.find((o) => o.object.endsWith(`/${workload.kind}/${workload.namespace}/${workload.id}`));
    links.push(
      object
        ? {
            name: 'Workload',
            state: object.status === 'Current' ? 'ok' : object.status === 'Failed' ? 'broken' : 'unknown',
            text: `${workload.id}: ${object.status} ${object.message}`,
          }
        : { name: 'Workload', state: 'unknown', text: `${workload.id}: not reported yet` },
    );
  }
  return links;
}

function render(links: Link[]): HTMLElement {
  const firstBroken = links.findIndex((l) => l.state === 'broken');
  return h(
    'ol',
    { class: 'plain chain', id: 'doctor-chain' },
    links.map((l, i) =>
      h(
        'li',
        { 'data-link': l.name, 'data-state': l.state, 'data-first-broken': i === firstBroken },
        h('strong', {}, l.name),
        ': ',
        l.state === 'unknown' ? 'not known' : l.state,
        ' — ',
        l.text,
        i === firstBroken ? h('strong', { class: 'bad-text' }, ' ← first broken link') : null,
      ),
    ),
  );
}

export const doctor: View = {
  id: 'doctor',
  title: 'URL doctor',
  mount(root, ctx) {
    const result = h('div', { id: 'doctor-result', 'aria-live': 'polite' });
    const error = h('p', { id: 'doctor-error', class: 'error', role: 'alert' });
    const form = h(
      'form',
      { id: 'doctor-form', class: 'card', 'aria-labelledby': 'doctor-title' },
      h('h2', { id: 'doctor-title' }, 'URL doctor'),
      h('p', { class: 'muted' }, 'Paste a URL to see the chain from its DNS record to the origin, as edgeplane knows it.'),
      h('label', { for: 'doctor-url' }, 'URL to diagnose'),
      h('input', { id: 'doctor-url', type: 'url', placeholder: 'https://label.example.com/api/x', autocomplete: 'off' }),
      error,
      h('div', { class: 'toolbar' }, h('button', { type: 'submit', class: 'action primary' }, 'Diagnose')),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const raw = (form.querySelector('#doctor-url') as HTMLInputElement).value.trim();
      error.textContent = '';
      trace(ctx, raw).then(
        (links) => result.replaceChildren(render(links)),
        (e: unknown) => {
          result.replaceChildren();
          if (!(e instanceof ApiError && e.status === 401)) error.textContent = messageOf(e);
        },
      );
    });
    root.append(form, result);
  },
  // The diagnosis runs on request; the periodic refresh only checks the session is still valid and leaves it alone.
  async refresh({ api }) {
    await api.call('GET', '/v1/clusters?limit=1');
  },
};
