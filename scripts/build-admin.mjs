// Bundles the admin console (admin/*.ts) into static assets the Worker serves (dist/admin-assets, wrangler.toml [assets]).
//
// Runs before `wrangler dev` and `wrangler deploy` (wrangler.toml [build]), so `npm start`, the browser tests and a
// deploy always serve the code in the work tree; the workerd tests call it from their config. Nothing is built at request time.
import { build } from 'esbuild';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The directory wrangler serves as static assets; the console lives under /admin/assets/ in it. */
export const ASSETS_DIR = 'dist/admin-assets';

// The asset server answers these paths before the Worker runs, so their headers are set here (Workers `_headers`).
const HEADERS = `/admin/assets/*
  Cache-Control: no-cache
  X-Content-Type-Options: nosniff
  Content-Security-Policy: default-src 'none'; frame-ancestors 'none'
`;

/** The file that holds `relative` in the output directory, or undefined when there is none. */
function readOutput(out, relative) {
  try {
    return readFileSync(path.join(out, relative));
  } catch {
    return undefined;
  }
}

/**
 * Builds the console into `<root>/dist/admin-assets`; returns the output directory and the source files bundled.
 *
 * Every `wrangler dev` runs this at start and again once its watcher is ready, and each running `wrangler dev` reloads
 * (restarting workerd, which binds its ports again) when its assets directory changes. So an unchanged build leaves
 * the directory alone: the tests start many servers at once, and none of them should make the others restart.
 */
export async function buildAdmin(root = here) {
  const out = path.join(root, ASSETS_DIR);
  const result = await build({
    entryPoints: [path.join(root, 'admin/main.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    outfile: path.join(out, 'admin/assets/app.js'),
    write: false,
    logLevel: 'error',
    absWorkingDir: root,
    metafile: true,
  });
  const inputs = Object.keys(result.metafile.inputs);
  const files = {
    'admin/assets/app.js': result.outputFiles[0].contents,
    'admin/assets/app.css': readFileSync(path.join(root, 'admin/styles.css')),
    _headers: Buffer.from(HEADERS),
  };
  if (Object.entries(files).every(([relative, bytes]) => readOutput(out, relative)?.equals(bytes))) return { out, inputs };

  // Built beside the target and renamed into place, so a server reading the assets never sees a half-written bundle.
  const staging = path.join(root, 'dist', `.admin-assets-${process.pid}-${Date.now()}`);
  for (const [relative, bytes] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(staging, relative)), { recursive: true });
    writeFileSync(path.join(staging, relative), bytes);
  }
  mkdirSync(path.dirname(out), { recursive: true });
  // rename over a non-empty directory fails, so swap: move the old one aside first.
  const old = `${out}.old-${process.pid}-${Date.now()}`;
  try {
    renameSync(out, old);
  } catch {
    // nothing built yet
  }
  try {
    renameSync(staging, out);
  } catch (error) {
    // Another build (the workerd tests' config and wrangler dev run at once) put the same sources in place first.
    if (!existsSync(path.join(out, 'admin/assets/app.js'))) throw error;
    rmSync(staging, { recursive: true, force: true });
  }
  rmSync(old, { recursive: true, force: true });
  return { out, inputs };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { out } = await buildAdmin();
  console.log(`admin console built: ${path.relative(process.cwd(), out)}`);
}
