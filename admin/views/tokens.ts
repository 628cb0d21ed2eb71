import type { Token } from '../../src/shared/api/token';
import { ApiError, messageOf } from '../api';
import { byId, h, table, when } from '../dom';
import { clearError, redraw, showError } from '../redraw';
import type { View, ViewContext } from '../view';

type CreatedToken = Token & { secret: string };

const ROLES = ['viewer', 'editor', 'admin', 'inference'] as const;

async function revoke(ctx: ViewContext, t: Token): Promise<void> {
  if (!confirm(`Revoke token "${t.name}"? Whoever uses it is refused from now on.`)) return;
  try {
    await ctx.api.call('DELETE', `/v1/tokens/${encodeURIComponent(t.id)}`);
    ctx.notice(`Token "${t.name}" revoked.`);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) ctx.error(messageOf(error));
  }
  await ctx.refresh();
}

async function create(ctx: ViewContext): Promise<void> {
  clearError('token-error');
  byId('token-secret').hidden = true;
  const name = byId<HTMLInputElement>('token-name').value.trim();
  const role = byId<HTMLSelectElement>('token-role').value;
  const days = byId<HTMLInputElement>('token-days').value.trim();
  const scopes = byId<HTMLInputElement>('token-scopes')
    .value.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // Sent as typed: the API names what is wrong (an empty name, a day count out of range, an unknown scope).
  const body = { name, role, ...(scopes.length ? { scopes } : {}), ...(days ? { expiresInDays: Number(days) } : {}) };
  try {
    const created = await ctx.api.call<CreatedToken>('POST', '/v1/tokens', { body });
    // The secret lives only in this box until it is dismissed; it is never stored or shown again.
    byId('token-secret-value').textContent = created.secret;
    byId('token-secret-name').textContent = created.name;
    byId('token-secret').hidden = false;
    byId<HTMLFormElement>('token-form').reset();
    byId('token-secret-value').focus();
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) showError('token-error', error);
  }
  await ctx.refresh();
}

function tokenRow(ctx: ViewContext, t: Token): HTMLTableRowElement {
  return h(
    'tr',
    { 'data-token': t.id },
    h('td', {}, t.name),
    h('td', {}, t.role),
    h('td', { class: 'mono' }, t.scopes.length ? t.scopes.join(', ') : '—'),
    h('td', {}, t.expiresAt ? when(t.expiresAt) : 'never'),
    h('td', {}, t.lastUsedAt ? when(t.lastUsedAt) : h('span', { class: 'muted' }, 'never used')),
    h('td', {}, when(t.createdAt)),
    h(
      'td',
      { class: 'actions' },
      h(
        'button',
        { type: 'button', class: 'action danger', 'aria-label': `Revoke token ${t.name}`, onclick: () => void revoke(ctx, t) },
        'Revoke',
      ),
    ),
  );
}

export const tokens: View = {
  id: 'tokens',
  title: 'Tokens',
  mount(root, ctx) {
    const form = h(
      'form',
      { id: 'token-form', class: 'card', 'aria-labelledby': 'token-form-title' },
      h('h3', { id: 'token-form-title' }, 'Create a token'),
      h(
        'div',
        { class: 'fields' },
        h(
          'div',
          {},
          h('label', { for: 'token-name' }, 'Name'),
          h('input', { id: 'token-name', autocomplete: 'off', placeholder: 'ci deploy' }),
        ),
        h(
          'div',
          {},
          h('label', { for: 'token-role' }, 'Role'),
          h(
            'select',
            { id: 'token-role' },
            ROLES.map((r) => h('option', { value: r }, r)),
          ),
        ),
        h(
          'div',
          {},
          h('label', { for: 'token-days' }, 'Expires in days (empty: never)'),
          h('input', { id: 'token-days', type: 'number', min: 1, max: 3650, inputmode: 'numeric' }),
        ),
        h(
          'div',
          {},
          h('label', { for: 'token-scopes' }, 'Inference scopes (comma-separated)'),
          h('input', { id: 'token-scopes', autocomplete: 'off' }),
        ),
      ),
      h('p', { id: 'token-error', class: 'error', role: 'alert' }),
      h('div', { class: 'toolbar' }, h('button', { type: 'submit', class: 'action primary' }, 'Create token')),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void create(ctx);
    });
    const secret = h(
      'div',
      { id: 'token-secret', class: 'card secret', role: 'status', hidden: true },
      h(
        'p',
        {},
        'The secret of ',
        h('strong', { id: 'token-secret-name' }),
        ' is shown once, now. Copy it: edgeplane keeps only its hash.',
      ),
      h('pre', { class: 'command', id: 'token-secret-value', tabindex: 0, 'aria-label': 'The new token secret' }),
      h(
        'div',
        { class: 'toolbar' },
        h(
          'button',
          {
            type: 'button',
            class: 'action',
            onclick: () => {
              byId('token-secret-value').textContent = '';
              byId('token-secret').hidden = true;
            },
          },
          'I have copied it',
        ),
      ),
    );
    root.append(
      h('h2', {}, 'API tokens'),
      h('p', { class: 'muted' }, 'Admin only. Secrets are never listed: a token is shown once, when it is created.'),
      h('div', { id: 'tokens-body' }),
      secret,
      form,
    );
  },
  async refresh(ctx) {
    let list: Token[];
    try {
      list = await ctx.api.list<Token>('/v1/tokens');
    } catch (error) {
      // A viewer or editor may browse the console; tokens are the admin's, so say so here instead of failing the view.
      if (error instanceof ApiError && error.status === 403) {
        redraw('tokens-body', 'forbidden', () => h('p', { class: 'muted' }, `Not shown: ${error.message}`));
        return;
      }
      throw error;
    }
    redraw('tokens-body', list, () =>
      table(
        ['Name', 'Role', 'Scopes', 'Expires', 'Last used', 'Created', ''],
        list.map((t) => tokenRow(ctx, t)),
        'No tokens.',
      ),
    );
  },
};
