import type { Principal } from '../access/roles.js';
import { TokenWatch } from './token-watch.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const principal = (tokenId: string, expiresAt: number | null = null): Principal => ({
  tokenId,
  name: `token-${tokenId}`,
  role: 'sdk',
  expiresAt: expiresAt === null ? null : new Date(expiresAt),
});

describe('TokenWatch', () => {
  it('tells every watcher of a withdrawn token once, and no other', () => {
    const watch = new TokenWatch();
    const told: string[] = [];
    watch.watch(principal('a'), () => told.push('a1'));
    watch.watch(principal('a'), () => told.push('a2'));
    watch.watch(principal('b'), () => told.push('b1'));
    expect(watch.withdraw('a')).toBe(2);
    expect(told.sort()).toEqual(['a1', 'a2']);
    // Withdrawn: not watched any more, a second withdrawal tells nobody.
    expect(watch.withdraw('a')).toBe(0);
    expect(watch.tokenIds()).toEqual(['b']);
  });

  it('stops watching when asked; the last watcher gone, the token is not watched', () => {
    const watch = new TokenWatch();
    const told: string[] = [];
    const stop1 = watch.watch(principal('a'), () => told.push('1'));
    const stop2 = watch.watch(principal('a'), () => told.push('2'));
    stop1();
    expect(watch.tokenIds()).toEqual(['a']);
    stop2();
    stop2();
    expect(watch.tokenIds()).toEqual([]);
    expect(watch.withdraw('a')).toBe(0);
    expect(told).toEqual([]);
  });

  it('a stop after the withdrawal leaves a later watch of the same token alone', () => {
    const watch = new TokenWatch();
    const stopOld = watch.watch(principal('a'), () => undefined);
    watch.withdraw('a');
    const told: string[] = [];
    watch.watch(principal('a'), () => told.push('new'));
    stopOld();
    expect(watch.withdraw('a')).toBe(1);
    expect(told).toEqual(['new']);
  });

  it('knows the next expiry and which tokens have expired at a given time', () => {
    const watch = new TokenWatch();
    expect(watch.nextExpiry()).toBeNull();
    watch.watch(principal('never'), () => undefined);
    watch.watch(principal('later', T0 + 60_000), () => undefined);
    watch.watch(principal('soon', T0 + 1_000), () => undefined);
    expect(watch.nextExpiry()).toBe(T0 + 1_000);
    expect(watch.expired(T0 + 999)).toEqual([]);
    // At the expiry instant the token is no longer valid (as ApiTokensService.authenticate decides).
    expect(watch.expired(T0 + 1_000)).toEqual(['soon']);
    watch.withdraw('soon');
    expect(watch.nextExpiry()).toBe(T0 + 60_000);
    expect(watch.expired(T0 + 10 * 60_000)).toEqual(['later']);
  });

  it('a watcher that throws does not keep the others from being told', () => {
    const watch = new TokenWatch();
    const told: string[] = [];
    const errors: unknown[] = [];
    watch.watch(principal('a'), () => {
      throw new Error('broken stream');
    });
    watch.watch(principal('a'), () => told.push('ok'));
    expect(watch.withdraw('a', (e) => errors.push(e))).toBe(2);
    expect(told).toEqual(['ok']);
    expect(errors).toHaveLength(1);
  });

  it('a watcher that stops watching while being told does not disturb the others', () => {
    const watch = new TokenWatch();
    const told: string[] = [];
    const stop = watch.watch(principal('a'), () => {
      stop();
      told.push('self-stopping');
    });
    watch.watch(principal('a'), () => told.push('other'));
    expect(watch.withdraw('a')).toBe(2);
    expect(told.sort()).toEqual(['other', 'self-stopping']);
  });
});
