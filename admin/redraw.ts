import { ApiError, messageOf } from './api';
import { h, type Child } from './dom';

/**
 * Replaces the children of `#id` only when the data they show changed, so the periodic refresh leaves a focused button,
 * a text selection and the screen reader's place alone while nothing happened.
 */
export function redraw(id: string, data: unknown, build: () => Child): void {
  const container = document.getElementById(id);
  if (!container) return;
  const key = JSON.stringify(data);
  if (container.dataset.shown === key) return;
  container.dataset.shown = key;
  // Built in a detached element (h flattens children and turns values into text), then moved in.
  container.replaceChildren(...h('div', {}, build()).childNodes);
}

/** The API's refusal written under a form: its message and each named field (`body.targets.0.port: …`). */
export function showError(id: string, error: unknown): void {
  const el = document.getElementById(id);
  if (!el) return;
  if (!(error instanceof ApiError)) {
    el.replaceChildren(messageOf(error));
    return;
  }
  el.replaceChildren(
    ...h(
      'div',
      {},
      error.body.message,
      error.details.length
        ? h(
            'ul',
            {},
            error.details.map((d) => h('li', {}, h('code', {}, d.path), ': ', d.message)),
          )
        : null,
    ).childNodes,
  );
}

/** Clears a form's error line. */
export function clearError(id: string): void {
  document.getElementById(id)?.replaceChildren();
}
