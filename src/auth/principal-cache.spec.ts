import { PrincipalCache } from './principal-cache.js';
import type { Principal } from '../access/roles.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const principal = (tokenId: string, expiresAt: number | null = null): Principal => ({
  tokenId,
  name: `token-${tokenId}`,
  role: 'sdk',
  expiresAt: expiresAt === null ? null : new Date(expiresAt),
});

describe('PrincipalCache', () => {
  it("answers a token verified before, however long ago (re-verification is the background's job)", () => {
    const cache = new PrincipalCache(true);
    cache.remember('hash-a', principal('a'));
    expect(cache.lookup('hash-a', T0 + 365 * 24 * 3_600_000)).toMatchObject({ tokenId: 'a' });
    expect(cache.lookup('hash-unknown', T0)).toBeNull();
  });

  it('refuses an expired token from its expiry instant on, and forgets it', () => {
    const cache = new PrincipalCache(true);
    cache.remember('hash-a', principal('a', T0 + 1_000));
    expect(cache.lookup('hash-a', T0 + 999)).not.toBeNull();
    expect(cache.lookup('hash-a', T0 + 1_000)).toBeNull();
    expect(cache.tokenIds()).toEqual(new Set());
  });

  it('forgets every secret of a token at once, and lists the tokens it holds', () => {
    const cache = new PrincipalCache(true);
    cache.remember('hash-1', principal('a'));
    cache.remember('hash-2', principal('a'));
    cache.remember('hash-3', principal('b'));
    expect(cache.tokenIds()).toEqual(new Set(['a', 'b']));
    cache.forgetToken('a');
    expect(cache.lookup('hash-1', T0)).toBeNull();
    expect(cache.lookup('hash-2', T0)).toBeNull();
    expect(cache.tokenIds()).toEqual(new Set(['b']));
  });

  it('remembers nothing when disabled', () => {
    const cache = new PrincipalCache(false);
    cache.remember('hash-a', principal('a'));
    expect(cache.lookup('hash-a', T0)).toBeNull();
  });

  it('is bounded: past 20,000 secrets the oldest goes first', () => {
    const cache = new PrincipalCache(true);
    for (let i = 0; i <= 20_000; i++) cache.remember(`hash-${i}`, principal(`t${i}`));
    expect(cache.lookup('hash-0', T0)).toBeNull();
    expect(cache.lookup('hash-1', T0)).not.toBeNull();
    expect(cache.lookup('hash-20000', T0)).not.toBeNull();
  });
});
