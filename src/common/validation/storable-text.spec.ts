import fc from 'fast-check';
import { childPath, findUnstorableText, unstorableReason } from './storable-text.js';

describe('storable text', () => {
  const anyUnits = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 40 }).map((units) => String.fromCharCode(...units));
  const anyText = fc.oneof(anyUnits, fc.string({ unit: 'binary', maxLength: 40 }));

  it('accepts exactly the strings that survive a round trip through UTF-8 without NUL', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const survives = Buffer.from(text, 'utf8').toString('utf8') === text && !text.includes('\u0000');
        expect(unstorableReason(text) === null).toBe(survives);
      }),
      { numRuns: 5_000 },
    );
  });

  it('finds every bad string and key in a JSON document, with its path', () => {
    const doc = { ok: ['fine', 'e\u0301', '\u{1F600}'], bad: ['x', 'a\u0000'], nested: { ['k\uD800']: 1, deeper: [{ v: '\uDC00' }] } };
    expect(findUnstorableText(doc, '').map((f) => f.field)).toEqual(['bad[1]', 'nested["k\\ud800"]', 'nested.deeper[0].v']);
    expect(findUnstorableText('\u0000', 'body').map((f) => f.field)).toEqual(['body']);
    expect(findUnstorableText({ fine: ['שלום', '\uFEFF', '\u2028'] }, '')).toEqual([]);
  });

  it('walks documents of any depth without recursion, and stops after ten findings', () => {
    let deep: unknown = 'a\u0000';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findUnstorableText(deep, 'x')).toHaveLength(1);
    expect(
      findUnstorableText(
        Array.from({ length: 1_000 }, () => '\uD800'),
        '',
      ),
    ).toHaveLength(10);
  });

  it('writes paths a client can follow', () => {
    expect(childPath('', 'reason')).toBe('reason');
    expect(childPath('constraints', 0)).toBe('constraints[0]');
    expect(childPath('context', 'user id')).toBe('context["user id"]');
  });

  it('never throws on generated JSON', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => Array.isArray(findUnstorableText(value, ''))));
  });
});
