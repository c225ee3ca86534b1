import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HistoryAction, type HistoryDraft } from '../history/history-action.js';
import { type SegmentRollbackListener, SegmentRollbackListeners, type SegmentRolledBack } from '../rollback/segment-rollback-listeners.js';
import type { PlanRecord } from './plan-record.js';
import { PlansRepository } from './plans.repository.js';

/**
 * A segment rolled back on a slice whose plan is RUNNING pauses the plan, in the rollback's own
 * transaction: something went wrong for some of the slice's subjects, so the plan must not go on
 * raising the rest by itself. (A whole-slice rollback pauses it at the runner's next look: the
 * slice's state says so for as long as it lasts, where a segment rollback may stay while the
 * plan is resumed on purpose.) resumePlan resumes it, with the segment still rolled back or not.
 */
@Injectable()
export class PlanSegmentRollbackPause implements SegmentRollbackListener, OnModuleInit {
  readonly name = 'plans';

  constructor(
    private readonly listeners: SegmentRollbackListeners,
    private readonly plans: PlansRepository,
  ) {}

  onModuleInit(): void {
    this.listeners.register(this);
  }

  async segmentRolledBack(event: SegmentRolledBack): Promise<HistoryDraft[]> {
    const plan = await this.plans.findBySlice(event.sliceKey, event.tx, true);
    if (plan === null || plan.phase !== 'RUNNING') return [];
    const saved: PlanRecord = { ...plan, phase: 'PAUSED', version: plan.version + 1, updatedAt: event.now.toISOString() };
    await this.plans.save(event.tx, saved, true);
    return [{ action: HistoryAction.PLAN_PAUSED, before: plan, after: { ...saved, evidence: { segmentRolledBack: event.segment } } }];
  }
}
