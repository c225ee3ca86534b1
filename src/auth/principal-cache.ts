import type { Principal } from './roles.js';

interface Entry {
  readonly principal: Principal;
  readonly expiresAt: number | null;
  readonly verifiedAt: number;
}

const MAX_ENTRIES = 20_000;

/**
 * Tokens recently verified against the database, by secret hash. Saves a query per request
 * (10,000 SDK streams reconnecting at once would otherwise be 10,000 queries), and lets callers
 * known before keep working while the database is unreachable. Bounded: the oldest entry goes
 * first. Only successes are kept, so an unknown token always asks the database.
 */
export class PrincipalCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly ttlMs: number) {}

  /** A principal verified less than ttlMs ago (`fresh`), or verified at some point (`stale`). */
  lookup(tokenHash: string, now: number): { principal: Principal; fresh: boolean } | null {
    const entry = this.entries.get(tokenHash);
    if (entry === undefined) return null;
    if (entry.expiresAt !== null && entry.expiresAt <= now) {
      this.entries.delete(tokenHash);
      return null;
    }
    return { principal: entry.principal, fresh: now - entry.verifiedAt < this.ttlMs };
  }

  remember(tokenHash: string, principal: Principal, expiresAt: Date | null, now: number): void {
    if (this.ttlMs === 0) return;
    this.entries.delete(tokenHash);
    this.entries.set(tokenHash, { principal, expiresAt: expiresAt?.getTime() ?? null, verifiedAt: now });
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }

  forget(tokenHash: string): void {
    this.entries.delete(tokenHash);
  }

  forgetToken(tokenId: string): void {
    for (const [hash, entry] of this.entries) if (entry.principal.tokenId === tokenId) this.entries.delete(hash);
  }
}
