import type { Cluster } from '../../src/shared/api/cluster';
import type { Probe } from '../../src/shared/api/probe';
import { ApiError } from '../api';
import { badge, byId, h, notReported, table, when } from '../dom';
import { clearError, redraw, showError } from '../redraw';
import type { View, ViewContext } from '../view';

type Row = NonNullable<Probe['matrix']>[number];
type Cell = Row['cells'][number];

/**
 * Reads the targets field: one target per line (or comma), `host:port`, with ` tls` after it for a TLS handshake.
 * What is not `host:port` is sent as the host with no port, so the API's 422 names the line's field.
 */
export function parseTargets(text: string): { host: string; port?: number; tls?: boolean }[] {
  return text
    .split(/[\n,]/)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [address = '', ...flags] = line.split(/\s+/);
      const tls = flags.includes('tls');
      const match = /^(.+):(\d+)$/.exec(address);
      if (!match?.[1] || !match[2]) return { host: address, ...(tls ? { tls } : {}) };
      return { host: match[1].replace(/^\[|\]$/g, ''), port: Number(match[2]), ...(tls ? { tls } : {}) };
    });
}

async function runProbe(ctx: ViewContext): Promise<void> {
  clearError('probe-error');
  const cluster = byId<HTMLSelectElement>('probe-cluster').value;
  const targets = parseTargets(byId<HTMLTextAreaElement>('probe-targets').value);
  try {
    const probe = await ctx.api.call<Probe>('POST', `/v1/clusters/${encodeURIComponent(cluster)}/probes`, { body: { targets } });
    ctx.notice(`Probe ${probe.id} sent to ${cluster}'s agent; its matrix shows here when the agent reports it.`);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) showError('probe-error', error);
    return;
  }
  await ctx.refresh();
}

function cellView(cell: Cell | undefined, ran: boolean): HTMLTableCellElement {
  if (!ran || !cell) return h('td', { class: 'muted' }, 'not run');
  if (cell.ok)
    return h(
      'td',
      { 'data-state': 'ok' },
      badge('ok', 'ok'),
      cell.latencyMs === null ? '' : ` ${cell.latencyMs} ms`,
      cell.address ? h('div', { class: 'muted mono' }, cell.address) : null,
    );
  return h(
    'td',
    { 'data-state': 'error' },
    badge(cell.error?.kind ?? 'error', 'bad'),
    cell.error ? h('div', { class: 'bad-text' }, cell.error.message) : null,
  );
}

function matrixTable(probe: Probe): HTMLElement {
  const matrix = probe.matrix ?? [];
  const targets = probe.request.targets.map((t) => `${t.host}:${t.port}${t.tls ? ' (TLS)' : ''}`);
  return table(
    ['Node', ...targets],
    matrix.map((row) =>
      h(
        'tr',
        { 'data-node': row.node },
        h(
          'th',
          { scope: 'row', class: 'mono' },
          row.node,
          row.ran ? null : h('div', { class: 'bad-text' }, `did not run: ${row.message ?? 'no reason given'}`),
        ),
        probe.request.targets.map((_, i) => cellView(row.cells[i], row.ran)),
      ),
    ),
    'The probe completed with no node.',
    { class: 'matrix', 'aria-label': `Egress matrix of probe ${probe.id}` },
  );
}

function clusterSection(cluster: Cluster, probes: Probe[]): HTMLElement {
  const last = probes.find((p) => p.status === 'completed');
  const pending = probes.filter((p) => p.status === 'pending');
  return h(
    'div',
    { 'data-egress': cluster.id },
    h('h3', {}, cluster.id, ' ', h('small', {}, last ? `probe ${last.id}, completed ${when(last.completedAt)}` : '')),
    pending.length
      ? h('p', {}, badge(`${pending.length} waiting for the agent`, 'warn'), ` since ${when(pending[pending.length - 1]?.createdAt)}`)
      : null,
    last ? matrixTable(last) : h('p', {}, notReported('no probe reported yet')),
  );
}

export const egress: View = {
  id: 'egress',
  title: 'Egress',
  mount(root, ctx) {
    const form = h(
      'form',
      { id: 'probe-form', class: 'card', 'aria-labelledby': 'probe-form-title' },
      h('h3', { id: 'probe-form-title' }, 'Run a probe'),
      h(
        'div',
        { class: 'fields' },
        h('div', {}, h('label', { for: 'probe-cluster' }, 'Cluster'), h('select', { id: 'probe-cluster' })),
        h(
          'div',
          { class: 'wide' },
          h('label', { for: 'probe-targets' }, 'Targets: host:port, one per line; add " tls" for a TLS handshake'),
          h('textarea', { id: 'probe-targets', rows: 3, spellcheck: 'false', placeholder: 'db.example.com:5432\napi.example.com:443 tls' }),
        ),
      ),
      h('div', { id: 'probe-error', class: 'error', role: 'alert' }),
      h('div', { class: 'toolbar' }, h('button', { type: 'submit', class: 'action primary' }, 'Run probe')),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void runProbe(ctx);
    });
    root.append(
      h('h2', {}, 'Node egress'),
      h(
        'p',
        { class: 'muted' },
        'The last matrix per cluster: from each node, whether each target resolved, connected (and completed TLS) and how long it took, or the error.',
      ),
      h('div', { id: 'egress-body' }),
      form,
    );
  },
  async refresh({ api }) {
    const clusters = await api.list<Cluster>('/v1/clusters');
    const probes = await Promise.all(
      clusters.map((c) =>
        api.call<{ items: Probe[] }>('GET', `/v1/clusters/${encodeURIComponent(c.id)}/probes?limit=10`).then((r) => r.items),
      ),
    );
    const select = byId<HTMLSelectElement>('probe-cluster');
    const ids = clusters.map((c) => c.id);
    if ([...select.options].map((o) => o.value).join() !== ids.join()) {
      const chosen = select.value;
      select.replaceChildren(...ids.map((id) => h('option', { value: id }, id)));
      if (ids.includes(chosen)) select.value = chosen;
    }
    redraw('egress-body', probes, () =>
      clusters.length ? clusters.map((c, i) => clusterSection(c, probes[i] ?? [])) : h('p', { class: 'muted' }, 'No clusters yet.'),
    );
  },
};
