import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Actor } from '../access/auth.decorators.js';
import type { HistoryDraft } from '../history/history-action.js';

/** A segment just rolled back on a slice, seen inside the rollbackSegment's transaction (the append lock held). */
export interface SegmentRolledBack {
  readonly tx: EntityManager;
  /** The change's time (the ChangeService clock), the one its history rows record. */
  readonly now: Date;
  readonly actor: Actor;
  readonly sliceKey: string;
  readonly segment: string;
}

/**
 * Something that must happen with a segment rollback, in its transaction: a RUNNING plan on the
 * slice pauses (src/plans). It never refuses (a rollback never waits on a plan); it returns the
 * history rows of what it did, written after the rollback's own row.
 */
export interface SegmentRollbackListener {
  readonly name: string;
  segmentRolledBack(event: SegmentRolledBack): Promise<HistoryDraft[]>;
}

/**
 * The listeners RollbackService tells of a segment rollback, registered by the modules that own
 * them in onModuleInit (they come after rollback in the module order, as for ExposureGuards).
 */
@Injectable()
export class SegmentRollbackListeners {
  private readonly listeners: SegmentRollbackListener[] = [];

  register(listener: SegmentRollbackListener): void {
    if (this.listeners.some((l) => l.name === listener.name)) throw new Error(`segment rollback listener ${listener.name} registered twice`);
    this.listeners.push(listener);
  }

  async notify(event: SegmentRolledBack): Promise<HistoryDraft[]> {
    const rows: HistoryDraft[] = [];
    for (const listener of this.listeners) rows.push(...(await listener.segmentRolledBack(event)));
    return rows;
  }
}
