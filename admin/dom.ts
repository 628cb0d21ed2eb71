// Every node of the console is built here: API values become text nodes or attribute values, never markup.
// Nothing in admin/ touches innerHTML, insertAdjacentHTML or document.write (eslint bans them in this directory).

export type Child = Node | string | number | null | undefined | false | Child[];
type Listener = (event: Event) => void;
export type Attrs = Record<string, string | number | boolean | null | undefined | Listener>;

/** Builds an element: `on<event>` attributes become listeners, children are nodes or text. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = String(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el: Node & ParentNode, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** An SVG element (for the small charts), attributes only, no markup. */
export function svg(tag: string, attrs: Record<string, string | number>, ...children: (SVGElement | string)[]): SVGElement {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  el.append(...children);
  return el;
}

/** A table with column headers; `empty` is said in one cell when there are no rows. */
export function table(headers: string[], rows: HTMLTableRowElement[], empty: string, attrs: Attrs = {}): HTMLTableElement {
  return h(
    'table',
    attrs,
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: headers.length, class: 'muted' }, empty))),
  );
}

export type Tone = 'ok' | 'warn' | 'bad' | 'muted';

/** A coloured label; the colour repeats what the text says, never replaces it. */
export const badge = (text: string, tone: Tone): HTMLSpanElement => h('span', { class: `badge ${tone}` }, text);

/** Said wherever edgeplane has no data yet, so an empty cell is never mistaken for "fine". */
export const notReported = (what = 'not reported yet'): HTMLSpanElement => h('span', { class: 'muted not-reported' }, what);

/** A local date and time, or "never". */
export const when = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString() : 'never');

/** The element with this id, or an error naming it (the shell and the views create every id they look up). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the console has no element #${id}`);
  return el as T;
}
