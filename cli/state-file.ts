import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { stateFile, type StateFile } from '../src/shared/state/schema';

/** One problem in the state file: where (`tunnels[1].routes[0].hostname`) and what was wrong. */
export interface FileProblem {
  path: string;
  message: string;
}

/** The state file is unreadable or invalid; every problem is listed with its path. */
export class StateFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: FileProblem[],
  ) {
    super(`${file}: ${problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ')}`);
  }
}

/** Formats a zod issue path the way a reader points at a field: `tunnels[1].routes[0].hostname`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}

/** What the file says, as parsed, plus which top-level lists it has at all (a present list is owned by the file). */
export interface LoadedState {
  state: StateFile;
  present: Set<string>;
}

/** Parses a YAML or JSON state file (JSON is YAML) and validates it against the state schema. */
export function parseState(text: string, file: string): LoadedState {
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new StateFileError(
      file,
      doc.errors.map((e) => ({ path: '', message: `line ${e.linePos?.[0].line ?? '?'}: ${e.message.split('\n')[0] ?? e.message}` })),
    );
  }
  const raw: unknown = doc.toJS();
  const parsed = stateFile.safeParse(raw ?? {});
  if (!parsed.success) throw new StateFileError(file, problemsOf(parsed.error));
  const present = new Set(raw && typeof raw === 'object' ? Object.keys(raw) : []);
  return { state: parsed.data, present };
}

export function problemsOf(error: z.ZodError): FileProblem[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

/** Reads a state file from disk (`-` reads standard input). */
export function readState(file: string): LoadedState {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new StateFileError(file, [{ path: '', message: error instanceof Error ? error.message : String(error) }]);
  }
  return parseState(text, file);
}
