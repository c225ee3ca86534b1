import { registerEnumType } from '@nestjs/graphql';

/** Every kind of change the history records. Stored as text; never rename a value. */
export enum HistoryAction {
  SLICE_CREATED = 'SLICE_CREATED',
  SLICE_UPDATED = 'SLICE_UPDATED',
  ROLLOUT_SET = 'ROLLOUT_SET',
  TARGETING_SET = 'TARGETING_SET',
  /** watched, shadowPercent or the mismatch threshold (docs/outcomes.md): no decision changes, but the snapshot does. */
  OBSERVATION_SET = 'OBSERVATION_SET',
  SLICE_ROLLED_BACK = 'SLICE_ROLLED_BACK',
  SLICE_RESUMED = 'SLICE_RESUMED',
  SLICE_ARCHIVED = 'SLICE_ARCHIVED',
  /** rollbackSegment / resumeSegment (docs/segment-rollback.md): before / after differ in `rolledBackSegments` only. */
  SEGMENT_ROLLED_BACK = 'SEGMENT_ROLLED_BACK',
  SEGMENT_RESUMED = 'SEGMENT_RESUMED',
  /** Global: one row for the call, beside the per-slice SLICE_ROLLED_BACK rows it caused. */
  ROLLBACK_ALL = 'ROLLBACK_ALL',
  SEGMENT_CREATED = 'SEGMENT_CREATED',
  SEGMENT_UPDATED = 'SEGMENT_UPDATED',
  SEGMENT_DELETED = 'SEGMENT_DELETED',
  TOKEN_CREATED = 'TOKEN_CREATED',
  TOKEN_REVOKED = 'TOKEN_REVOKED',
  /** Freeze windows (docs/freeze-windows.md): before / after are the window's record, which names its key. */
  FREEZE_WINDOW_CREATED = 'FREEZE_WINDOW_CREATED',
  FREEZE_WINDOW_UPDATED = 'FREEZE_WINDOW_UPDATED',
  FREEZE_WINDOW_DELETED = 'FREEZE_WINDOW_DELETED',
  /**
   * An admin raised exposure during a freeze window: written in the same transaction, just before
   * the change's own row, naming the slice; `after` holds the override's reason and the windows.
   */
  FREEZE_OVERRIDDEN = 'FREEZE_OVERRIDDEN',
  /**
   * Plans (docs/plans.md). A plan's rows name no slice (sliceKey null: history replays a slice's
   * rows as its configuration); the plan, its slice key included, is in before / after. What a plan
   * does to its slice (a step's setRollout, a rollback) is a slice row of its own in the same change.
   */
  PLAN_CREATED = 'PLAN_CREATED',
  PLAN_STARTED = 'PLAN_STARTED',
  PLAN_PAUSED = 'PLAN_PAUSED',
  PLAN_RESUMED = 'PLAN_RESUMED',
  PLAN_ABORTED = 'PLAN_ABORTED',
  PLAN_STEP_APPROVED = 'PLAN_STEP_APPROVED',
  /** The runner moved the slice to the next step's percentage; the evidence is in `after`. */
  PLAN_STEP_ADVANCED = 'PLAN_STEP_ADVANCED',
  PLAN_COMPLETED = 'PLAN_COMPLETED',
  /** A gate failed with onFail ROLLBACK: the slice was rolled back in the same change. */
  PLAN_ROLLED_BACK = 'PLAN_ROLLED_BACK',
}
registerEnumType(HistoryAction, { name: 'HistoryAction' });

/**
 * Actions that do not change what SDKs evaluate (tokens, freeze windows, an override's record, plans'
 * own rows): every other action advances the snapshot revision.
 */
export const NON_CONFIGURATION_ACTIONS: readonly HistoryAction[] = [
  HistoryAction.TOKEN_CREATED,
  HistoryAction.TOKEN_REVOKED,
  HistoryAction.FREEZE_WINDOW_CREATED,
  HistoryAction.FREEZE_WINDOW_UPDATED,
  HistoryAction.FREEZE_WINDOW_DELETED,
  HistoryAction.FREEZE_OVERRIDDEN,
  // A plan's own rows change no slice: the slice rows beside them do.
  HistoryAction.PLAN_CREATED,
  HistoryAction.PLAN_STARTED,
  HistoryAction.PLAN_PAUSED,
  HistoryAction.PLAN_RESUMED,
  HistoryAction.PLAN_ABORTED,
  HistoryAction.PLAN_STEP_APPROVED,
  HistoryAction.PLAN_STEP_ADVANCED,
  HistoryAction.PLAN_COMPLETED,
  HistoryAction.PLAN_ROLLED_BACK,
];

export function changesConfiguration(action: HistoryAction | string): boolean {
  return !NON_CONFIGURATION_ACTIONS.includes(action as HistoryAction);
}

/** A history row before it is chained: what the changing service hands over. */
export interface HistoryDraft {
  readonly action: HistoryAction;
  readonly sliceKey?: string | null;
  readonly segmentKey?: string | null;
  /** Complete configuration before and after (null when created / deleted). JSON only. */
  readonly before: unknown;
  readonly after: unknown;
}
