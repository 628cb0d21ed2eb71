import type { AuditEntry } from '../../src/shared/api/token';
import type { ListPage } from '../api';
import { h, table, when } from '../dom';
import type { View } from '../view';

type Flat = Map<string, string>;

/** Flattens a JSON value to `a.b[0].c → value` lines, so a diff can name each field that changed. */
function flatten(value: unknown, prefix = '', out: Flat = new Map()): Flat {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value)
      ? value.map((v, i) => [`[${i}]`, v] as const)
      : Object.entries(value).map(([k, v]) => [prefix ? `.${k}` : k, v] as const);
    if (entries.length === 0) out.set(prefix || '(value)', Array.isArray(value) ? '[]' : '{}');
    for (const [key, v] of entries) flatten(v, `${prefix}${key}`, out);
  } else if (value !== undefined) out.set(prefix || '(value)', JSON.stringify(value));
  return out;
}

/** Field-by-field before/after of one audit entry (the API has already redacted secrets). */
function diff(entry: AuditEntry): HTMLElement {
  const before = flatten(entry.before);
  const after = flatten(entry.after);
  const keys = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k)).sort();
  return h(
    'details',
    { class: 'diff' },
    h('summary', {}, `${keys.length} field${keys.length === 1 ? '' : 's'} changed`),
    table(
      ['Field', 'Before', 'After'],
      keys.map((k) =>
        h(
          'tr',
          {},
          h('td', { class: 'mono' }, k),
          h('td', { class: 'mono' }, before.get(k) ?? '—'),
          h('td', { class: 'mono' }, after.get(k) ?? '—'),
        ),
      ),
      'No field changed.',
    ),
  );
}

export const audit: View = {
  id: 'audit',
  title: 'Audit',
  mount(root, ctx) {
    const form = h(
      'form',
      { id: 'audit-filter', class: 'toolbar', role: 'search', 'aria-label': 'Filter the audit log' },
      h('label', { for: 'audit-type' }, 'Entity type'),
      h('input', { id: 'audit-type', placeholder: 'route', autocomplete: 'off' }),
      h('label', { for: 'audit-id' }, 'Entity id'),
      h('input', { id: 'audit-id', autocomplete: 'off' }),
      h('button', { type: 'submit', class: 'action' }, 'Filter'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void ctx.refresh();
    });
    root.append(h('h2', {}, 'Audit log ', h('small', { class: 'muted' }, '(newest first)')), form, h('div', { id: 'audit-body' }));
  },
  async refresh({ api }) {
    const type = (document.getElementById('audit-type') as HTMLInputElement | null)?.value.trim() ?? '';
    const id = (document.getElementById('audit-id') as HTMLInputElement | null)?.value.trim() ?? '';
    const query = new URLSearchParams({ limit: '100' });
    if (type) query.set('entityType', type);
    if (id) query.set('entityId', id);
    const page = await api.call<ListPage<AuditEntry>>('GET', `/v1/audit?${query.toString()}`);
    // Keep open diffs open across the periodic refresh.
    const open = new Set(
      [...document.querySelectorAll('#audit-body tr[data-audit] details[open]')].map((d) => d.closest('tr')?.dataset.audit),
    );
    document.getElementById('audit-body')?.replaceChildren(
      table(
        ['Time', 'Actor', 'Action', 'Entity', 'Change'],
        page.items.map((a) => {
          const row = h(
            'tr',
            { 'data-audit': a.id },
            h('td', {}, when(a.at)),
            h('td', { class: 'mono' }, a.actor),
            h('td', {}, a.action),
            h('td', { class: 'mono' }, `${a.entityType} ${a.entityId}`),
            h('td', {}, diff(a)),
          );
          if (open.has(String(a.id))) row.querySelector('details')?.setAttribute('open', '');
          return row;
        }),
        'Nothing audited yet.',
      ),
    );
  },
};
