// Writes generated files so that readers and watchers are disturbed only by real changes.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Writes `text` to `file` unless it already holds exactly that; returns whether it wrote. The text goes to a
 * temporary file beside the target and is renamed into place, so a reader (a bundler, a running `wrangler dev`) never
 * sees half of it, and an unchanged file is left alone, so nothing watching it rebuilds or reloads for nothing.
 */
export function writeIfChanged(file, text) {
  let current;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    // not written yet
  }
  if (current === text) return false;
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, file);
  return true;
}
