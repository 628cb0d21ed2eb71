/** A JSON value as the compiler emits it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Copies a JSON-like value with every object's keys sorted, so equal content always serialises identically. */
export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value !== null && typeof value === 'object') {
    const source = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(source).sort()) {
      const v = source[key];
      if (v !== undefined) out[key] = sortKeysDeep(v);
    }
    return out;
  }
  return value;
}

/** Canonical JSON: object keys sorted at every level, no whitespace, `undefined` members dropped (as JSON.stringify does). */
export function canonicalJson(value: unknown): string {
  // It hashes every bundle (≈ 500 KB for 200 workloads): V8's JSON.stringify of a copy whose keys are in order is several
  // times faster than serialising by hand, and the copy only re-creates objects whose keys are not already sorted.
  if (value !== null && typeof value === 'object') {
    const ordered = orderedForStringify(value);
    if (ordered !== GENERAL) return JSON.stringify(ordered);
  }
  return canonicalJsonGeneral(value);
}

/** Marks a value JSON.stringify would serialise differently from canonicalJsonGeneral, even with its keys in order. */
const GENERAL: unique symbol = Symbol('general');

/**
 * The value with every plain object's keys in code-unit order (the same reference where they already are), or GENERAL
 * when JSON.stringify would not give canonicalJsonGeneral's text for it: integer-like keys (JSON.stringify puts those
 * first, in numeric order), symbol or bigint values, `toJSON`, `__proto__` keys, and objects that are not plain (Date, ...).
 */
function orderedForStringify(value: unknown): unknown {
  if (value === null) return value;
  const type = typeof value;
  if (type === 'symbol' || type === 'bigint') return GENERAL;
  if (type !== 'object') return value; // strings, numbers, booleans; undefined and functions are dropped or null alike
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const ordered = orderedForStringify(item);
      if (ordered === GENERAL) return GENERAL;
      if (ordered !== item) {
        copy ??= value.slice();
        copy[i] = ordered;
      }
    }
    return copy ?? value;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return GENERAL;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  let sorted = true;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] ?? '';
    const first = key.charCodeAt(0);
    if (first >= 48 && first <= 57) return GENERAL; // "0"-"9": maybe an integer-like key
    if (i > 0 && (keys[i - 1] ?? '') > key) sorted = false;
  }
  if (!sorted) keys.sort();
  // A copy only when the keys were out of order or some member was copied; until then members are only checked.
  let copy: Record<string, unknown> | undefined = sorted ? undefined : {};
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] ?? '';
    const v = record[key];
    // A function toJSON would replace the object; assigning "__proto__" in the copy would set its prototype instead.
    if ((key === 'toJSON' && typeof v === 'function') || key === '__proto__') return GENERAL;
    const ordered = orderedForStringify(v);
    if (ordered === GENERAL) return GENERAL;
    if (!copy && ordered !== v) {
      copy = {};
      for (let j = 0; j < i; j++) copy[keys[j] ?? ''] = record[keys[j] ?? ''];
    }
    if (copy) copy[key] = ordered;
  }
  return copy ?? value;
}

/** canonicalJson by hand, for what JSON.stringify cannot do the same way (see orderedForStringify). */
export function canonicalJsonGeneral(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      out += (i > 0 ? ',' : '') + (item === undefined || typeof item === 'function' ? 'null' : canonicalJsonGeneral(item));
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  let out = '{';
  let first = true;
  for (const key of Object.keys(record).sort()) {
    const v = record[key];
    if (v === undefined || typeof v === 'function') continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJsonGeneral(v)}`;
    first = false;
  }
  return `${out}}`;
}
