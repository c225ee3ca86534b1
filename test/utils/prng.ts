/**
 * Seeded randomness for simulations and statistical tests, so that a run can be repeated from its
 * seed. Not for anything secret.
 */

/** mulberry32: a small 32-bit generator, uniform in [0, 1), good enough for simulation. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Binomial(n, p) by one uniform per trial: exact, for the small n of unit tests (plans.sim has a fast one). */
export function binomialByTrials(random: () => number, n: number, p: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (random() < p) k++;
  return k;
}
