import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { base64Utf8, sha256Hex } from '../../../src/shared/compiler';

describe('sha256Hex', () => {
  it('agrees with node:crypto on the FIPS 180-4 examples and on block boundaries', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    for (const n of [55, 56, 57, 63, 64, 65, 119, 120, 1000]) {
      const text = 'x'.repeat(n);
      expect(sha256Hex(text), `length ${n}`).toBe(createHash('sha256').update(text).digest('hex'));
    }
  });

  it('agrees with node:crypto on arbitrary Unicode strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
        expect(sha256Hex(text)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
      }),
    );
  });
});

describe('base64Utf8', () => {
  it('agrees with Buffer on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 100 }), (text) => {
        expect(base64Utf8(text)).toBe(Buffer.from(text, 'utf8').toString('base64'));
      }),
    );
  });
});
