// The operator's console: signs in (Cloudflare Access, or the dev login's token), shows one view at a time and
// keeps it current by polling, so a change made elsewhere (API, CLI, an agent's report) shows within seconds.
import { ApiError, createApi, messageOf, type Session } from './api';
import { byId, h } from './dom';
import { noteFocus, restoreFocus } from './focus';
import type { Me } from '../src/shared/api/me';
import type { View, ViewContext } from './view';
import { VIEWS } from './views';

const TOKEN_KEY = 'edgeplane.adminToken';
const POLL_MS = 4000;

const meta = (name: string): string => document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? '';
const accessMode = meta('edgeplane-auth') === 'access';

let signedIn = false;
let active: View = VIEWS[0] as View;
let loading: Promise<void> | null = null;
const panels = new Map<string, HTMLElement>();

const session: Session = {
  mode: accessMode ? 'access' : 'token',
  token: () => sessionStorage.getItem(TOKEN_KEY),
  unauthorized: (message) => signOut(message),
};
const api = createApi(session);

const ctx: ViewContext = {
  api,
  notice: (text) => {
    byId('app-error').textContent = '';
    byId('notice').textContent = text;
  },
  error: (text) => {
    byId('app-error').textContent = text;
  },
  refresh: () => refresh(),
  me: null,
  can(role) {
    const mine = ctx.me?.role;
    return mine === 'admin' || (role === 'editor' && mine === 'editor');
  },
};

function setSignedIn(value: boolean): void {
  signedIn = value;
  for (const id of ['app', 'tabs', 'status', 'whoami', 'refresh']) byId(id).hidden = !value;
  byId('signout').hidden = !value || accessMode;
  byId('login').hidden = value || accessMode;
}

function signOut(message: string): void {
  sessionStorage.removeItem(TOKEN_KEY);
  ctx.me = null;
  byId('whoami').textContent = '';
  setSignedIn(false);
  if (accessMode) {
    // Behind Access there is no form to return to: say why and let Access sign the operator in again.
    byId('app-error').textContent = message;
    byId('app').hidden = false;
    return;
  }
  byId('login-error').textContent = message;
  byId<HTMLInputElement>('token').focus();
}

/**
 * Loads the active view's data; concurrent calls for the same view share one load. A call for another view (the tab
 * changed while a poll was loading) runs after the one in flight, so the view shown is always the one loaded.
 */
let loadingView: View | null = null;
function refresh(): Promise<void> {
  if (!signedIn && !accessMode && !session.token()) return Promise.resolve();
  if (loading && loadingView === active) return loading;
  const view = active;
  byId('status').textContent = 'Loading…';
  const run: Promise<void> = (loading ?? Promise.resolve()).then(async () => {
    const panel = panels.get(view.id);
    const focused = panel ? noteFocus(panel) : null;
    try {
      if (!ctx.me) {
        ctx.me = await api.call<Me>('GET', '/v1/me');
        byId('whoami').textContent = `${ctx.me.id} (${ctx.me.role})`;
      }
      await view.refresh(ctx);
      if (panel) restoreFocus(panel, focused);
      setSignedIn(true);
      // A load that another one follows leaves the status line to it.
      if (loading === run) byId('status').textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      if (loading === run) byId('status').textContent = '';
      if (!(error instanceof ApiError && error.status === 401)) ctx.error(messageOf(error));
    } finally {
      if (loading === run) {
        loading = null;
        loadingView = null;
      }
    }
  });
  loading = run;
  loadingView = view;
  return run;
}

function show(id: string): void {
  active = VIEWS.find((v) => v.id === id) ?? (VIEWS[0] as View);
  for (const view of VIEWS) {
    const selected = view === active;
    const tab = byId(`tab-${view.id}`);
    tab.setAttribute('aria-selected', String(selected));
    tab.tabIndex = selected ? 0 : -1;
    const panel = panels.get(view.id);
    if (panel) panel.hidden = !selected;
  }
  byId('app-error').textContent = '';
  byId('notice').textContent = '';
  void refresh();
}

function buildShell(): void {
  const tabs = byId('tabs');
  const app = byId('app');
  for (const view of VIEWS) {
    tabs.append(
      h(
        'button',
        {
          type: 'button',
          role: 'tab',
          id: `tab-${view.id}`,
          'aria-controls': `view-${view.id}`,
          onclick: () => (location.hash = `#/${view.id}`),
        },
        view.title,
      ),
    );
    const panel = h('section', { id: `view-${view.id}`, role: 'tabpanel', 'aria-labelledby': `tab-${view.id}`, hidden: true });
    view.mount(panel, ctx);
    panels.set(view.id, panel);
    app.append(panel);
  }
  // Arrow keys, Home and End move between tabs (the WAI-ARIA tabs pattern); Tab moves into the panel.
  const step: Record<string, (index: number) => number> = {
    ArrowRight: (i) => i + 1,
    ArrowLeft: (i) => i - 1,
    Home: () => 0,
    End: () => VIEWS.length - 1,
  };
  tabs.addEventListener('keydown', (event) => {
    const move = step[event.key];
    if (!move) return;
    event.preventDefault();
    const next = VIEWS[(move(VIEWS.indexOf(active)) + VIEWS.length) % VIEWS.length];
    if (!next) return;
    location.hash = `#/${next.id}`;
    byId(`tab-${next.id}`).focus();
  });
}

const viewOfHash = () => location.hash.replace(/^#\/?/, '').split('/')[0] ?? '';

buildShell();
byId('login').addEventListener('submit', (event) => {
  event.preventDefault();
  const token = byId<HTMLInputElement>('token').value.trim();
  if (!token) {
    byId('login-error').textContent = 'Paste an API token first.';
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  byId<HTMLInputElement>('token').value = '';
  byId('login-error').textContent = '';
  void refresh();
});
byId('signout').addEventListener('click', () => signOut(''));
byId('refresh').addEventListener('click', () => void refresh());
window.addEventListener('hashchange', () => show(viewOfHash()));
setInterval(() => {
  if (signedIn && document.visibilityState === 'visible') void refresh();
}, POLL_MS);

if (accessMode || session.token()) show(viewOfHash());
else {
  signOut('');
  show(viewOfHash());
}
