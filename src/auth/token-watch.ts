import type { Principal } from '../access/roles.js';

interface Watched {
  /** Epoch ms, or null for a token that never expires. */
  readonly expiresAt: number | null;
  readonly watchers: Set<() => void>;
}

/**
 * Who must be told when a token stops being valid: the streams opened with it (an open stream,
 * unlike a request, is not authenticated again). Pure bookkeeping, time passed in: ApiTokensService
 * withdraws a token when it is revoked (here or, found by its re-verification, elsewhere) and
 * when it expires (a timer set to `nextExpiry`).
 */
export class TokenWatch {
  private readonly tokens = new Map<string, Watched>();

  /** Calls `onWithdrawn` once when the principal's token is withdrawn. Returns the function that stops watching. */
  watch(principal: Principal, onWithdrawn: () => void): () => void {
    let watched = this.tokens.get(principal.tokenId);
    if (watched === undefined) {
      watched = { expiresAt: principal.expiresAt?.getTime() ?? null, watchers: new Set() };
      this.tokens.set(principal.tokenId, watched);
    }
    const watchers = watched.watchers;
    // A function of its own per call: the same callback watched twice is two watches.
    const watcher = () => onWithdrawn();
    watchers.add(watcher);
    return () => {
      watchers.delete(watcher);
      if (watchers.size === 0 && this.tokens.get(principal.tokenId)?.watchers === watchers) this.tokens.delete(principal.tokenId);
    };
  }

  /** The tokens watched now. */
  tokenIds(): string[] {
    return [...this.tokens.keys()];
  }

  /** The earliest expiry among the tokens watched (epoch ms), or null when none expires. */
  nextExpiry(): number | null {
    let next: number | null = null;
    for (const { expiresAt } of this.tokens.values()) if (expiresAt !== null && (next === null || expiresAt < next)) next = expiresAt;
    return next;
  }

  /** The tokens watched whose expiry is at or before `now` (epoch ms). */
  expired(now: number): string[] {
    return [...this.tokens].filter(([, w]) => w.expiresAt !== null && w.expiresAt <= now).map(([id]) => id);
  }

  /**
   * Tells every watcher of this token, once, and stops watching it. A watcher that throws does
   * not keep the others from being told. Returns how many were told.
   */
  withdraw(tokenId: string, onError: (error: unknown) => void = () => undefined): number {
    const watched = this.tokens.get(tokenId);
    if (watched === undefined) return 0;
    this.tokens.delete(tokenId);
    const watchers = [...watched.watchers];
    for (const watcher of watchers) {
      try {
        watcher();
      } catch (error) {
        onError(error);
      }
    }
    return watchers.length;
  }
}
