import fc from 'fast-check';
import { percentToPartsPerMillion } from './validation.js';

describe('percentToPartsPerMillion (mismatch thresholds: 0 to 100, four decimals)', () => {
  it('reads every percentage with at most four decimals exactly, as its literal would be written', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), (ppm) => {
        expect(percentToPartsPerMillion(Number((ppm / 10_000).toFixed(4)))).toBe(ppm);
        expect(percentToPartsPerMillion(ppm / 10_000)).toBe(ppm);
      }),
      { numRuns: 2_000 },
    );
    expect(percentToPartsPerMillion(0.1)).toBe(1000);
    expect(percentToPartsPerMillion(0.0001)).toBe(1);
    expect(percentToPartsPerMillion(100)).toBe(1_000_000);
    expect(Object.is(percentToPartsPerMillion(-0), 0)).toBe(true);
  });

  it('refuses a fifth decimal, anything out of range, and what is not a finite number', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }).filter((n) => n % 10 !== 0),
        (n) => {
          expect(percentToPartsPerMillion(n / 100_000)).toBeNull();
        },
      ),
      { numRuns: 2_000 },
    );
    for (const bad of [-0.0001, 100.0001, 1e300, Number.NaN, Number.POSITIVE_INFINITY, 0.00001, 0.12345]) expect(percentToPartsPerMillion(bad)).toBeNull();
  });
});
