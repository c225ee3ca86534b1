import { Module } from '@nestjs/common';
import { ChangesModule } from '../changes/changes.module.js';
import { RollbackModule } from '../rollback/rollback.module.js';
import { SlicesModule } from '../slices/slices.module.js';
import { TrafficModule } from '../traffic/traffic.module.js';
import { evaluateStep } from './evaluation/evaluate-step.js';
import { PlanEvidence } from './plan-evidence.js';
import { PlanExposureGuard } from './plan-exposure-guard.js';
import { PlanSegmentRollbackPause } from './plan-segment-rollback.js';
import { PlanRunner, STEP_EVALUATOR } from './plan-runner.js';
import { PlansRepository } from './plans.repository.js';
import { PlansResolver, SlicePlanResolver } from './plans.resolver.js';
import { PlansService } from './plans.service.js';

/**
 * Cutover plans (docs/plans.md): the model and its changes (PlansService), GraphQL, the guard that
 * keeps people's hands off a RUNNING plan's slice, and the runner that carries plans out on the
 * evidence SDKs report (TrafficModule's outcome tables), judged by the pure evaluation.
 */
@Module({
  imports: [ChangesModule, SlicesModule, RollbackModule, TrafficModule],
  providers: [
    PlansRepository,
    PlansService,
    PlanExposureGuard,
    PlanSegmentRollbackPause,
    PlanEvidence,
    PlanRunner,
    { provide: STEP_EVALUATOR, useValue: evaluateStep },
    PlansResolver,
    SlicePlanResolver,
  ],
  exports: [PlansService, PlanRunner],
})
export class PlansModule {}
