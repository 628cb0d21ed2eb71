// Bundles the agent into one CommonJS file that runs with plain `node` (npm run build:agent → dist/agent.cjs).
//
// CommonJS, not ESM, on purpose: an ESM `import 'node:http'` builds the module's whole namespace, which evaluates
// node:http's lazy WebSocket getters and loads undici (about 10 MB resident); `require('node:http')` does not.
// @kubernetes/client-node stays external: the agent loads it only for exec/auth-provider kubeconfigs (docs/agent.md).
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Builds the agent bundle of the repository at `root` into `outfile` (default dist/agent.cjs); returns its path and the
 * source files that went into it.
 */
export async function buildAgent(root = here, outfile = path.join(root, 'dist/agent.cjs')) {
  const result = await build({
    entryPoints: [path.join(root, 'agent/main.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    minify: true,
    outfile,
    external: ['@kubernetes/client-node'],
    logLevel: 'error',
    absWorkingDir: root,
    metafile: true,
  });
  return { outfile, inputs: Object.keys(result.metafile.inputs) };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { outfile } = await buildAgent(here, process.argv[2] ? path.resolve(process.argv[2]) : undefined);
  console.log(`agent bundled: ${path.relative(process.cwd(), outfile)}`);
}
