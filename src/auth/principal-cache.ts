import type { Principal } from '../access/roles.js';

const MAX_ENTRIES = 20_000;

/**
 * Tokens verified against the database, by secret hash: the request path answers from here, so a
 * token seen before costs no query (10,000 SDK streams reconnecting at once would otherwise be
 * 10,000 queries) and keeps working while the database is unreachable or frozen. Kept true by
 * ApiTokensService, which re-verifies every cached token in the background and forgets those
 * revoked; an expired token is refused here on its own. Bounded: the oldest entry goes first.
 * Only successes are kept, so an unknown token always asks the database.
 */
export class PrincipalCache {
  private readonly entries = new Map<string, Principal>();

  /** @param enabled - false: nothing is remembered (every request asks the database). */
  constructor(private readonly enabled: boolean) {}

  /** The principal verified for this hash, unless it has expired by `now` (ms) or was never verified. */
  lookup(tokenHash: string, now: number): Principal | null {
    const principal = this.entries.get(tokenHash);
    if (principal === undefined) return null;
    if (principal.expiresAt !== null && principal.expiresAt.getTime() <= now) {
      this.entries.delete(tokenHash);
      return null;
    }
    return principal;
  }

  remember(tokenHash: string, principal: Principal): void {
    if (!this.enabled) return;
    this.entries.delete(tokenHash);
    this.entries.set(tokenHash, principal);
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Every token some cached secret belongs to (what the background re-verification asks about). */
  tokenIds(): Set<string> {
    return new Set([...this.entries.values()].map((p) => p.tokenId));
  }

  forgetToken(tokenId: string): void {
    for (const [hash, principal] of this.entries) if (principal.tokenId === tokenId) this.entries.delete(hash);
  }
}
