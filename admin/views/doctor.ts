import type { TraceLink, TraceLinkName, TraceResponse } from '../../src/shared/api/trace';
import { ApiError, messageOf } from '../api';
import { h } from '../dom';
import type { View, ViewContext } from '../view';

const LABELS: Record<TraceLinkName, string> = {
  route: 'Route',
  dns: 'DNS record',
  rule: 'Rule',
  origin: 'Origin',
  connectors: 'Connectors',
  workload: 'Workload',
};

/**
 * The chain from a URL to its origin as edgeplane knows it, from GET /v1/trace: the same answer the CLI's
 * `edgeplane trace` and scripts get, so the page never diagnoses differently from them.
 */
async function trace(ctx: ViewContext, raw: string): Promise<TraceResponse> {
  return ctx.api.call<TraceResponse>('GET', `/v1/trace?url=${encodeURIComponent(raw)}`);
}

function render(answer: TraceResponse): HTMLElement {
  const item = (l: TraceLink) =>
    h(
      'li',
      { 'data-link': LABELS[l.link], 'data-state': l.status, 'data-first-broken': l.link === answer.firstBroken },
      h('strong', {}, LABELS[l.link]),
      ': ',
      l.status === 'unknown' ? 'not known' : l.status,
      ' — ',
      l.summary,
      l.suggestion && l.status !== 'ok' && !l.summary.includes(l.suggestion)
        ? h('span', { class: 'muted' }, ` (fix: ${l.suggestion})`)
        : null,
      l.link === answer.firstBroken ? h('strong', { class: 'bad-text' }, ' ← first broken link') : null,
    );
  return h('ol', { class: 'plain chain', id: 'doctor-chain' }, answer.links.map(item));
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
        (answer) => result.replaceChildren(render(answer)),
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
