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
  /**
   * The value of the guard's `sliceRead`, read with the slice under the append lock (parsed JSON,
   * or null); undefined when the change loaded the slice without it (inside another change, such
   * as a plan's step): the guard then reads for itself.
   */
  readonly read?: unknown;
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
  /**
   * What `check` needs from the database, as a SQL expression over the slice's row (alias `s`;
   * a subquery giving json): read in the statement that loads the slice under the append lock, so
   * a guard costs a change no round trip of its own. Its value reaches `check` as `change.read`.
   */
  readonly sliceRead?: string;
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

  /** The guards' slice reads, in registration order: a change loads them with the slice and passes their values back to `check`. */
  sliceReads(): string[] {
    return this.guards.flatMap((g) => (g.sliceRead === undefined ? [] : [g.sliceRead]));
  }

  /** `reads`: the values of `sliceReads()`, in its order; absent when the slice was loaded without them. */
  async check(change: Omit<ExposureChange, 'read'>, reads?: readonly unknown[]): Promise<void> {
    let next = 0;
    for (const guard of this.guards) {
      const read = guard.sliceRead === undefined || reads === undefined ? undefined : reads[next++];
      await guard.check(read === undefined ? change : { ...change, read });
    }
  }
}
