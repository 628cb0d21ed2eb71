// The console's HTML shell. It holds no data and no script of its own: the console is TypeScript in admin/, bundled
// by esbuild at build time (scripts/build-admin.mjs) and served as static assets under /admin/assets/. The shell
// loads it with the request's CSP nonce; everything the console shows comes from the /v1 API as text. The status line
// changes on every 4-second poll, so it is not a live region (a screen reader would announce it each time); results
// that matter are announced by #notice and the error lines.

/** What the shell tells the console about the sign-in; values are escaped for an attribute. */
export interface ShellOptions {
  nonce: string;
  /** "access": Cloudflare Access signed the operator in; "token": the dev login (paste a token). */
  auth: 'access' | 'token';
  /** The Access identity (email), shown in the header. */
  identity?: string;
}

const escapeAttr = (value: string): string =>
  value.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll("'", '&#39;');

/** The /admin document for one request. */
export function adminPage({ nonce, auth, identity }: ShellOptions): string {
  const n = escapeAttr(nonce);
  const who = identity ? `<span id="identity" class="muted">${escapeAttr(identity)}</span>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="edgeplane-auth" content="${auth}">
<title>edgeplane admin</title>
<link rel="stylesheet" href="/admin/assets/app.css" nonce="${n}">
<script type="module" src="/admin/assets/app.js" nonce="${n}"></script>
</head>
<body>
<header>
  <h1>edgeplane</h1>
  <nav id="tabs" role="tablist" aria-label="Views" hidden></nav>
  <span id="whoami" class="muted" title="signed in as" hidden></span>
  <span id="status" class="muted" hidden></span>
  ${who}
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
  </div>
</main>
</body>
</html>
`;
}

/** The page shown instead of the console when Cloudflare Access is expected but did not sign the request. */
export function accessRequiredPage(message: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>edgeplane: Access required</title></head>
<body><main><h1>Cloudflare Access required</h1><p id="access-error">${escapeAttr(message)}</p></main></body></html>
`;
}
