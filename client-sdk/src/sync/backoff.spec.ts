import { Backoff, DEFAULT_BACKOFF } from './backoff.js';

describe('Backoff', () => {
  const lowest = () => 0;
  const highest = () => 0.999999;

  it('stays within [initialMs, min(maxMs, initialMs * 2^n)] for the n-th failure (n from 1)', () => {
    const low = new Backoff({ initialMs: 100, maxMs: 1000 }, lowest);
    const high = new Backoff({ initialMs: 100, maxMs: 1000 }, highest);
    expect(Array.from({ length: 7 }, () => low.next())).toEqual([100, 100, 100, 100, 100, 100, 100]);
    expect(Array.from({ length: 7 }, () => high.next())).toEqual([200, 400, 800, 1000, 1000, 1000, 1000]);
  });

  it('draws every delay of a random sequence inside its bounds', () => {
    const backoff = new Backoff({ initialMs: 250, maxMs: 15_000 });
    for (let n = 1; n <= 200; n++) {
      const delay = backoff.next();
      expect(delay).toBeGreaterThanOrEqual(250);
      expect(delay).toBeLessThanOrEqual(Math.min(15_000, 250 * 2 ** n));
    }
  });

  it('jitters every delay, the first one included', () => {
    const nth = (n: number): number => {
      const backoff = new Backoff({ initialMs: 100, maxMs: 100_000 });
      for (let i = 0; i < n; i++) backoff.next();
      return backoff.next();
    };
    expect(new Set(Array.from({ length: 50 }, () => nth(0))).size).toBeGreaterThan(10);
    expect(new Set(Array.from({ length: 50 }, () => nth(3))).size).toBeGreaterThan(10);
  });

  it('starts again from the first step after reset', () => {
    const backoff = new Backoff({ initialMs: 10, maxMs: 1000 }, highest);
    for (let i = 0; i < 10; i++) backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(20);
  });

  it('capped() waits between maxMs / 2 and maxMs, and later failures continue from the cap', () => {
    expect(new Backoff({ initialMs: 10, maxMs: 1000 }, lowest).capped()).toBe(500);
    expect(new Backoff({ initialMs: 10, maxMs: 1000 }, highest).capped()).toBe(1000);
    const backoff = new Backoff({ initialMs: 10, maxMs: 1000 }, highest);
    backoff.capped();
    expect(backoff.next()).toBe(1000);
  });

  it('stays finite after very many failures and tolerates initialMs above maxMs', () => {
    const backoff = new Backoff({ initialMs: 500, maxMs: 100 }, highest);
    for (let i = 0; i < 10_000; i++) expect(backoff.next()).toBe(100);
  });

  it('defaults to 250 ms .. 15 s', () => {
    expect(DEFAULT_BACKOFF).toEqual({ initialMs: 250, maxMs: 15_000 });
  });
});
