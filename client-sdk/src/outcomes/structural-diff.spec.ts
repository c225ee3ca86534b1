import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { cut, MAX_DIFF_CHARS, MAX_DEPTH, structuralDiff, structuralEqual } from './structural-diff.js';
import { subjectOf } from './subject.js';

describe('structural equality', () => {
  it('holds between a JSON value and its deep copy, and between objects whose keys come in another order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(structuralEqual(value, structuredClone(value))).toBe(true);
        expect(structuralDiff(value, structuredClone(value))).toBe('');
      }),
    );
    expect(structuralEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
  });

  it('agrees with the diff: equal exactly when the diff is empty', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 3 }), (a, b) => {
        expect(structuralDiff(a, b) === '').toBe(structuralEqual(a, b));
      }),
    );
  });

  it('compares Dates by time, Maps and Sets by entries, NaN as equal, undefined keys as absent', () => {
    expect(structuralEqual(new Date(5), new Date(5))).toBe(true);
    expect(structuralEqual(new Date(5), new Date(6))).toBe(false);
    expect(structuralEqual(new Map([['a', 1]]), new Map([['a', 1]]))).toBe(true);
    expect(structuralEqual(new Map([['a', 1]]), new Map([['a', 2]]))).toBe(false);
    expect(structuralEqual(new Set([1, 2]), new Set([1, 3]))).toBe(false);
    expect(structuralEqual(NaN, NaN)).toBe(true);
    expect(structuralEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(structuralEqual([1, 2], { 0: 1, 1: 2 })).toBe(false);
    expect(structuralEqual(null, {})).toBe(false);
  });

  it('stops at MAX_DEPTH on cyclic values instead of overflowing the stack', () => {
    const a: Record<string, unknown> = { v: 1 };
    a.self = a;
    const b: Record<string, unknown> = { v: 1 };
    b.self = b;
    expect(typeof structuralEqual(a, b)).toBe('boolean');
    expect(structuralDiff(a, b).split('\n').length).toBeGreaterThanOrEqual(1);
    expect(MAX_DEPTH).toBeGreaterThan(8);
  });
});

describe('structural diff', () => {
  it('lists the differing places as JSON-path lines, LEGACY on the left', () => {
    const legacy = { balance: 100, items: [{ id: 'a' }, { id: 'b' }], 'odd key': true, gone: 1 };
    const next = { balance: 101, items: [{ id: 'a' }, { id: 'c' }, { id: 'd' }], 'odd key': true, added: 'x' };
    expect(structuralDiff(legacy, next).split('\n')).toEqual([
      '$.balance: 100 ≠ 101',
      '$.items[1].id: "b" ≠ "c"',
      '$.items[2]: (absent) ≠ {"id":"d"}',
      '$.gone: 1 ≠ (absent)',
      '$.added: (absent) ≠ "x"',
    ]);
    expect(structuralDiff(1, '1')).toBe('$: 1 ≠ "1"');
    expect(structuralDiff({ 'a b': 1 }, { 'a b': 2 })).toBe('$["a b"]: 1 ≠ 2');
  });

  it('is cut to 4,096 characters, ending with an ellipsis, whatever the values', () => {
    const legacy = Array.from({ length: 2_000 }, (_, i) => ({ i, text: 'x'.repeat(500) }));
    const next = legacy.map((row) => ({ ...row, text: 'y'.repeat(500) }));
    const diff = structuralDiff(legacy, next);
    expect(diff.length).toBeLessThanOrEqual(MAX_DIFF_CHARS);
    expect(diff.endsWith('…')).toBe(true);
    // Each value is cut too: one line stays readable.
    expect(diff.split('\n')[0]!.length).toBeLessThan(500);
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (a, b) => {
        expect(structuralDiff(a, b).length).toBeLessThanOrEqual(MAX_DIFF_CHARS);
      }),
    );
  });

  it('never cuts between the halves of a surrogate pair', () => {
    expect(cut('ab😀cd', 4)).toBe('ab…');
    expect(cut('abc😀', 5)).toBe('abc😀');
  });
});

describe('the subject of a mismatch sample', () => {
  it('is the first 16 hex digits of SHA-256 over slice key, newline, stickiness value', () => {
    const expected = createHash('sha256').update('payments.provider.mpesa\nuser-42').digest('hex').slice(0, 16);
    expect(subjectOf('payments.provider.mpesa', 'user-42')).toBe(expected);
    expect(subjectOf('s', 'é')).toBe(createHash('sha256').update(Buffer.from('s\né', 'utf8')).digest('hex').slice(0, 16));
    expect(subjectOf('s', undefined)).toMatch(/^[0-9a-f]{16}$/);
  });
});
