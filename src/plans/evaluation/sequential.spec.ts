import fc from 'fast-check';
import { countBounds, logMixtureRatio, rateLowerBound, rateUpperBound, rejects } from './sequential.js';

/** countBounds by brute force: every count tested. */
function bruteBounds(n: number, theta0: number, alpha: number): { low: number; high: number } {
  let high = n;
  for (let x = Math.floor(theta0 * n); x <= n; x++) {
    if (rejects(x, n, theta0, 'ABOVE', alpha / 2)) {
      high = x - 1;
      break;
    }
  }
  let low = 0;
  for (let x = Math.ceil(theta0 * n); x >= 0; x--) {
    if (rejects(x, n, theta0, 'BELOW', alpha / 2)) {
      low = x + 1;
      break;
    }
  }
  return { low, high };
}

describe('sequential tests', () => {
  it('the count bounds found by Newton are those of testing every count', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.double({ min: 0.001, max: 0.999, noNaN: true }), fc.constantFrom(0.05, 0.001, 1e-5), (n, q, alpha) => {
        expect(countBounds(n, q, alpha)).toEqual(bruteBounds(n, q, alpha));
      }),
      { numRuns: 300 },
    );
  });

  it('the rate bounds hold the observed rate and are the edges of the tests', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e7 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, share) => {
        const x = Math.floor(n * share);
        const low = rateLowerBound(x, n, 0.001);
        const high = rateUpperBound(x, n, 0.05);
        expect(low).toBeLessThanOrEqual(x / n + 1e-12);
        expect(high).toBeGreaterThanOrEqual(x / n - 1e-12);
        if (low > 1e-9) expect(rejects(x, n, low * 0.999, 'ABOVE', 0.001)).toBe(true);
        if (high < 1 - 1e-9) expect(rejects(x, n, Math.min(1, high * 1.001), 'BELOW', 0.05)).toBe(true);
      }),
    );
  });

  it('the evidence at the null is never above 1 (ln Λ ≤ 0 where the data sit at θ0)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.double({ min: 0.0001, max: 0.9999, noNaN: true }), (n, theta) => {
        const x = theta * n;
        expect(logMixtureRatio(x, n, theta, 'ABOVE')).toBeLessThanOrEqual(1e-9);
        expect(logMixtureRatio(x, n, theta, 'BELOW')).toBeLessThanOrEqual(1e-9);
      }),
    );
  });

  it('rejects "NEW fails no more than LEGACY" for 60 of 100 failures at a 5 % share, and not for 6', () => {
    expect(rejects(60, 100, 0.05, 'ABOVE', 0.0005)).toBe(true);
    expect(rejects(6, 100, 0.05, 'ABOVE', 0.0005)).toBe(false);
  });
});
