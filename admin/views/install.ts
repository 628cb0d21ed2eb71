import type { Cluster } from '../../src/shared/api/cluster';
import type { InstallLink } from '../../src/shared/api/install-link';
import { ApiError, messageOf } from '../api';
import { badge, h, table, when } from '../dom';
import type { View, ViewContext } from '../view';

/** The last link minted in this tab; the view keeps showing it (and its cluster's state) while it refreshes. */
let minted: InstallLink | null = null;

/** Where a cluster stands for an install: no agent yet, waiting for a replacement, or registered. */
function agentState(cluster: Cluster): HTMLElement {
  if (!cluster.agentCredential) return badge('waiting for agent', 'warn');
  if (cluster.reregistrationRequestedAt) return badge('waiting for the replacement agent', 'warn');
  return badge(`agent registered (${cluster.connection})`, cluster.connection === 'connected' ? 'ok' : 'muted');
}

const fieldError = (id: string) => h('p', { class: 'field-error', id: `${id}-error` });

function showErrors(form: HTMLFormElement, error: unknown, general: HTMLElement): void {
  const paths: Record<string, string> = {
    'body.id': 'install-cluster',
    'body.name': 'install-name',
    'body.expiresInSeconds': 'install-ttl',
  };
  let placed = false;
  if (error instanceof ApiError)
    for (const d of error.details) {
      const target = paths[d.path];
      const slot = target ? form.querySelector<HTMLElement>(`#${target}-error`) : null;
      if (slot) {
        slot.textContent = d.message;
        placed = true;
      }
    }
  if (!placed) general.textContent = messageOf(error);
}

/**
 * Creates the cluster when it does not exist yet, then mints a signed link to its install manifest: the operator
 * pastes one `kubectl apply -f '<link>'` line, which holds no API token and stops working at the shown expiry.
 */
async function install(ctx: ViewContext, form: HTMLFormElement, general: HTMLElement): Promise<void> {
  const value = (id: string) => (form.querySelector(`#${id}`) as HTMLInputElement).value.trim();
  for (const slot of form.querySelectorAll('.field-error')) slot.textContent = '';
  general.textContent = '';
  const id = value('install-cluster');
  const minutes = Number(value('install-ttl') || '15');
  try {
    const exists = await ctx.api.call<Cluster>('GET', `/v1/clusters/${encodeURIComponent(id)}`).then(
      () => true,
      (e: unknown) => {
        if (e instanceof ApiError && e.status === 404) return false;
        throw e;
      },
    );
    if (!exists) await ctx.api.call('POST', '/v1/clusters', { body: { id, name: value('install-name') || id } });
    minted = await ctx.api.call<InstallLink>('POST', `/v1/clusters/${encodeURIComponent(id)}/install-link`, {
      body: { expiresInSeconds: Math.round(minutes * 60) },
    });
    document.getElementById('install-result')?.replaceChildren(linkCard(minted));
    ctx.notice(exists ? `Install link for ${id} minted.` : `Cluster ${id} created; install link minted.`);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) showErrors(form, error, general);
  }
  await ctx.refresh();
}

/**
 * The minted link, built once so a selection of the command survives the periodic refresh; `refresh` only rewrites
 * the expiry line and the cluster's agent state inside it.
 */
function linkCard(link: InstallLink): HTMLElement {
  const command = h('input', {
    id: 'install-command',
    class: 'mono',
    readonly: true,
    value: link.command,
    'aria-label': `kubectl command to install the agent on ${link.cluster}`,
  });
  return h(
    'section',
    { class: 'card', id: 'install-link', 'aria-labelledby': 'install-link-title', 'data-cluster': link.cluster },
    h('h3', { id: 'install-link-title' }, `Install the agent on ${link.cluster}`),
    h('p', {}, 'Run this once where kubectl talks to the cluster. The link carries no API token; it serves the manifest until it expires.'),
    command,
    h(
      'div',
      { class: 'toolbar' },
      h(
        'button',
        {
          type: 'button',
          class: 'action',
          onclick: () => {
            command.select();
            void navigator.clipboard?.writeText(link.command);
          },
        },
        'Copy command',
      ),
    ),
    h('p', { id: 'install-expiry' }),
    h('p', { id: 'install-agent' }),
  );
}

/** Rewrites the time-dependent parts of the link card: expired or not, and where the cluster's agent stands. */
function updateCard(link: InstallLink, cluster: Cluster | undefined, now: number): void {
  const expired = Date.parse(link.expiresAt) <= now;
  const expiry = document.getElementById('install-expiry');
  expiry?.toggleAttribute('data-expired', expired);
  expiry?.replaceChildren(
    expired ? badge('link expired', 'bad') : badge('link valid', 'ok'),
    ` ${expired ? 'expired' : 'expires'} ${when(link.expiresAt)}; its one-time bootstrap token ${link.tokenId} registers one agent until ${when(link.tokenExpiresAt)}.`,
  );
  document.getElementById('install-agent')?.replaceChildren('Cluster: ', cluster ? agentState(cluster) : badge('deleted', 'muted'));
}

export const installView: View = {
  id: 'install',
  title: 'Install a cluster',
  mount(root, ctx) {
    const general = h('p', { id: 'install-error', class: 'error', role: 'alert' });
    const field = (id: string, label: string, attrs: Record<string, string>) =>
      h(
        'div',
        {},
        h('label', { for: id }, label),
        h('input', { id, autocomplete: 'off', 'aria-describedby': `${id}-error`, ...attrs }),
        fieldError(id),
      );
    const form = h(
      'form',
      { id: 'install-form', class: 'card', 'aria-labelledby': 'install-title', novalidate: true },
      h('h2', { id: 'install-title' }, 'Install a cluster'),
      h(
        'p',
        { class: 'muted' },
        'Creates the cluster if it does not exist, then gives one kubectl line with a short-lived signed link to its install manifest.',
      ),
      h(
        'div',
        { class: 'fields' },
        field('install-cluster', 'Cluster id', { placeholder: 'gpu-lab', required: 'true' }),
        field('install-name', 'Name (for a new cluster)', { placeholder: 'GPU lab' }),
        field('install-ttl', 'Link lifetime (minutes)', { type: 'number', min: '1', max: '1440', value: '15' }),
      ),
      general,
      h(
        'div',
        { class: 'toolbar' },
        h('button', { type: 'submit', id: 'install-submit', class: 'action primary' }, 'Get install command'),
        h('span', { id: 'install-role', class: 'muted' }),
      ),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void install(ctx, form, general);
    });
    root.append(
      form,
      h('div', { id: 'install-result', 'aria-live': 'polite' }),
      h('h2', {}, 'Clusters'),
      h('div', { id: 'install-clusters' }),
    );
  },
  async refresh(ctx) {
    const { api } = ctx;
    // An install link is worth a bootstrap token: admins only (the API refuses anyone else too).
    const submit = document.getElementById('install-submit');
    if (submit instanceof HTMLButtonElement) submit.disabled = !ctx.can('admin');
    const note = document.getElementById('install-role');
    if (note) note.textContent = ctx.can('admin') ? '' : 'Installing a cluster needs an admin token.';
    const clusters = await api.list<Cluster>('/v1/clusters');
    const now = Date.now();
    if (minted)
      updateCard(
        minted,
        clusters.find((c) => c.id === minted?.cluster),
        now,
      );
    document.getElementById('install-clusters')?.replaceChildren(
      table(
        ['Cluster', 'Agent', 'Last seen'],
        clusters.map((c) =>
          h('tr', { 'data-cluster': c.id }, h('td', { class: 'mono' }, c.id), h('td', {}, agentState(c)), h('td', {}, when(c.lastSeenAt))),
        ),
        'No clusters yet.',
      ),
    );
  },
};
