import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../support/worker';

// agent/Dockerfile's build stage copies only what it names into the image before `node scripts/build-agent.mjs`. No
// Docker engine runs here, so this builds from exactly those files in a directory of their own: a file the build
// script comes to import but the Dockerfile does not copy fails here instead of in the release workflow.

const context = tempDir('dockerfile-build');
afterAll(() => rmSync(context, { recursive: true, force: true }));

/** The build stage's COPY instructions (sources relative to the repository, destination under WORKDIR) before its RUN of the build. */
function buildStageCopies(): { sources: string[]; destination: string }[] {
  const lines = readFileSync(path.join(ROOT, 'agent/Dockerfile'), 'utf8').split('\n');
  const end = lines.findIndex((line) => line.startsWith('RUN node scripts/build-agent.mjs'));
  expect(end).toBeGreaterThan(0);
  return lines
    .slice(0, end)
    .filter((line) => line.startsWith('COPY ') && !line.includes('--from'))
    .map((line) => {
      const words = line.slice('COPY '.length).trim().split(/\s+/);
      return { sources: words.slice(0, -1), destination: words.at(-1) ?? '' };
    });
}

describe('agent/Dockerfile', () => {
  it('builds the agent bundle from only the files its build stage copies', () => {
    const copies = buildStageCopies();
    expect(copies.length).toBeGreaterThan(0);
    for (const { sources, destination } of copies) {
      for (const source of sources) {
        const from = path.join(ROOT, source);
        // Docker's rule: into a directory destination (trailing slash, or several sources) by base name.
        const into = destination.endsWith('/') || sources.length > 1;
        const to = into ? path.join(context, destination, path.basename(source)) : path.join(context, destination);
        mkdirSync(path.dirname(to), { recursive: true });
        cpSync(from, to, { recursive: statSync(from).isDirectory() });
      }
    }
    // `npm ci --ignore-scripts` in the image: the project's installed modules stand in for it.
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(context, 'node_modules'));
    const build = spawnSync(process.execPath, ['scripts/build-agent.mjs'], { cwd: context, encoding: 'utf8' });
    expect(build.stderr).toBe('');
    expect(build.status).toBe(0);
    expect(existsSync(path.join(context, 'dist/agent.cjs'))).toBe(true);
    expect(readFileSync(path.join(context, 'dist/agent.cjs'), 'utf8')).toBe(readFileSync(path.join(ROOT, 'dist/agent.cjs'), 'utf8'));
  });
});
