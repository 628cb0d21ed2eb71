/**
 * Structural checks for what the agent reads from outside: its environment, the kubeconfig and the Worker's answers.
 *
 * The agent does not bundle zod: zod costs it about 5 MB of resident memory against a 64 MB budget
 * (docs/agent.md → Memory). The Worker validates the same protocol with the zod schemas in src/shared/api/agent.ts;
 * test/agent/agent-check.test.ts proves these checks accept what those schemas produce and refuse what they refuse.
 */

/** A value did not have the expected shape; `path` says where (`objects[3].metadata.name`). */
export class ShapeError extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
    received: unknown,
  ) {
    super(`${path || 'value'}: expected ${expected}, received ${describe(received)}`);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

export type Check<T> = (value: unknown, path: string) => T;

const join = (path: string, key: string | number) => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key);

export const string =
  (min = 0): Check<string> =>
  (value, path) => {
    if (typeof value !== 'string' || value.length < min)
      throw new ShapeError(path, min > 0 ? `a string of at least ${min} character${min > 1 ? 's' : ''}` : 'a string', value);
    return value;
  };

export const integer =
  (min = Number.MIN_SAFE_INTEGER): Check<number> =>
  (value, path) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min)
      throw new ShapeError(path, min > Number.MIN_SAFE_INTEGER ? `an integer ≥ ${min}` : 'an integer', value);
    return value;
  };

export const boolean: Check<boolean> = (value, path) => {
  if (typeof value !== 'boolean') throw new ShapeError(path, 'true or false', value);
  return value;
};

export const optional =
  <T>(check: Check<T>): Check<T | undefined> =>
  (value, path) =>
    value === undefined ? undefined : check(value, path);

/** `null` or what `check` accepts. */
export const nullable =
  <T>(check: Check<T>): Check<T | null> =>
  (value, path) =>
    value === null ? null : check(value, path);

export const array =
  <T>(item: Check<T>): Check<T[]> =>
  (value, path) => {
    if (!Array.isArray(value)) throw new ShapeError(path, 'an array', value);
    return value.map((v, i) => item(v, join(path, i)));
  };

export const stringMap: Check<Record<string, string>> = (value, path) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ShapeError(path, 'an object of strings', value);
  for (const [k, v] of Object.entries(value)) string()(v, join(path, k));
  return value as Record<string, string>;
};

/**
 * An object with at least the listed fields. Other fields are kept as they are (Kubernetes objects and kubeconfigs carry
 * many the agent passes through untouched), so the result is the input itself, checked; callers give it its type.
 */
export const object =
  (shape: Record<string, Check<unknown>>): Check<Record<string, unknown>> =>
  (value, path) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ShapeError(path, 'an object', value);
    const record = value as Record<string, unknown>;
    for (const [key, check] of Object.entries(shape)) check(record[key], join(path, key));
    return record;
  };
