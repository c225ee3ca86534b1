import { Injectable, type OnModuleInit } from '@nestjs/common';
import { type ExposureChange, type ExposureGuard, ExposureGuards } from '../slices/exposure-guards.js';
import { planIdOf } from './plan-actor.js';
import { PlanException } from './plans.exception.js';
import { PlansRepository, type RunningPlan } from './plans.repository.js';

/**
 * A RUNNING plan owns its slice's exposure: setRollout, setTargeting, resume and archiveSlice by
 * anyone but the plan itself are refused with PLAN_RUNNING (pause or abort the plan first; a
 * PENDING, PAUSED or finished plan refuses nothing). Rollback is not an exposure change and never
 * reaches here. Read in the change's transaction, under the append lock every plan change holds
 * too, so a plan cannot start between this check and the write.
 */
@Injectable()
export class PlanExposureGuard implements ExposureGuard, OnModuleInit {
  readonly name = 'plans';

  constructor(
    private readonly guards: ExposureGuards,
    private readonly plans: PlansRepository,
  ) {}

  onModuleInit(): void {
    this.guards.register(this);
  }

  // The slice's RUNNING plan (at most one is open per slice), read with the slice: no round trip of its own.
  readonly sliceRead = PlansRepository.RUNNING_OF_SLICE_AS_JSON;

  async check(change: ExposureChange): Promise<void> {
    const running = change.read === undefined ? await this.runningPlan(change) : (change.read as RunningPlan | null);
    if (running === null || planIdOf(change.actor) === running.id) return;
    throw new PlanException(
      'PLAN_RUNNING',
      `Slice "${change.args.key}" is under a running plan (step ${running.currentStep + 1} of ${running.steps}): pause or abort the plan before changing its exposure by hand.`,
      { sliceKey: change.args.key, operation: change.operation, planPhase: 'RUNNING' },
    );
  }

  /** What RUNNING_OF_SLICE_AS_JSON gives, read on its own (a change inside another change: a plan's step). */
  private async runningPlan(change: ExposureChange): Promise<RunningPlan | null> {
    const plan = await this.plans.findBySlice(change.args.key, change.tx);
    return plan === null || plan.phase !== 'RUNNING' ? null : { id: plan.id, currentStep: plan.currentStep, steps: plan.steps.length };
  }
}
