// The admin page: one static HTML document with inline CSS and a small inline ES module. It renders nothing
// server-side; the script calls the /v1 API with the operator's bearer token, builds every node with
// createElement/textContent (never innerHTML), so API values cannot become markup.
//
// String.raw keeps the script's backslashes as written; the script avoids backticks and "${" on purpose.
// "__NONCE__" is replaced per request so the Content-Security-Policy can allow exactly these inline blocks.

const styles = String.raw`
:root { --fg:#1d232b; --muted:#5d6875; --line:#dde2e8; --bg:#f6f7f9; --accent:#1f5fbf; --ok:#1b7a3d; --warn:#9a5b00; --bad:#b42318; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; align-items:center; gap:1.5rem; padding:.6rem 1.5rem; background:#fff; border-bottom:1px solid var(--line); }
header h1 { font-size:1rem; margin:0; }
nav[role=tablist] { display:flex; gap:.25rem; flex:1; }
nav button { border:0; background:none; padding:.45rem .8rem; border-radius:6px; cursor:pointer; font:inherit; color:var(--muted); }
nav button[aria-selected=true] { background:#e8eefa; color:var(--accent); font-weight:600; }
main { max-width:1100px; margin:1.25rem auto; padding:0 1.5rem; }
section > h2 { font-size:1.05rem; margin:1.25rem 0 .5rem; }
h3 { font-size:.95rem; margin:1.1rem 0 .4rem; }
h3 small { font-weight:normal; color:var(--muted); }
table { width:100%; border-collapse:collapse; background:#fff; border:1px solid var(--line); border-radius:8px; overflow:hidden; }
th, td { text-align:left; padding:.45rem .7rem; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-size:.78rem; text-transform:uppercase; letter-spacing:.03em; color:var(--muted); background:#fafbfc; }
tr:last-child td { border-bottom:0; }
table.routes { table-layout:fixed; }
table.routes th:nth-child(1) { width:34%; } table.routes th:nth-child(2) { width:18%; } table.routes th:last-child { width:6.5rem; }
td { overflow-wrap:anywhere; }
td.num { font-variant-numeric:tabular-nums; }
code, .mono { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; font-size:.86rem; }
.badge { display:inline-block; padding:.05rem .5rem; border-radius:999px; font-size:.78rem; border:1px solid currentColor; }
.badge.connected, .badge.edgeplane { color:var(--ok); }
.badge.unreachable, .badge.unauthorized { color:var(--bad); }
.badge.never, .badge.foreign { color:var(--muted); background:#eef0f3; border-style:dashed; }
.behind { color:var(--warn); }
.muted { color:var(--muted); }
button.action { font:inherit; padding:.3rem .7rem; border-radius:6px; border:1px solid var(--line); background:#fff; cursor:pointer; }
button.primary { background:var(--accent); border-color:var(--accent); color:#fff; }
button.danger { color:var(--bad); }
form.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:1rem 1.25rem; margin-top:1.25rem; }
form.card h2, form.card h3 { margin-top:0; }
.fields { display:grid; grid-template-columns:repeat(auto-fill, minmax(200px, 1fr)); gap:.75rem 1rem; }
label { display:block; font-size:.82rem; color:var(--muted); margin-bottom:.2rem; }
input, select { width:100%; font:inherit; padding:.35rem .5rem; border:1px solid #c5ccd5; border-radius:6px; background:#fff; }
input[aria-invalid=true] { border-color:var(--bad); }
fieldset { border:0; padding:0; margin:.75rem 0; }
fieldset label { display:inline; color:var(--fg); margin-right:1rem; }
fieldset input { width:auto; }
.field-error { color:var(--bad); font-size:.8rem; margin:.2rem 0 0; }
.error { color:var(--bad); background:#fdf1f0; border:1px solid #f3c7c2; border-radius:6px; padding:.5rem .75rem; }
.error:empty, .field-error:empty, .notice:empty { display:none; }
.notice { color:var(--ok); }
#login { max-width:380px; margin:4rem auto; }
.toolbar { display:flex; gap:.5rem; align-items:center; justify-content:flex-end; margin-top:.75rem; }
[hidden] { display:none !important; }
`;

const script = String.raw`
const TOKEN_KEY = 'edgeplane.adminToken';
const $ = (id) => document.getElementById(id);

/** Builds an element; children are nodes or text (appended as text nodes, never parsed as HTML). */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) el.append(child instanceof Node ? child : String(child));
  return el;
}
const table = (headers, rows, emptyText, className) =>
  h('table', { class: className }, h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: headers.length, class: 'muted' }, emptyText))));
const when = (iso) => (iso ? new Date(iso).toLocaleString() : 'never');

class ApiError extends Error {
  constructor(status, error) { super(error.message); this.status = status; this.error = error; }
}

/** Calls the /v1 API with the session's token; a 401 signs out with the API's message. */
async function api(method, path, options) {
  const { body, etag } = options || {};
  const headers = { authorization: 'Bearer ' + (sessionStorage.getItem(TOKEN_KEY) || '') };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (etag) headers['if-match'] = etag;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (response.ok) return data;
  const error = (data && data.error) || { code: 'http_' + response.status, message: method + ' ' + path + ' answered ' + response.status };
  if (response.status === 401) signOut(error.message);
  throw new ApiError(response.status, error);
}

/** Follows nextCursor until the collection is read completely. */
async function listAll(path) {
  const items = [];
  let cursor = null;
  do {
    const query = (path.includes('?') ? '&' : '?') + 'limit=500' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
    const page = await api('GET', path + query);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  setSignedIn(false);
  $('login-error').textContent = message || '';
  $('token').focus();
}

function setSignedIn(signedIn) {
  for (const id of ['app', 'tabs', 'status', 'refresh', 'signout']) $(id).hidden = !signedIn;
  $('login').hidden = signedIn;
}

function showTab(name) {
  for (const tab of document.querySelectorAll('[role=tab]')) {
    const selected = tab.dataset.tab === name;
    tab.setAttribute('aria-selected', String(selected));
    $(tab.getAttribute('aria-controls')).hidden = !selected;
  }
}

const originText = (origin) =>
  origin.service ? origin.service.namespace + '/' + origin.service.name + ':' + origin.service.port : origin.url;

function renderClusters(clusters) {
  $('clusters-body').replaceChildren(table(['ID', 'Name', 'Connection', 'Desired rev.', 'Applied rev.', 'Last seen'],
    clusters.map((c) => h('tr', { 'data-cluster': c.id },
      h('td', { class: 'mono' }, c.id), h('td', {}, c.name),
      h('td', {}, h('span', { class: 'badge ' + c.connection }, c.connection)),
      h('td', { class: 'num' }, c.desiredRevision),
      h('td', { class: 'num' + (c.appliedRevision === c.desiredRevision ? '' : ' behind') }, c.appliedRevision === null ? 'none' : c.appliedRevision),
      h('td', {}, when(c.lastSeenAt)))), 'No clusters yet.'));
}

function renderTunnels(tunnels, routes) {
  const groups = tunnels.map((t) => {
    const own = routes.filter((r) => r.tunnel === t.id);
    return h('div', { 'data-tunnel': t.id },
      h('h3', {}, 'Tunnel ', h('code', {}, t.id), ' ', h('small', {}, 'cluster ' + t.cluster + ' · ' + own.length + ' route' + (own.length === 1 ? '' : 's'))),
      table(['Hostname', 'Path', 'Origin', ''], own.map((r) => h('tr', { 'data-route': r.id },
        h('td', { class: 'mono' }, r.hostname), h('td', { class: 'mono' }, r.path === null ? '(any)' : r.path),
        h('td', { class: 'mono' }, originText(r.origin)),
        h('td', {}, h('button', { type: 'button', class: 'action danger', 'aria-label': 'Delete route ' + r.hostname + (r.path || ''),
          onclick: () => deleteRoute(r) }, 'Delete')))), 'No routes.', 'routes'));
  });
  $('tunnels-body').replaceChildren(...(groups.length ? groups : [h('p', { class: 'muted' }, 'No tunnels yet.')]));
  const select = $('route-tunnel');
  const previous = select.value;
  select.replaceChildren(...tunnels.map((t) => h('option', { value: t.id }, t.id + ' (' + t.cluster + ')')));
  if (tunnels.some((t) => t.id === previous)) select.value = previous;
}

function renderWarp(entries, networks) {
  $('split-body').replaceChildren(table(['Mode', 'Address / host', 'Description', 'Profile', 'Owner', ''],
    entries.map((e) => h('tr', { 'data-entry': e.id },
      h('td', {}, e.mode), h('td', { class: 'mono' }, e.address || e.host), h('td', {}, e.description), h('td', {}, e.profile),
      h('td', {}, h('span', { class: 'badge ' + e.owner }, e.owner === 'edgeplane' ? 'edgeplane' : 'foreign (read-only)')),
      h('td', {}, e.owner === 'edgeplane'
        ? h('button', { type: 'button', class: 'action danger', 'aria-label': 'Delete split-tunnel entry ' + (e.address || e.host), onclick: () => deleteEntry(e) }, 'Delete')
        : null))), 'No split-tunnel entries.'));
  $('networks-body').replaceChildren(table(['CIDR', 'Tunnel', 'Virtual network', 'Comment'],
    networks.map((n) => h('tr', {}, h('td', { class: 'mono' }, n.cidr), h('td', { class: 'mono' }, n.tunnel),
      h('td', { class: 'mono' }, n.virtualNetworkId || 'default'), h('td', {}, n.comment))), 'No private networks.'));
}

function renderAudit(entries) {
  $('audit-body').replaceChildren(table(['Time', 'Actor', 'Action', 'Entity'],
    entries.map((a) => h('tr', {}, h('td', {}, when(a.at)), h('td', { class: 'mono' }, a.actor), h('td', {}, a.action),
      h('td', { class: 'mono' }, a.entityType + ' ' + a.entityId))), 'Nothing audited yet.'));
}

async function load() {
  $('status').textContent = 'Loading…';
  try {
    const [clusters, tunnels, routes, entries, networks, audit] = await Promise.all([
      listAll('/v1/clusters'), listAll('/v1/tunnels'), listAll('/v1/routes'),
      listAll('/v1/split-tunnel'), listAll('/v1/private-networks'), api('GET', '/v1/audit?limit=100'),
    ]);
    renderClusters(clusters);
    renderTunnels(tunnels, routes);
    renderWarp(entries, networks);
    renderAudit(audit.items);
    $('status').textContent = 'Loaded ' + new Date().toLocaleTimeString();
    setSignedIn(true);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    $('status').textContent = '';
    $('app-error').textContent = error.message;
  }
}

async function deleteRoute(route) {
  if (!confirm('Delete route ' + route.hostname + (route.path || '') + '?')) return;
  await write(() => api('DELETE', '/v1/routes/' + encodeURIComponent(route.id), { etag: route.etag }), 'Route deleted.');
}

async function deleteEntry(entry) {
  if (!confirm('Delete split-tunnel entry ' + (entry.address || entry.host) + '?')) return;
  await write(() => api('DELETE', '/v1/split-tunnel/' + encodeURIComponent(entry.id), { etag: entry.etag }), 'Entry deleted.');
}

async function write(call, done) {
  $('app-error').textContent = '';
  $('notice').textContent = '';
  try {
    await call();
    $('notice').textContent = done;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    $('app-error').textContent = error.message;
  }
  await load();
}

// API detail paths (body.origin.service.port) → the form field that explains them.
const FIELD_OF = { 'body.tunnel': 'route-tunnel', 'body.hostname': 'route-hostname', 'body.path': 'route-path',
  'body.origin.service.namespace': 'route-namespace', 'body.origin.service.name': 'route-service',
  'body.origin.service.port': 'route-port', 'body.origin.url': 'route-url' };

function clearFormErrors(form) {
  $('route-error').textContent = '';
  for (const input of form.querySelectorAll('input, select')) input.removeAttribute('aria-invalid');
  for (const p of form.querySelectorAll('.field-error')) p.textContent = '';
}

async function addRoute(event) {
  event.preventDefault();
  const form = event.currentTarget;
  clearFormErrors(form);
  const byUrl = $('origin-url').checked;
  const body = {
    tunnel: $('route-tunnel').value,
    hostname: $('route-hostname').value.trim(),
    origin: byUrl ? { url: $('route-url').value.trim() }
      : { service: { namespace: $('route-namespace').value.trim(), name: $('route-service').value.trim(), port: Number($('route-port').value) } },
  };
  const path = $('route-path').value.trim();
  if (path) body.path = path;
  try {
    await api('POST', '/v1/routes', { body });
    form.reset();
    setOriginKind();
    $('notice').textContent = 'Route ' + body.hostname + (path || '') + ' added.';
    await load();
  } catch (error) {
    if (!(error instanceof ApiError)) { $('route-error').textContent = error.message; return; }
    if (error.status === 401) return;
    const unplaced = [];
    for (const detail of error.error.details || []) {
      const id = FIELD_OF[detail.path];
      if (!id) { unplaced.push(detail.path + ': ' + detail.message); continue; }
      $(id).setAttribute('aria-invalid', 'true');
      const target = $(id + '-error');
      target.textContent = (target.textContent ? target.textContent + ' ' : '') + detail.message;
    }
    $('route-error').textContent = [error.error.message].concat(unplaced).join(' — ');
  }
}

function setOriginKind() {
  const byUrl = $('origin-url').checked;
  $('service-fields').hidden = byUrl;
  $('url-fields').hidden = !byUrl;
}

$('login').addEventListener('submit', (event) => {
  event.preventDefault();
  const token = $('token').value.trim();
  if (!token) { $('login-error').textContent = 'Paste an API token first.'; return; }
  sessionStorage.setItem(TOKEN_KEY, token);
  $('token').value = '';
  $('login-error').textContent = '';
  load();
});
$('signout').addEventListener('click', () => signOut(''));
$('refresh').addEventListener('click', () => load());
$('route-form').addEventListener('submit', addRoute);
for (const radio of document.querySelectorAll('input[name=origin-kind]')) radio.addEventListener('change', setOriginKind);
for (const tab of document.querySelectorAll('[role=tab]')) tab.addEventListener('click', () => showTab(tab.dataset.tab));
showTab('clusters');
setOriginKind();
if (sessionStorage.getItem(TOKEN_KEY)) load(); else signOut('');
`;

/** A labelled text input with a slot for the API's field error, tied together by aria-describedby. */
const field = (id: string, label: string, attrs = ''): string =>
  `<div><label for="${id}">${label}</label><input id="${id}" ${attrs} aria-describedby="${id}-error"><p class="field-error" id="${id}-error" aria-live="polite"></p></div>`;

/** The admin page; replace "__NONCE__" with the request's CSP nonce before serving. */
export const adminPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>edgeplane admin</title>
<style nonce="__NONCE__">${styles}</style>
</head>
<body>
<header>
  <h1>edgeplane</h1>
  <nav id="tabs" role="tablist" aria-label="Views" hidden>
    <button type="button" role="tab" id="tab-clusters" data-tab="clusters" aria-controls="view-clusters">Clusters</button>
    <button type="button" role="tab" id="tab-tunnels" data-tab="tunnels" aria-controls="view-tunnels">Tunnels &amp; routes</button>
    <button type="button" role="tab" id="tab-warp" data-tab="warp" aria-controls="view-warp">WARP</button>
    <button type="button" role="tab" id="tab-audit" data-tab="audit" aria-controls="view-audit">Audit</button>
  </nav>
  <span id="status" class="muted" aria-live="polite" hidden></span>
  <button type="button" id="refresh" class="action" hidden>Refresh</button>
  <button type="button" id="signout" class="action" hidden>Sign out</button>
</header>
<main>
  <form id="login" class="card" hidden aria-labelledby="login-title">
    <h2 id="login-title">Dev login</h2>
    <p class="muted">Paste an edgeplane API token. It is kept in this tab's session storage only.</p>
    <label for="token">API token</label>
    <input id="token" name="token" type="password" autocomplete="off" placeholder="dev-admin-token" aria-describedby="login-error">
    <p id="login-error" class="error" role="alert"></p>
    <div class="toolbar"><button type="submit" class="action primary">Sign in</button></div>
  </form>
  <div id="app" hidden>
    <p id="app-error" class="error" role="alert"></p>
    <p id="notice" class="notice" role="status"></p>
    <section id="view-clusters" role="tabpanel" aria-labelledby="tab-clusters">
      <h2>Clusters</h2>
      <div id="clusters-body"></div>
    </section>
    <section id="view-tunnels" role="tabpanel" aria-labelledby="tab-tunnels">
      <h2>Tunnels &amp; routes</h2>
      <div id="tunnels-body"></div>
      <form id="route-form" class="card" aria-labelledby="route-form-title" novalidate>
        <h3 id="route-form-title">Add a route</h3>
        <div class="fields">
          <div><label for="route-tunnel">Tunnel</label><select id="route-tunnel" aria-describedby="route-tunnel-error"></select><p class="field-error" id="route-tunnel-error"></p></div>
          ${field('route-hostname', 'Hostname', 'placeholder="app.example.com" autocomplete="off"')}
          ${field('route-path', 'Path prefix (optional)', 'placeholder="/api" autocomplete="off"')}
        </div>
        <fieldset>
          <legend class="muted">Origin</legend>
          <input type="radio" id="origin-service" name="origin-kind" value="service" checked><label for="origin-service">Service in the cluster</label>
          <input type="radio" id="origin-url" name="origin-kind" value="url"><label for="origin-url">URL</label>
        </fieldset>
        <div class="fields" id="service-fields">
          ${field('route-namespace', 'Namespace', 'placeholder="default" autocomplete="off"')}
          ${field('route-service', 'Service name', 'placeholder="web" autocomplete="off"')}
          ${field('route-port', 'Port', 'type="number" min="1" max="65535" placeholder="80"')}
        </div>
        <div class="fields" id="url-fields" hidden>
          ${field('route-url', 'Origin URL', 'placeholder="http://localhost:8000" autocomplete="off"')}
        </div>
        <p id="route-error" class="error" role="alert"></p>
        <div class="toolbar"><button type="submit" class="action primary">Add route</button></div>
      </form>
    </section>
    <section id="view-warp" role="tabpanel" aria-labelledby="tab-warp">
      <h2>WARP split tunnel</h2>
      <p class="muted">Entries owned by edgeplane can be deleted here; foreign entries were made elsewhere and are read-only.</p>
      <div id="split-body"></div>
      <h2>Private networks</h2>
      <div id="networks-body"></div>
    </section>
    <section id="view-audit" role="tabpanel" aria-labelledby="tab-audit">
      <h2>Audit log <small class="muted">(newest first)</small></h2>
      <div id="audit-body"></div>
    </section>
  </div>
</main>
<script type="module" nonce="__NONCE__">${script}</script>
</body>
</html>
`;
