// Bundles the admin console (admin/*.ts) into static assets the Worker serves (dist/admin-assets, wrangler.toml [assets]).
//
// Runs before `wrangler dev` and `wrangler deploy` (wrangler.toml [build]), so `npm start`, the browser tests and a
// deploy always serve the code in the work tree; the workerd tests call it from their config. Nothing is built at request time.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

/** Builds the console into `<root>/dist/admin-assets`; returns the output directory and the source files bundled. */
export async function buildAdmin(root = here) {
  const out = path.join(root, ASSETS_DIR);
  // Built beside the target and renamed into place, so a server reading the assets never sees a half-written bundle.
  const staging = path.join(root, 'dist', `.admin-assets-${process.pid}-${Date.now()}`);
  const assets = path.join(staging, 'admin/assets');
  mkdirSync(assets, { recursive: true });
  const result = await build({
    entryPoints: [path.join(root, 'admin/main.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    outfile: path.join(assets, 'app.js'),
    logLevel: 'error',
    absWorkingDir: root,
    metafile: true,
  });
  copyFileSync(path.join(root, 'admin/styles.css'), path.join(assets, 'app.css'));
  writeFileSync(path.join(staging, '_headers'), HEADERS);
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
  return { out, inputs: Object.keys(result.metafile.inputs) };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { out } = await buildAdmin();
  console.log(`admin console built: ${path.relative(process.cwd(), out)}`);
}
