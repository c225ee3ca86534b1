import type { PGlite } from '@electric-sql/pglite';
import { CHANGES_CHANNEL } from '../changes/change-notices.repository.js';
import { type ChangeFeed, type ChangeFeedListener, parseRevision } from './change-feed.js';

/** The embedded engine lives in this process: its notifications cannot be lost, only its process. */
export class EmbeddedChangeFeed implements ChangeFeed {
  private unlisten: (() => Promise<void>) | null = null;

  constructor(private readonly pglite: PGlite) {}

  async start(listener: ChangeFeedListener): Promise<void> {
    this.unlisten = await this.pglite.listen(CHANGES_CHANNEL, (payload) => {
      const revision = parseRevision(payload);
      if (revision !== null) listener.onRevision(revision);
    });
    listener.onConnected();
  }

  async stop(): Promise<void> {
    const unlisten = this.unlisten;
    this.unlisten = null;
    if (unlisten !== null && !this.pglite.closed) await unlisten().catch(() => undefined);
  }
}
