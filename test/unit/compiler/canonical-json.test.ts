import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/shared/compiler';
import { canonicalJsonGeneral } from '../../../src/shared/compiler/canonical-json';

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

describe('canonicalJson through JSON.stringify', () => {
  // canonicalJson hands plain trees to V8's JSON.stringify after ordering their keys; canonicalJsonGeneral is the
  // serialiser written out by hand. They must agree on every value, including what JSON.stringify treats differently.
  const anything = fc.oneof(
    fc.jsonValue(),
    fc.anything({ withNullPrototype: true, withObjectString: true, withSparseArray: true, withBoxedValues: false }),
    fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('__proto__', '10', '9', '01', 'toJSON')), fc.jsonValue()),
  );
  it('gives the hand-written serialiser’s text for any value', () => {
    fc.assert(
      fc.property(anything, (value) => {
        expect(canonicalJson(value)).toBe(canonicalJsonGeneral(value));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps what JSON.stringify would change: integer-like keys, toJSON, Dates, symbols, __proto__ keys', () => {
    const cases: unknown[] = [
      { b: { '10': 1, '9': 2 }, a: 1 },
      { z: 1, nested: { toJSON: () => 'replaced', x: 1 } },
      [{ when: new Date(0) }],
      { s: Symbol('s'), a: [Symbol('t')] },
      JSON.parse('{"b":1,"__proto__":{"y":1,"x":2}}') as unknown,
      { b: undefined, a: [undefined, () => 1], c: () => 1 },
      [1, , 3], // eslint-disable-line no-sparse-arrays
    ];
    for (const value of cases) expect(canonicalJson(value)).toBe(canonicalJsonGeneral(value));
    expect(canonicalJson(JSON.parse('{"b":1,"__proto__":{"y":1,"x":2}}'))).toBe('{"__proto__":{"x":2,"y":1},"b":1}');
  });
});
