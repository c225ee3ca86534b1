import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/**
 * The PostgreSQL channel on which every committed configuration change is announced, with the
 * new revision as payload. NOTIFY is transactional: listeners hear it only after the commit.
 */
export const CHANGES_CHANNEL = 'switchyard_changes';

/** ChangeService's NOTIFY, which delivery's change feeds LISTEN to (postgres- and embedded-change-feed.ts). */
@Injectable()
export class ChangeNoticesRepository {
  /** Announces a new configuration revision; delivered to listeners when `tx` commits. */
  async notifyRevision(tx: EntityManager, revision: string): Promise<void> {
    await tx.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, revision]);
  }
}
