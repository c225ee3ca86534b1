import { Injectable, type OnModuleInit } from '@nestjs/common';
import { type ExposureChange, type ExposureGuard, ExposureGuards } from '../slices/exposure-guards.js';
import { planIdOf } from './plan-actor.js';
import { PlanException } from './plans.exception.js';
import { PlansRepository } from './plans.repository.js';

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

  async check(change: ExposureChange): Promise<void> {
    const plan = await this.plans.findBySlice(change.args.key, change.tx);
    if (plan === null || plan.phase !== 'RUNNING' || planIdOf(change.actor) === plan.id) return;
    throw new PlanException(
      'PLAN_RUNNING',
      `Slice "${plan.sliceKey}" is under a running plan (step ${plan.currentStep + 1} of ${plan.steps.length}): pause or abort the plan before changing its exposure by hand.`,
      { sliceKey: plan.sliceKey, operation: change.operation, planPhase: plan.phase },
    );
  }
}
