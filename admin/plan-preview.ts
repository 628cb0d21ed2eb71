import type { ClusterDryRun } from '../src/shared/api/cluster-dry-run';
import type { PlanReport } from '../src/shared/api/plan';
import { badge, h } from './dom';

const place = (hostname: string | null, path: string | null) => `${hostname ?? '(catch-all)'}${path ? ` ${path}` : ''}`;

/** What a plan would change at Cloudflare (tunnel rules) and in the cluster (Kubernetes objects), as text. */
export function renderPlan(plan: PlanReport): HTMLElement {
  const verdicts = plan.results.map((r) =>
    h(
      'li',
      { 'data-verdict': r.status < 400 ? 'accepted' : 'refused' },
      badge(r.status < 400 ? 'accepted' : 'refused', r.status < 400 ? 'ok' : 'bad'),
      ` ${r.action}${r.id ? ` ${r.id}` : ''}`,
      r.error ? h('span', { class: 'bad-text' }, ` — ${r.error.message}`) : null,
    ),
  );
  const tunnels = plan.tunnels
    .filter((t) => t.status !== 'unchanged')
    .map((t) =>
      h(
        'div',
        { class: 'plan-tunnel', 'data-plan-tunnel': t.id },
        h('h4', {}, `Cloudflare: tunnel ${t.id} config ${t.status}${t.diff.reordered ? ' (rules reordered)' : ''}`),
        h(
          'ul',
          { class: 'plain' },
          t.diff.rules.map((r) =>
            h(
              'li',
              { 'data-change': r.change },
              badge(r.change, r.change === 'removed' ? 'bad' : r.change === 'added' ? 'ok' : 'warn'),
              ' ',
              h('code', {}, place(r.hostname, r.path)),
              r.before && r.after && r.before.service !== r.after.service
                ? ` ${r.before.service} → ${r.after.service}`
                : ` → ${(r.after ?? r.before)?.service ?? ''}`,
              r.afterIndex !== undefined ? h('span', { class: 'muted' }, ` (rule ${r.afterIndex + 1})`) : null,
            ),
          ),
        ),
      ),
    );
  // Every affected cluster is named, also when its objects stay as they are (a direct-mode route changes only Cloudflare).
  const clusters = plan.clusters.map((c) =>
    h(
      'div',
      { class: 'plan-cluster', 'data-plan-cluster': c.id },
      c.diff.noop
        ? h('h4', {}, `Cluster ${c.id}: no Kubernetes object changes`)
        : [
            h('h4', {}, `Cluster ${c.id}: revision ${c.revision}`),
            h(
              'ul',
              { class: 'plain' },
              (['created', 'changed', 'deleted'] as const).flatMap((kind) =>
                c.diff[kind].map((o) =>
                  h(
                    'li',
                    {},
                    badge(kind, kind === 'deleted' ? 'bad' : kind === 'created' ? 'ok' : 'warn'),
                    ' ',
                    h('code', {}, `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`),
                  ),
                ),
              ),
            ),
          ],
      c.dryRun ? renderDryRun(c.dryRun) : null,
    ),
  );
  return h(
    'div',
    { class: 'plan' },
    h('p', {}, `${plan.accepted} accepted, ${plan.refused} refused`),
    h('ul', { class: 'plain' }, verdicts),
    tunnels.length || clusters.length
      ? [tunnels, clusters]
      : h('p', { class: 'muted' }, 'Nothing would change at Cloudflare or in any cluster.'),
  );
}

const BAD_OUTCOMES = new Set(['conflict', 'invalid', 'error']);

/** The cluster pre-flight: what the cluster's API server said of each object (server-side dry run), or why it could not. */
function renderDryRun(run: ClusterDryRun): HTMLElement {
  const status = run.status.replace('_', ' ');
  const counts = run.summary
    ? Object.entries(run.summary)
        .filter(([, n]) => n > 0)
        .map(([outcome, n]) => `${n} ${outcome}`)
        .join(', ')
    : '';
  const head = h(
    'h5',
    {},
    'Pre-flight (server-side dry run): ',
    badge(status, run.status === 'completed' ? 'ok' : run.status === 'pending' ? 'warn' : 'bad'),
    counts ? ` ${counts}` : null,
  );
  if (run.status !== 'completed') {
    const detail = [run.message, run.url ? `result later at ${run.url}` : undefined].filter(Boolean).join('; ');
    return h('div', { class: 'dry-run', 'data-dry-run': run.cluster }, head, detail ? h('p', { class: 'muted' }, detail) : null);
  }
  const objects = run.objects
    .filter((o) => o.outcome !== 'unchanged')
    .map((o) => {
      let detail = '';
      if (o.outcome === 'changed' && o.fields?.length) detail = `: ${o.fields.join(', ')}`;
      else if (o.outcome === 'conflict' && o.conflicts?.length)
        detail = `: ${o.conflicts.map((x) => `${x.field} owned by ${x.manager}`).join(', ')}`;
      else if (o.message) detail = `: ${o.message}`;
      return h(
        'li',
        { 'data-outcome': o.outcome },
        badge(o.outcome, BAD_OUTCOMES.has(o.outcome) ? 'bad' : o.outcome === 'unchecked' ? 'warn' : 'ok'),
        ' ',
        h('code', {}, o.key),
        detail,
      );
    });
  return h(
    'div',
    { class: 'dry-run', 'data-dry-run': run.cluster },
    head,
    objects.length ? h('ul', { class: 'plain' }, objects) : h('p', { class: 'muted' }, 'Every object as it is in the cluster.'),
  );
}
