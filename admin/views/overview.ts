import type { Cluster } from '../../src/shared/api/cluster';
import type { SyncStatus, SyncTarget } from '../../src/shared/api/sync';
import type { Tunnel } from '../../src/shared/api/tunnel';
import { badge, h, notReported, table, when, type Tone } from '../dom';
import { latestReports, type LatestReport } from '../reports';
import type { View } from '../view';

const CONNECTION_TONE: Record<Cluster['connection'], Tone> = { connected: 'ok', unreachable: 'bad', unauthorized: 'bad', never: 'muted' };
const HEALTH_TONE: Record<string, Tone> = { Current: 'ok', InProgress: 'warn', Failed: 'bad' };

function connectionCell(c: Cluster): HTMLTableCellElement {
  // A cluster whose agent never registered is waiting for its install (see the Install view).
  return h('td', {}, badge(c.connection === 'never' ? 'waiting for agent' : c.connection, CONNECTION_TONE[c.connection]));
}

function revisionCell(c: Cluster): HTMLTableCellElement {
  if (c.appliedRevision === null) return h('td', { class: 'num' }, `${c.desiredRevision} / `, notReported('none applied'));
  const behind = c.appliedRevision !== c.desiredRevision;
  return h('td', { class: `num${behind ? ' behind' : ''}` }, `${c.desiredRevision} / ${c.appliedRevision}`, behind ? ' (behind)' : '');
}

function healthCell(latest: LatestReport | undefined): HTMLTableCellElement {
  if (!latest?.health) return h('td', {}, notReported());
  const { status, connectors, origins } = latest.health;
  const broken = origins.filter((o) => !o.ok).length;
  return h(
    'td',
    {},
    badge(status, HEALTH_TONE[status] ?? 'muted'),
    h('div', { class: 'muted' }, `connectors ${connectors.ready}/${connectors.desired} ready`),
    broken ? h('div', { class: 'bad-text' }, `${broken} origin${broken === 1 ? '' : 's'} not found`) : null,
  );
}

function clusterRow(c: Cluster, latest: LatestReport | undefined): HTMLTableRowElement {
  const conflicts = latest?.conflicts ?? [];
  return h(
    'tr',
    { 'data-cluster': c.id },
    h('td', { class: 'mono' }, c.id),
    h('td', {}, c.name),
    connectionCell(c),
    h('td', {}, when(c.lastSeenAt)),
    revisionCell(c),
    healthCell(latest),
    h(
      'td',
      { class: 'conflicts' },
      !latest
        ? notReported()
        : conflicts.length === 0
          ? 'none'
          : h(
              'ul',
              { class: 'plain' },
              conflicts.map((x) =>
                h('li', {}, h('code', {}, x.object), ' ', h('code', {}, x.field), ' owned by ', h('strong', {}, x.manager)),
              ),
            ),
    ),
    h(
      'td',
      { class: 'prune' },
      !latest ? notReported() : latest.report.pruneRefused ? h('span', { class: 'bad-text' }, latest.report.pruneRefused) : 'no',
    ),
  );
}

/** The sync target of a tunnel's remote config (or of the tunnel itself while it is being created). */
function tunnelTargets(t: Tunnel, targets: SyncTarget[]): SyncTarget[] {
  return targets.filter((s) => (s.kind === 'tunnel_config' || s.kind === 'tunnel') && s.target === t.id);
}

function tunnelRow(t: Tunnel, targets: SyncTarget[]): HTMLTableRowElement {
  const own = tunnelTargets(t, targets);
  const config = own.find((s) => s.kind === 'tunnel_config');
  const pending = own.reduce((n, s) => n + s.pending, 0);
  const drift = own.find((s) => s.drift)?.drift;
  const checked = own.some((s) => s.driftCheckedAt);
  const errors = own.filter((s) => s.lastError);
  return h(
    'tr',
    { 'data-tunnel-row': t.id },
    h('td', { class: 'mono' }, h('a', { href: `#/tunnels` }, t.id)),
    h('td', { class: 'mono' }, t.cluster),
    h('td', { class: 'num' }, config?.remoteVersion ?? notReported('not synced yet')),
    h(
      'td',
      {},
      drift
        ? h('span', { class: 'bad-text' }, `${drift.summary}${drift.reverted ? ' (reverted)' : ''}`)
        : checked
          ? 'none'
          : notReported('not checked yet'),
    ),
    h('td', { class: 'num' }, pending ? badge(`${pending} pending`, 'warn') : 'none'),
    h('td', {}, errors.length ? errors.map((e) => h('div', { class: 'bad-text' }, `${e.kind}: ${e.lastError ?? ''}`)) : 'none'),
  );
}

function failingRows(status: SyncStatus): HTMLTableRowElement[] {
  const accounts = status.accounts
    .filter((a) => a.lastError || a.waiting)
    .map((a) =>
      h(
        'tr',
        {},
        h('td', {}, 'account'),
        h('td', { class: 'mono' }, a.account),
        h('td', {}, a.pending),
        h('td', { class: 'bad-text' }, a.lastError ?? a.waiting ?? ''),
      ),
    );
  const targets = status.targets
    .filter((s) => s.lastError || s.conflict)
    .map((s) =>
      h(
        'tr',
        {},
        h('td', {}, s.kind),
        h('td', { class: 'mono' }, s.target),
        h('td', {}, `${s.pending} (attempt ${s.attempts}${s.nextAttemptAt ? `, next ${when(s.nextAttemptAt)}` : ''})`),
        h('td', { class: 'bad-text' }, s.conflict ? `conflict: ${s.conflict}` : (s.lastError ?? '')),
      ),
    );
  return [...accounts, ...targets];
}

export const overview: View = {
  id: 'overview',
  title: 'Overview',
  mount(root) {
    root.append(
      h('h2', {}, 'Clusters'),
      h('div', { id: 'clusters-body' }),
      h('h2', {}, 'Tunnels'),
      h('div', { id: 'tunnels-summary' }),
      h('h2', {}, 'Failing Cloudflare work'),
      h('div', { id: 'sync-failing' }),
    );
  },
  async refresh({ api }) {
    const [clusters, tunnels, sync] = await Promise.all([
      api.list<Cluster>('/v1/clusters'),
      api.list<Tunnel>('/v1/tunnels'),
      api.call<SyncStatus>('GET', '/v1/sync'),
    ]);
    const reports = await latestReports(
      api,
      clusters.map((c) => c.id),
    );
    document.getElementById('clusters-body')?.replaceChildren(
      table(
        ['ID', 'Name', 'Connection', 'Last seen', 'Desired / applied', 'Health', 'Conflicts', 'Prune refused'],
        clusters.map((c) => clusterRow(c, reports.get(c.id))),
        'No clusters yet: add one in the Install view.',
      ),
    );
    document.getElementById('tunnels-summary')?.replaceChildren(
      table(
        ['Tunnel', 'Cluster', 'Remote config version', 'Drift', 'Pending Cloudflare work', 'Last error'],
        tunnels.map((t) => tunnelRow(t, sync.targets)),
        'No tunnels yet.',
      ),
    );
    const failing = failingRows(sync);
    document
      .getElementById('sync-failing')
      ?.replaceChildren(table(['Kind', 'Target', 'Pending', 'Last error'], failing, 'Nothing failing.', { id: 'failing-table' }));
  },
};
