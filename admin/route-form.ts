import type { PlanChange, PlanReport } from '../src/shared/api/plan';
import type { Route, RouteCreate, RouteUpdate } from '../src/shared/api/route';
import type { Tunnel } from '../src/shared/api/tunnel';
import { ApiError, messageOf } from './api';
import { h } from './dom';
import { renderPlan } from './plan-preview';
import type { ViewContext } from './view';

// API detail paths → the form field that explains them. A plan's schema errors name body.changes.0.route.<field>.
const FIELD_OF: Record<string, string> = {
  tunnel: 'route-tunnel',
  hostname: 'route-hostname',
  path: 'route-path',
  pathRegex: 'route-path',
  'origin.service.namespace': 'route-namespace',
  'origin.service.name': 'route-service',
  'origin.service.port': 'route-port',
  'origin.url': 'route-url',
  origin: 'route-url',
};
const fieldOf = (path: string) => FIELD_OF[path.replace(/^body\.changes\.\d+\.route\./, '').replace(/^body\./, '')];

function field(id: string, label: string, attrs: Record<string, string> = {}): HTMLDivElement {
  return h(
    'div',
    {},
    h('label', { for: id }, label),
    h('input', { id, autocomplete: 'off', 'aria-describedby': `${id}-error`, ...attrs }),
    h('p', { class: 'field-error', id: `${id}-error`, 'aria-live': 'polite' }),
  );
}

const input = (form: HTMLFormElement, id: string): HTMLInputElement | HTMLSelectElement => {
  const el = form.querySelector(`#${id}`);
  if (!(el instanceof HTMLInputElement || el instanceof HTMLSelectElement)) throw new Error(`no field #${id}`);
  return el;
};

/**
 * The add / edit route form. "Preview plan" sends the change to POST /v1/plan (the same code as the write, stopped
 * before the commit) and shows what would change; "Save" is enabled only for the form contents that were previewed.
 */
export class RouteForm {
  readonly element: HTMLFormElement;
  private editing: Route | null = null;
  private previewed: string | null = null;

  constructor(private readonly ctx: ViewContext) {
    this.element = h(
      'form',
      { id: 'route-form', class: 'card', 'aria-labelledby': 'route-form-title', novalidate: true },
      h('h3', { id: 'route-form-title' }, 'Add a route'),
      h(
        'div',
        { class: 'fields' },
        h(
          'div',
          {},
          h('label', { for: 'route-tunnel' }, 'Tunnel'),
          h('select', { id: 'route-tunnel', 'aria-describedby': 'route-tunnel-error' }),
          h('p', { class: 'field-error', id: 'route-tunnel-error' }),
        ),
        field('route-hostname', 'Hostname', { placeholder: 'app.example.com' }),
        field('route-path', 'Path prefix (optional)', { placeholder: '/api' }),
        h(
          'div',
          { class: 'inline' },
          h('input', { type: 'checkbox', id: 'route-path-regex' }),
          h('label', { for: 'route-path-regex' }, 'The path is a cloudflared regular expression (RE2, unanchored)'),
        ),
      ),
      h(
        'fieldset',
        {},
        h('legend', { class: 'muted' }, 'Origin'),
        h('input', {
          type: 'radio',
          id: 'origin-service',
          name: 'origin-kind',
          value: 'service',
          checked: true,
          onchange: () => this.setOriginKind(),
        }),
        h('label', { for: 'origin-service' }, 'Service in the cluster'),
        h('input', { type: 'radio', id: 'origin-url', name: 'origin-kind', value: 'url', onchange: () => this.setOriginKind() }),
        h('label', { for: 'origin-url' }, 'URL'),
      ),
      h(
        'div',
        { class: 'fields', id: 'service-fields' },
        field('route-namespace', 'Namespace', { placeholder: 'default' }),
        field('route-service', 'Service name', { placeholder: 'web' }),
        field('route-port', 'Port', { type: 'number', min: '1', max: '65535', placeholder: '80' }),
      ),
      h(
        'div',
        { class: 'fields', id: 'url-fields', hidden: true },
        field('route-url', 'Origin URL', { placeholder: 'http://localhost:8000' }),
      ),
      h('p', { id: 'route-error', class: 'error', role: 'alert' }),
      h('section', { id: 'plan-preview', 'aria-live': 'polite', 'aria-label': 'Plan preview' }),
      h(
        'div',
        { class: 'toolbar' },
        h('button', { type: 'button', id: 'route-cancel', class: 'action', hidden: true, onclick: () => this.reset() }, 'Cancel edit'),
        h('button', { type: 'submit', class: 'action' }, 'Preview plan'),
        h(
          'span',
          { class: 'inline' },
          h('input', { type: 'checkbox', id: 'plan-dry-run' }),
          h('label', { for: 'plan-dry-run' }, "with the cluster's pre-flight (its agent dry-runs the objects; up to 10 s)"),
        ),
        h(
          'button',
          { type: 'button', id: 'route-save', class: 'action primary', disabled: true, onclick: () => void this.save() },
          'Save route',
        ),
      ),
    );
    this.element.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.preview();
    });
    // Any edit after a preview needs a new preview before it can be saved.
    this.element.addEventListener('input', () => this.invalidate());
  }

  /** Offers the tunnels (keeping the current choice). */
  setTunnels(tunnels: Tunnel[]): void {
    const select = input(this.element, 'route-tunnel');
    const previous = select.value;
    select.replaceChildren(...tunnels.map((t) => h('option', { value: t.id }, `${t.id} (${t.cluster})`)));
    if (tunnels.some((t) => t.id === previous)) select.value = previous;
  }

  /** Loads a route into the form for editing (PATCH with its etag). */
  edit(route: Route): void {
    this.reset();
    this.editing = route;
    const f = this.element;
    input(f, 'route-tunnel').value = route.tunnel;
    input(f, 'route-tunnel').disabled = true;
    input(f, 'route-hostname').value = route.hostname;
    input(f, 'route-path').value = route.pathRegex ?? route.path ?? '';
    (input(f, 'route-path-regex') as HTMLInputElement).checked = route.pathRegex !== null;
    const byUrl = 'url' in route.origin;
    (input(f, byUrl ? 'origin-url' : 'origin-service') as HTMLInputElement).checked = true;
    if ('url' in route.origin) input(f, 'route-url').value = route.origin.url;
    else {
      input(f, 'route-namespace').value = route.origin.service.namespace;
      input(f, 'route-service').value = route.origin.service.name;
      input(f, 'route-port').value = String(route.origin.service.port);
    }
    this.setOriginKind();
    const title = f.querySelector('#route-form-title');
    if (title) title.textContent = `Edit route ${route.hostname}${route.pathRegex ?? route.path ?? ''}`;
    (f.querySelector('#route-cancel') as HTMLButtonElement).hidden = false;
    input(f, 'route-hostname').focus();
  }

  private reset(): void {
    this.editing = null;
    this.element.reset();
    input(this.element, 'route-tunnel').disabled = false;
    const title = this.element.querySelector('#route-form-title');
    if (title) title.textContent = 'Add a route';
    (this.element.querySelector('#route-cancel') as HTMLButtonElement).hidden = true;
    this.setOriginKind();
    this.clearErrors();
    this.invalidate();
  }

  private setOriginKind(): void {
    const byUrl = (input(this.element, 'origin-url') as HTMLInputElement).checked;
    (this.element.querySelector('#service-fields') as HTMLElement).hidden = byUrl;
    (this.element.querySelector('#url-fields') as HTMLElement).hidden = !byUrl;
  }

  private body(): RouteCreate {
    const f = this.element;
    const byUrl = (input(f, 'origin-url') as HTMLInputElement).checked;
    // A regex is taken byte for byte (a leading space is part of it); a prefix is trimmed.
    const regex = (input(f, 'route-path-regex') as HTMLInputElement).checked;
    const path = regex ? input(f, 'route-path').value : input(f, 'route-path').value.trim();
    return {
      tunnel: input(f, 'route-tunnel').value,
      hostname: input(f, 'route-hostname').value.trim(),
      ...(path ? (regex ? { pathRegex: path } : { path }) : {}),
      origin: byUrl
        ? { url: input(f, 'route-url').value.trim() }
        : {
            service: {
              namespace: input(f, 'route-namespace').value.trim(),
              name: input(f, 'route-service').value.trim(),
              port: Number(input(f, 'route-port').value),
            },
          },
    } as RouteCreate;
  }

  private patch(body: RouteCreate): RouteUpdate {
    // One path matcher replaces the other; with neither, both are removed.
    const matcher = body.pathRegex ? { pathRegex: body.pathRegex } : { path: body.path ?? null, pathRegex: null };
    return { hostname: body.hostname, ...matcher, origin: body.origin };
  }

  private change(): PlanChange {
    const body = this.body();
    return this.editing
      ? { action: 'route.update', id: this.editing.id, route: this.patch(body) }
      : ({ action: 'route.create', route: body } as PlanChange);
  }

  private invalidate(): void {
    this.previewed = null;
    (this.element.querySelector('#route-save') as HTMLButtonElement).disabled = true;
  }

  private clearErrors(): void {
    const f = this.element;
    (f.querySelector('#route-error') as HTMLElement).textContent = '';
    for (const el of f.querySelectorAll('input, select')) el.removeAttribute('aria-invalid');
    for (const p of f.querySelectorAll('.field-error')) p.textContent = '';
  }

  /** Puts the API's message above the buttons and each field's detail under its field. */
  private showError(message: string, details: { path: string; message: string }[]): void {
    const unplaced: string[] = [];
    for (const detail of details) {
      const id = fieldOf(detail.path);
      const target = id ? this.element.querySelector(`#${id}-error`) : null;
      if (!id || !target) {
        unplaced.push(`${detail.path}: ${detail.message}`);
        continue;
      }
      this.element.querySelector(`#${id}`)?.setAttribute('aria-invalid', 'true');
      target.textContent = target.textContent ? `${target.textContent} ${detail.message}` : detail.message;
    }
    (this.element.querySelector('#route-error') as HTMLElement).textContent = [message, ...unplaced].join(' — ');
  }

  private async preview(): Promise<void> {
    this.clearErrors();
    this.invalidate();
    const slot = this.element.querySelector('#plan-preview') as HTMLElement;
    slot.replaceChildren();
    const change = this.change();
    try {
      // The cluster pre-flight (ADR 0015) asks each affected cluster's agent for a server-side dry run of its bundle.
      const dryRun = (this.element.querySelector('#plan-dry-run') as HTMLInputElement).checked;
      const plan = await this.ctx.api.call<PlanReport>('POST', '/v1/plan', {
        body: { changes: [change], ...(dryRun ? { cluster: { dryRun: true } } : {}) },
      });
      slot.replaceChildren(renderPlan(plan));
      const verdict = plan.results[0];
      if (verdict?.error) {
        this.showError(verdict.error.message, verdict.error.details ?? []);
        return;
      }
      this.previewed = JSON.stringify(change);
      (this.element.querySelector('#route-save') as HTMLButtonElement).disabled = false;
    } catch (error) {
      if (error instanceof ApiError) this.showError(error.message, error.details);
      else this.showError(messageOf(error), []);
    }
  }

  private async save(): Promise<void> {
    const change = this.change();
    // The saved change is the previewed one: the form fires `input` on every edit, but a script may still set values.
    if (this.previewed !== JSON.stringify(change)) {
      this.invalidate();
      return;
    }
    this.clearErrors();
    try {
      const body = this.body();
      if (this.editing) {
        await this.ctx.api.call('PATCH', `/v1/routes/${encodeURIComponent(this.editing.id)}`, {
          body: this.patch(body),
          etag: this.editing.etag,
        });
      } else {
        await this.ctx.api.call('POST', '/v1/routes', { body });
      }
      this.ctx.notice(`Route ${body.hostname}${body.path ?? ''} ${this.editing ? 'saved' : 'added'}.`);
      this.reset();
      (this.element.querySelector('#plan-preview') as HTMLElement).replaceChildren();
      await this.ctx.refresh();
    } catch (error) {
      if (error instanceof ApiError) this.showError(error.message, error.details);
      else this.showError(messageOf(error), []);
    }
  }
}
