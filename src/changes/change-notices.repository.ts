import { Injectable } from '@nestjs/common';

/**
 * The PostgreSQL channel on which every committed configuration change is announced, with the
 * new revision as payload. NOTIFY is transactional: listeners hear it only after the commit.
 */
export const CHANGES_CHANNEL = 'switchyard_changes';

/** ChangeService's NOTIFY, which delivery's change feeds LISTEN to (postgres- and embedded-change-feed.ts). */
@Injectable()
export class ChangeNoticesRepository {
  /**
   * The announcement of a new configuration revision, sent by the statement that appends its
   * history rows (HistoryRepository.insertMany); delivered to listeners when that transaction commits.
   */
  revisionNotice(revision: string): { channel: string; payload: string } {
    return { channel: CHANGES_CHANNEL, payload: revision };
  }
}
