import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/shared/compiler';

/** The same value with every object's keys inserted in reverse order. */
function reverseKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeysDeep);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([k, v]) => [k, reverseKeysDeep(v)]),
    );
  }
  return value;
}

describe('canonicalJson', () => {
  it('is valid JSON of the same value, whatever the key insertion order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        // JSON carries no -0 (JSON.stringify(-0) is "0"), so "the same value" means the same as JSON.stringify's.
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(canonicalJson(reverseKeysDeep(value))).toBe(text);
      }),
    );
  });

  it('sorts keys by code unit at every level, integer-like keys included, and drops undefined like JSON.stringify', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson({ '': 0, '10': 1, '9': 2 })).toBe('{"":0,"10":1,"9":2}');
    expect(canonicalJson({ a: undefined, b: [undefined] })).toBe('{"b":[null]}');
    expect(canonicalJson({ n: -0, m: [-0] })).toBe('{"m":[0],"n":0}');
  });
});
