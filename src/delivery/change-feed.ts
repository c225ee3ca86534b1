/**
 * Announcements of committed configuration changes, from whichever instance made them.
 *
 * Two engines, one interface: on a PostgreSQL server, LISTEN on a dedicated connection (NOTIFY
 * reaches every instance, after commit); on the embedded engine, PGlite's own `listen()` (its
 * only way to deliver notifications; a pg-style LISTEN through its adapter hears nothing).
 */
export interface ChangeFeedListener {
  /** A change committed; `revision` is the new configuration revision. */
  onRevision(revision: number): void;
  /**
   * The feed was (re)connected: announcements made while it was down are lost, so the listener
   * must resynchronize from the database. Called once after the first connection too.
   */
  onConnected(): void;
}

export interface ChangeFeed {
  start(listener: ChangeFeedListener): Promise<void>;
  stop(): Promise<void>;
}

export const CHANGE_FEED = Symbol('CHANGE_FEED');

/** Parses a NOTIFY payload; anything but a positive integer is ignored (and resync catches up). */
export function parseRevision(payload: string | undefined): number | null {
  if (payload === undefined || !/^\d{1,15}$/.test(payload)) return null;
  const revision = Number(payload);
  return revision > 0 ? revision : null;
}
