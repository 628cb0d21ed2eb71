/** Where a `${VAR}` in a compose file got its value. */
export interface VariableUse {
  name: string;
  /**
   * `request`: the import request's `env`; `infra`: a backing service discovered in the cluster (compose-infra.ts);
   * `default`: the compose default; `unset`: none, replaced by "".
   */
  source: 'request' | 'infra' | 'default' | 'unset';
}

/** A `${VAR:?message}` (or `${VAR?message}`) with no value: the import must stop. */
export interface MissingVariable {
  name: string;
  message: string;
}

/** The outcome of interpolating one string. */
export interface Interpolated {
  value: string;
  uses: VariableUse[];
  missing: MissingVariable[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Finds the `}` closing a `${` whose body starts at `from`, skipping nested `${...}` in defaults. */
function closing(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '$' && text[i + 1] === '{') {
      depth++;
      i++;
    } else if (text[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

/**
 * Interpolates a compose string as `docker compose` does: `$$` is a literal `$`; `${VAR}` and `$VAR`; `${VAR:-d}` (unset
 * or empty → d), `${VAR-d}` (unset → d), `${VAR:?msg}` / `${VAR?msg}` (no value → error), `${VAR:+alt}` / `${VAR+alt}`
 * (set → alt). Values come from `vars` (the request's env), then `infra` (variables a discovered backing service
 * answers), then the default; defaults may themselves hold `${...}`.
 */
export function interpolate(
  text: string,
  given: Readonly<Record<string, string>>,
  infra: Readonly<Record<string, string>> = {},
): Interpolated {
  const vars: Record<string, string> = { ...infra, ...given };
  const from = (name: string): 'request' | 'infra' => (given[name] === undefined && infra[name] !== undefined ? 'infra' : 'request');
  const uses: VariableUse[] = [];
  const missing: MissingVariable[] = [];
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== '$') {
      out += c;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    if (next !== '{') {
      const name = NAME.exec(text.slice(i + 1))?.[0];
      if (!name) {
        out += '$';
        continue;
      }
      const value = vars[name];
      uses.push({ name, source: value === undefined ? 'unset' : from(name) });
      out += value ?? '';
      i += name.length;
      continue;
    }
    const end = closing(text, i + 2);
    if (end < 0) {
      missing.push({ name: text.slice(i), message: `"${text.slice(i, i + 30)}" has no closing "}"` });
      break;
    }
    const body = text.slice(i + 2, end);
    i = end;
    const name = NAME.exec(body)?.[0];
    if (!name) {
      missing.push({ name: body, message: `"\${${body}}" is not a variable reference` });
      continue;
    }
    const op = /^(:?[-?+])?/.exec(body.slice(name.length))?.[0] ?? '';
    const arg = body.slice(name.length + op.length);
    const value = vars[name];
    const empty = value === undefined || (op.startsWith(':') && value === '');
    const nested = () => {
      const inner = interpolate(arg, given, infra);
      uses.push(...inner.uses);
      missing.push(...inner.missing);
      return inner.value;
    };
    if (op === '') {
      uses.push({ name, source: value === undefined ? 'unset' : from(name) });
      out += value ?? '';
    } else if (op.endsWith('-')) {
      uses.push({ name, source: empty ? 'default' : from(name) });
      out += empty ? nested() : (value ?? '');
    } else if (op.endsWith('?')) {
      if (empty) missing.push({ name, message: arg || `${name} is required` });
      else uses.push({ name, source: from(name) });
      out += value ?? '';
    } else {
      uses.push({ name, source: empty ? 'unset' : from(name) });
      out += empty ? '' : nested();
    }
  }
  return { value: out, uses, missing };
}

/** Reads an env file (`KEY=VALUE` lines, `#` comments, optional `export`, quoted values) as `env_file` gives it to a container. */
export function parseEnvFile(text: string): { values: Record<string, string>; errors: { line: number; message: string }[] } {
  const values: Record<string, string> = {};
  const errors: { line: number; message: string }[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!m?.[1]) {
      errors.push({ line: index + 1, message: `expected KEY=VALUE, got "${line.slice(0, 40)}"` });
      continue;
    }
    let value = m[2] ?? '';
    const quoted = /^(['"])(.*)\1$/.exec(value);
    if (quoted) value = quoted[1] === '"' ? (quoted[2] ?? '').replace(/\\n/g, '\n').replace(/\\"/g, '"') : (quoted[2] ?? '');
    else value = value.replace(/\s+#.*$/, '');
    values[m[1]] = value;
  }
  return { values, errors };
}
