import type { Cluster } from '../../src/shared/api/cluster';
import type { PruneApproval } from '../../src/shared/api/prune-approval';
import type { Reregistration } from '../../src/shared/api/registration';
import { ApiError, messageOf } from '../api';
import { badge, h, notReported, table, when } from '../dom';
import { redraw } from '../redraw';
import { latestReports, type LatestReport } from '../reports';
import type { View, ViewContext } from '../view';

const path = (c: Cluster, rest: string) => `/v1/clusters/${encodeURIComponent(c.id)}/${rest}`;

/** The API's refusal in the cluster's own error cell (a viewer's 403 says who may approve). */
function failIn(id: string, error: unknown): void {
  if (error instanceof ApiError && error.status === 401) return;
  const cell = document.getElementById(id);
  if (cell) cell.textContent = messageOf(error);
}

async function approve(ctx: ViewContext, c: Cluster, revision: number): Promise<void> {
  try {
    const approval = await ctx.api.call<PruneApproval>('POST', path(c, 'prune-approvals'), { body: { revision } });
    ctx.notice(
      `Prune of revision ${approval.revision} on ${c.id} approved: the agent deletes those ${approval.objects.length} objects on its next pass.`,
    );
  } catch (error) {
    failIn(`prune-error-${c.id}`, error);
    return;
  }
  await ctx.refresh();
}

async function reregister(ctx: ViewContext, c: Cluster, credential: string): Promise<void> {
  if (!confirm(`Let a new agent replace the registered agent of ${c.id}? Its unused bootstrap tokens are revoked.`)) return;
  try {
    const done = await ctx.api.call<Reregistration>('POST', path(c, 'reregistration'), { body: { replacesCredential: credential } });
    ctx.notice(
      `Re-registration of ${c.id} requested (${done.revokedTokens} unused bootstrap token${done.revokedTokens === 1 ? '' : 's'} revoked): ` +
        'install the agent again with a fresh manifest (Install view or GET install.yaml); its registration replaces the old credential.',
    );
  } catch (error) {
    failIn(`rereg-error-${c.id}`, error);
    return;
  }
  await ctx.refresh();
}

interface PruneState {
  cluster: Cluster;
  latest: LatestReport | undefined;
  approvals: PruneApproval[];
}

/** The refused prune of the latest report: its revision, the objects, and Approve (or who already approved it). */
function refusalCell(ctx: ViewContext, { cluster, latest, approvals }: PruneState): HTMLElement[] {
  if (!latest) return [notReported()];
  const { report } = latest;
  if (!report.pruneRefused) return [h('span', {}, 'none')];
  const approved = approvals.find((a) => a.revision === report.revision);
  const objects = report.pruneRefusedObjects ?? [];
  return [
    h('p', { class: 'bad-text' }, `Revision ${report.revision}: ${report.pruneRefused}`),
    objects.length
      ? h(
          'details',
          { open: true },
          h('summary', {}, `${objects.length} object${objects.length === 1 ? '' : 's'} it would delete`),
          h(
            'ul',
            { class: 'plain mono' },
            objects.map((o) => h('li', {}, o)),
          ),
        )
      : h('p', {}, notReported('objects not reported by this agent')),
    approved
      ? h(
          'p',
          {},
          badge(approved.usedAt ? 'pruned' : 'approved', approved.usedAt ? 'ok' : 'warn'),
          ` by ${approved.approvedBy}, ${when(approved.approvedAt)}`,
        )
      : h(
          'button',
          {
            type: 'button',
            class: 'action primary',
            'aria-label': `Approve the prune of revision ${report.revision} on ${cluster.id}`,
            disabled: !ctx.can('editor'),
            'aria-describedby': ctx.can('editor') ? undefined : `prune-role-${cluster.id}`,
            onclick: () => void approve(ctx, cluster, report.revision),
          },
          'Approve',
        ),
    ...(approved || ctx.can('editor')
      ? []
      : [h('p', { id: `prune-role-${cluster.id}`, class: 'muted' }, 'Approving needs an editor or admin token.')]),
    h('p', { id: `prune-error-${cluster.id}`, class: 'field-error', role: 'alert' }),
  ];
}

function approvalsCell(approvals: PruneApproval[]): HTMLElement {
  if (!approvals.length) return h('span', { class: 'muted' }, 'none');
  return h(
    'ul',
    { class: 'plain' },
    approvals
      .slice(0, 5)
      .map((a) =>
        h(
          'li',
          {},
          `rev ${a.revision}, ${a.objects.length} objects, by ${a.approvedBy} ${when(a.approvedAt)}; `,
          a.usedAt ? `used ${when(a.usedAt)} (rev ${a.usedRevision ?? '?'})` : 'not used yet',
        ),
      ),
  );
}

function registrationRow(ctx: ViewContext, c: Cluster): HTMLTableRowElement {
  const credential = c.agentCredential;
  return h(
    'tr',
    { 'data-registration': c.id },
    h('td', { class: 'mono' }, c.id),
    h('td', { class: 'mono' }, credential ?? h('span', { class: 'muted' }, 'no agent registered yet')),
    h(
      'td',
      {},
      c.agentVersion ?? notReported(),
      c.kubernetesVersion ? h('div', { class: 'muted' }, `Kubernetes ${c.kubernetesVersion}`) : null,
    ),
    h('td', {}, c.reregistrationRequestedAt ? badge(`requested ${when(c.reregistrationRequestedAt)}`, 'warn') : 'no'),
    h(
      'td',
      {},
      credential && !c.reregistrationRequestedAt
        ? h(
            'button',
            {
              type: 'button',
              class: 'action',
              'aria-label': `Request re-registration of ${c.id}`,
              disabled: !ctx.can('admin'),
              title: ctx.can('admin') ? undefined : 'needs an admin token',
              onclick: () => void reregister(ctx, c, credential),
            },
            'Request re-registration',
          )
        : null,
      h('p', { id: `rereg-error-${c.id}`, class: 'field-error', role: 'alert' }),
    ),
  );
}

export const agents: View = {
  id: 'agents',
  title: 'Agents',
  mount(root) {
    root.append(
      h('h2', {}, 'Refused prunes'),
      h(
        'p',
        { class: 'muted' },
        "When a pass would delete more than the cluster's prune limit, the agent refuses and reports the objects. Approving (admin or editor) lets it delete exactly that set of that revision, once.",
      ),
      h('div', { id: 'prune-body' }),
      h('h2', {}, 'Agent registration'),
      h(
        'p',
        { class: 'muted' },
        'A registered cluster accepts no other agent until an admin requests re-registration naming the current credential (audited); the next agent installed with a fresh manifest then replaces it.',
      ),
      h('div', { id: 'registration-body' }),
    );
  },
  async refresh(ctx) {
    const clusters = await ctx.api.list<Cluster>('/v1/clusters');
    const [reports, approvals] = await Promise.all([
      latestReports(
        ctx.api,
        clusters.map((c) => c.id),
      ),
      Promise.all(clusters.map((c) => ctx.api.call<{ items: PruneApproval[] }>('GET', path(c, 'prune-approvals')).then((r) => r.items))),
    ]);
    const states: PruneState[] = clusters.map((cluster, i) => ({
      cluster,
      latest: reports.get(cluster.id),
      approvals: approvals[i] ?? [],
    }));
    redraw(
      'prune-body',
      states.map((s) => [
        s.cluster.id,
        s.latest?.report.revision,
        s.latest?.report.pruneRefused,
        s.latest?.report.pruneRefusedObjects,
        s.approvals,
      ]),
      () =>
        table(
          ['Cluster', 'Latest report', 'Refused prune', 'Approvals'],
          states.map((s) =>
            h(
              'tr',
              { 'data-prune': s.cluster.id },
              h('td', { class: 'mono' }, s.cluster.id),
              h('td', {}, s.latest ? `revision ${s.latest.report.revision}, ${when(s.latest.report.receivedAt)}` : notReported()),
              h('td', {}, refusalCell(ctx, s)),
              h('td', {}, approvalsCell(s.approvals)),
            ),
          ),
          'No clusters yet.',
        ),
    );
    redraw(
      'registration-body',
      clusters.map((c) => [c.id, c.agentCredential, c.agentVersion, c.kubernetesVersion, c.reregistrationRequestedAt]),
      () =>
        table(
          ['Cluster', 'Agent credential', 'Agent', 'Re-registration', ''],
          clusters.map((c) => registrationRow(ctx, c)),
          'No clusters yet.',
        ),
    );
  },
};
