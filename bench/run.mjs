// `npm run bench`: runs every bench/*.bench.mjs (or .ts through tsx) in turn; each prints its figures and a ratio
// against its baseline measured in the same run. Benchmarks are not tests: nothing here fails on a slow machine.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const dir = path.dirname(new URL(import.meta.url).pathname);
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => /\.bench\.(mjs|ts)$/.test(f))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

let failed = 0;
for (const file of files) {
  console.log(`\n== ${file}`);
  const runner = file.endsWith('.ts') ? ['npx', ['tsx', path.join(dir, file)]] : [process.execPath, [path.join(dir, file)]];
  const result = spawnSync(runner[0], runner[1], { stdio: 'inherit' });
  if (result.status !== 0) {
    failed++;
    console.log(`${file} exited with ${result.status}`);
  }
}
process.exit(failed ? 1 : 0);
