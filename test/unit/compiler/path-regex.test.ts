import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pathPrefixRegex, readPathRegex } from '../../../src/shared/compiler';
import { checkPathPrefix } from '../../../src/shared/validation';

const segment = fc
  .string({ unit: fc.constantFrom(...'abz09.-_~+*?()[]{}|^$\\%!'.split('')), minLength: 1, maxLength: 6 })
  .filter((s) => s !== '.' && s !== '..' && !/%/.test(s));
const prefixArb = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => `/${parts.join('/')}`);

describe('pathPrefixRegex', () => {
  it('matches exactly the paths that start with the prefix as whole segments, whatever characters it holds', () => {
    fc.assert(
      fc.property(
        prefixArb,
        fc.array(segment, { maxLength: 2 }),
        fc.constantFrom('', '/', 'x', '-x'),
        fc.constantFrom('', '/v1'),
        (prefix, rest, glue, before) => {
          const path = `${before}${prefix}${glue}${rest.length > 0 ? `/${rest.join('/')}` : ''}`;
          const expected = path === prefix || path.startsWith(`${prefix}/`);
          expect(new RegExp(pathPrefixRegex(prefix)).test(path), `${pathPrefixRegex(prefix)} vs ${path}`).toBe(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reads back as the same prefix on import', () => {
    fc.assert(
      fc.property(prefixArb, (prefix) => {
        const checked = checkPathPrefix(prefix);
        fc.pre(checked.ok);
        expect(readPathRegex(pathPrefixRegex(prefix))).toEqual({ kind: 'prefix', prefix });
      }),
    );
  });
});

describe('readPathRegex', () => {
  it('reads whole-segment prefixes, match-all patterns, and refuses everything else with the reason', () => {
    expect(readPathRegex('^/api(/|$)')).toEqual({ kind: 'prefix', prefix: '/api' });
    expect(readPathRegex('^/v1\\.0(/.*)?$')).toEqual({ kind: 'prefix', prefix: '/v1.0' });
    expect(readPathRegex('^/api(?:/|$)')).toEqual({ kind: 'prefix', prefix: '/api' });
    for (const all of ['', '/', '^/', '.*', '^/.*']) expect(readPathRegex(all)).toEqual({ kind: 'all' });
    expect(readPathRegex('/api')).toMatchObject({ kind: 'regex', nearestPrefix: '/api', reason: expect.stringContaining('unanchored') });
    expect(readPathRegex('^/api')).toMatchObject({
      kind: 'regex',
      nearestPrefix: '/api',
      reason: expect.stringContaining('not a whole-segment prefix'),
    });
    expect(readPathRegex('^/api/.*')).toMatchObject({ kind: 'regex', nearestPrefix: '/api' });
    expect(readPathRegex('\\.(jpg|png)$')).toMatchObject({ kind: 'regex' });
    expect(readPathRegex('^/(a|b)(/|$)')).toMatchObject({ kind: 'regex' });
    expect(readPathRegex('^/\\d+(/|$)')).toMatchObject({ kind: 'regex' });
  });
});
