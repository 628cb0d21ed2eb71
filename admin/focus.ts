// The periodic refresh redraws a view's tables; a keyboard user's focus on a button in them would fall back to the
// page's start each time. These two functions note what had focus and put it back on its redrawn twin.

/** What identifies a focused control across a redraw: its id, or its row's data attribute plus its name. */
export interface FocusKey {
  id: string;
  row: string | null;
  tag: string;
  name: string;
}

const nameOf = (el: Element): string => el.getAttribute('aria-label') ?? el.textContent?.trim() ?? '';

/** The row selector of an element: its nearest ancestor carrying a data-* attribute (`[data-route="r_1"]`). */
function rowOf(el: Element, root: Element): string | null {
  for (let node: Element | null = el.parentElement; node && node !== root; node = node.parentElement) {
    const attr = [...node.attributes].find((a) => a.name.startsWith('data-') && a.name !== 'data-shown' && a.name !== 'data-state');
    if (attr) return `[${attr.name}="${CSS.escape(attr.value)}"]`;
  }
  return null;
}

/** Notes the focused element when it lies inside `root`. */
export function noteFocus(root: Element): FocusKey | null {
  const el = document.activeElement;
  if (!el || el === document.body || !root.contains(el)) return null;
  return { id: el.id, row: rowOf(el, root), tag: el.tagName.toLowerCase(), name: nameOf(el) };
}

/** Puts focus back on the redrawn twin of the noted element, when the refresh replaced it. */
export function restoreFocus(root: Element, key: FocusKey | null): void {
  if (!key) return;
  const current = document.activeElement;
  if (current && current !== document.body && current.isConnected) return;
  let twin: Element | null = key.id ? document.getElementById(key.id) : null;
  if (!twin) {
    const scope = key.row ? root.querySelector(key.row) : root;
    twin = [...(scope?.querySelectorAll(key.tag) ?? [])].find((el) => nameOf(el) === key.name) ?? null;
  }
  if (twin instanceof HTMLElement || twin instanceof SVGElement) twin.focus({ preventScroll: true });
}
