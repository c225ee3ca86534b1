import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Actor } from '../access/auth.decorators.js';
import { ChangeService, type ResultCodec } from '../changes/change.service.js';
import { HistoryAction, type HistoryDraft } from '../history/history-action.js';
import type { ResumeArgs, ResumeSegmentArgs, RollbackAllArgs, RollbackArgs, RollbackSegmentArgs } from '../slices/dto/slice.args.js';
import { rolledBackSegmentsField, rolledBackSegmentsOf, type SliceRecord } from '../slices/slice-record.js';
import { SliceException } from '../slices/slices.exception.js';
import { SLICE_CODEC, SlicesService } from '../slices/slices.service.js';
import { SlicesRepository } from '../slices/slices.repository.js';
import { SegmentRollbackListeners } from './segment-rollback-listeners.js';

export interface RollbackAllOutcome {
  readonly count: number;
  readonly sliceKeys: string[];
}

const ROLLBACK_ALL_CODEC: ResultCodec<RollbackAllOutcome> = { encode: (r) => r, decode: (j) => j as RollbackAllOutcome };

/**
 * The incident responder's calls. Rollback has no precondition beyond a reason and the role:
 * no expected version, no check that would make it fail at 2 a.m. Rolling back a slice that is
 * already on LEGACY (rolled back or archived) succeeds and changes nothing.
 */
@Injectable()
export class RollbackService {
  constructor(
    private readonly slices: SlicesRepository,
    private readonly slicesService: SlicesService,
    private readonly changes: ChangeService,
    private readonly segmentRollbackListeners: SegmentRollbackListeners,
  ) {}

  rollback(args: RollbackArgs, actor: Actor): Promise<SliceRecord> {
    return this.slicesService.change('rollback', args, actor, HistoryAction.SLICE_ROLLED_BACK, toLegacy);
  }

  /**
   * The same rollback inside a change already running (the append lock held): a plan whose gate
   * failed rolls its slice back in the transaction that records why (src/plans).
   */
  rollbackWithin(tx: EntityManager, now: Date, key: string): Promise<{ result: SliceRecord; history: HistoryDraft[] }> {
    return this.slicesService.changeWithin(tx, now, { key }, HistoryAction.SLICE_ROLLED_BACK, toLegacy);
  }

  /** Every ACTIVE slice (or every one with the tag) to LEGACY in one transaction: all or nothing. */
  rollbackAll(args: RollbackAllArgs, actor: Actor): Promise<RollbackAllOutcome> {
    return this.changes.run({
      operation: 'rollbackAll',
      args,
      actor,
      codec: ROLLBACK_ALL_CODEC,
      execute: async (tx, now) => {
        const before = await this.slices.lockActive(tx, args.tag ?? null);
        const sliceKeys = before.map((s) => s.key);
        if (sliceKeys.length === 0) return { result: { count: 0, sliceKeys }, history: [] };
        const after = new Map((await this.slices.setStates(tx, sliceKeys, 'ROLLED_BACK', now)).map((s) => [s.key, s]));
        const history: HistoryDraft[] = before.map((b) => ({
          action: HistoryAction.SLICE_ROLLED_BACK,
          sliceKey: b.key,
          before: b,
          after: after.get(b.key),
        }));
        history.push({ action: HistoryAction.ROLLBACK_ALL, before: null, after: { tag: args.tag ?? null, sliceKeys } });
        return { result: { count: sliceKeys.length, sliceKeys }, history };
      },
    });
  }

  /**
   * Every subject of one segment to LEGACY on this slice (docs/segment-rollback.md): the segment
   * joins the slice's `rolledBackSegments`, apart from its targeting. Like `rollback`: a reason and
   * the role, no expected version, never a guard (it only lowers exposure). The segment must exist
   * (UNKNOWN_SEGMENT_REFERENCE otherwise, nothing written); it need not be named by the targeting.
   * A segment already rolled back, or an archived slice, writes nothing. On a rolled-back slice it
   * is recorded, and stays after `resume`. A RUNNING plan on the slice pauses in the same change.
   */
  rollbackSegment(args: RollbackSegmentArgs, actor: Actor): Promise<SliceRecord> {
    return this.changes.run({
      operation: 'rollbackSegment',
      args,
      actor,
      codec: SLICE_CODEC,
      execute: async (tx, now) => {
        const change = await this.slicesService.changeWithin(tx, now, args, HistoryAction.SEGMENT_ROLLED_BACK, async (_tx, current) => {
          await this.slicesService.requireSegment(tx, args.segment, 'segment');
          const rolledBack = rolledBackSegmentsOf(current);
          if (current.state === 'ARCHIVED' || rolledBack.includes(args.segment)) return current;
          return withRolledBackSegments(current, [...rolledBack, args.segment]);
        });
        if (change.history.length === 0) return change;
        const more = await this.segmentRollbackListeners.notify({ tx, now, actor, sliceKey: args.key, segment: args.segment });
        return { result: change.result, history: [...change.history, ...more] };
      },
    });
  }

  /**
   * Lifts one segment rollback: an exposure change like `resume` (a reason, freeze windows, a
   * running plan refuse it as they refuse resume). The targeting was never touched, so the
   * segment's subjects decide exactly as the slice, as configured now, says. A segment that is not
   * rolled back is refused with SLICE_SEGMENT_NOT_ROLLED_BACK; on a rolled-back slice the segment
   * is lifted and the slice stays rolled back.
   */
  resumeSegment(args: ResumeSegmentArgs, actor: Actor): Promise<SliceRecord> {
    return this.slicesService.exposureChange('resumeSegment', args, actor, HistoryAction.SEGMENT_RESUMED, (_tx, current) => {
      if (current.state === 'ARCHIVED') {
        throw new SliceException('SLICE_ARCHIVED', `Slice "${current.key}" is archived and can no longer change.`, { sliceKey: current.key });
      }
      const rolledBack = rolledBackSegmentsOf(current);
      if (!rolledBack.includes(args.segment)) {
        throw new SliceException('SLICE_SEGMENT_NOT_ROLLED_BACK', `Segment "${args.segment}" is not rolled back on slice "${current.key}": nothing to resume.`, {
          sliceKey: current.key,
          segment: args.segment,
          rolledBackSegments: [...rolledBack],
        });
      }
      return withRolledBackSegments(
        current,
        rolledBack.filter((k) => k !== args.segment),
      );
    });
  }

  /** Back to exactly the configuration the slice had before its rollback. */
  resume(args: ResumeArgs, actor: Actor): Promise<SliceRecord> {
    return this.slicesService.exposureChange('resume', args, actor, HistoryAction.SLICE_RESUMED, (_tx, current) => {
      if (current.state !== 'ROLLED_BACK') {
        throw new SliceException('SLICE_NOT_ROLLED_BACK', `Slice "${current.key}" is ${current.state}, not rolled back: nothing to resume.`, {
          sliceKey: current.key,
          state: current.state,
        });
      }
      return { ...current, state: 'ACTIVE' };
    });
  }
}

/** The record with exactly these rolled-back segments (the member absent when none). */
function withRolledBackSegments(current: SliceRecord, keys: readonly string[]): SliceRecord {
  const { rolledBackSegments: _was, ...rest } = current;
  return { ...rest, ...rolledBackSegmentsField(keys) };
}

/**
 * Only the state changes: rollout and targeting are kept, so resume restores them exactly. A slice
 * already on LEGACY (rolled back, archived) comes back unchanged: nothing written.
 */
function toLegacy(_tx: EntityManager, current: SliceRecord): SliceRecord {
  return current.state === 'ACTIVE' ? { ...current, state: 'ROLLED_BACK' } : current;
}
