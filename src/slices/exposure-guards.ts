import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Actor } from '../access/auth.decorators.js';
import type { ChangeArgs } from '../changes/change.service.js';
import type { HistoryDraft } from '../history/history-action.js';
import type { SliceRecord } from './slice-record.js';

/**
 * One exposure change about to be written: an operation that moves who is on NEW (setRollout,
 * setTargeting, resume, archiveSlice), seen inside its transaction with the append lock held, so
 * that what a guard reads cannot change before the write commits.
 */
export interface ExposureChange {
  readonly operation: string;
  readonly args: ChangeArgs & { readonly key: string; readonly freezeOverride?: string | null };
  readonly actor: Actor;
  readonly tx: EntityManager;
  /** The time of the change (the ChangeService clock): the same one its history row records. */
  readonly now: Date;
  readonly current: SliceRecord;
  readonly next: SliceRecord;
  /**
   * Adds a history row to the change's transaction, before the change's own row (e.g. an admin's
   * freeze override, with its reason): same actor, request and reason, in the hash chain like any.
   */
  record(draft: HistoryDraft): void;
}

/**
 * A rule that may refuse an exposure change: a freeze window, a plan that owns the slice. It
 * throws a SwitchyardException (a machine-readable code) to refuse; the transaction then writes
 * nothing. Rollback is not an exposure change and never reaches a guard (DESIGN.md: rollback never
 * waits on a freeze window, a plan or an approval).
 */
export interface ExposureGuard {
  /** Named in logs; one guard per feature. */
  readonly name: string;
  check(change: ExposureChange): void | Promise<void>;
}

/**
 * The guards SlicesService.exposureChange consults, registered by the modules that own them (they
 * come after slices in the module order, so slices cannot import them: they register themselves in
 * onModuleInit). Checked in registration order; the first refusal wins.
 */
@Injectable()
export class ExposureGuards {
  private readonly guards: ExposureGuard[] = [];

  register(guard: ExposureGuard): void {
    if (this.guards.some((g) => g.name === guard.name)) throw new Error(`exposure guard ${guard.name} registered twice`);
    this.guards.push(guard);
  }

  async check(change: ExposureChange): Promise<void> {
    for (const guard of this.guards) await guard.check(change);
  }
}
