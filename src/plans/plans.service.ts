import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { basisPointsToPercent } from '@switchyard/client-sdk/core';
import type { EntityManager } from 'typeorm';
import type { Actor } from '../access/auth.decorators.js';
import { InvalidInputException } from '../common/errors/switchyard.exception.js';
import { decodeCursor, toPage } from '../common/graphql/cursor.js';
import { CLOCK, type Clock } from '../common/scheduling/clock.js';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import { ChangeService, type ResultCodec } from '../changes/change.service.js';
import { HistoryAction, type HistoryDraft } from '../history/history-action.js';
import { observationOf } from '../slices/slice-record.js';
import { SliceException } from '../slices/slices.exception.js';
import { SlicesRepository } from '../slices/slices.repository.js';
import { SlicesService } from '../slices/slices.service.js';
import { InstanceEvidenceService } from '../traffic/instance-evidence.service.js';
import type { ApprovePlanStepArgs, CreatePlanArgs, PlanCallArgs, PlanExposureCallArgs, PlansArgs } from './dto/plan.args.js';
import { parseGates, parseSteps } from './plan-input.js';
import { isApproved, isOpen, type PlanLook, type PlanPhase, type PlanRecord } from './plan-record.js';
import { PlanException } from './plans.exception.js';
import { PlansRepository } from './plans.repository.js';

export const PLAN_CODEC: ResultCodec<PlanRecord> = { encode: (r) => r, decode: (json) => json as PlanRecord };

/** What a plan change computes: the next plan (the same object: nothing changed) and the slice rows it wrote. */
interface PlanStepResult {
  readonly next: PlanRecord;
  readonly action: HistoryAction;
  readonly sliceRows?: readonly HistoryDraft[];
  /** Beside the plan in the history row's `after` (the evidence of an automatic action). */
  readonly evidence?: unknown;
}

/**
 * Creating plans and moving them by hand: create, start, pause, resume, abort, approve. Each is a
 * change (ChangeService: one transaction, history, idempotency key, expected version). The runner
 * (plan-runner.ts) moves RUNNING plans by itself through `changePlan` too.
 */
@Injectable()
export class PlansService implements OnModuleInit {
  constructor(
    private readonly plans: PlansRepository,
    private readonly slices: SlicesRepository,
    private readonly slicesService: SlicesService,
    private readonly changes: ChangeService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly instanceEvidence: InstanceEvidenceService,
  ) {}

  /** Per-instance figures are kept for the slices of RUNNING plans only: their one reader is a plan's look. */
  onModuleInit(): void {
    this.instanceEvidence.scopeTo(() => this.plans.runningScope());
  }

  async get(sliceKey: string): Promise<{ plan: PlanRecord; look: PlanLook | null }> {
    const found = await this.plans.findWithLook(sliceKey);
    if (found === null) throw PlanException.notFound(sliceKey);
    return found;
  }

  /** Each slice's plan (open, else newest) with its last look; slices without one are absent (Slice.plan). */
  findMany(sliceKeys: readonly string[]): Promise<Map<string, { plan: PlanRecord; look: PlanLook | null }>> {
    return this.plans.findManyWithLook(sliceKeys);
  }

  /** The runner's last look at this plan as it is now (null when there is none, or the plan changed since). */
  async lookOf(plan: PlanRecord): Promise<PlanLook | null> {
    const found = await this.plans.findWithLook(plan.sliceKey);
    return found !== null && found.plan.id === plan.id && found.plan.version === plan.version ? found.look : null;
  }

  async list(args: PlansArgs) {
    const after = decodeCursor(args.after);
    const rows = await this.plans.list(args.phase ?? null, args.first + 1, after);
    return toPage(rows, args.first, (r) => r.plan.sliceKey);
  }

  create(args: CreatePlanArgs, actor: Actor): Promise<PlanRecord> {
    const steps = parseSteps(args.steps);
    const gates = parseGates({
      ...args.gates,
      mismatch: args.gates.mismatch == null ? null : { thresholdPercent: args.gates.mismatch.thresholdPercent ?? 0, onFail: args.gates.mismatch.onFail },
    });
    const violations = [...('violations' in steps ? steps.violations : []), ...('violations' in gates ? gates.violations : [])];
    if (violations.length > 0 || 'violations' in steps || 'violations' in gates) return Promise.reject(new InvalidInputException(violations));
    return this.changes.run({
      operation: 'createPlan',
      args,
      actor,
      codec: PLAN_CODEC,
      execute: async (tx) => {
        const slice = await this.slices.find(args.sliceKey, tx);
        if (slice === null) throw SliceException.notFound(args.sliceKey);
        if (slice.state === 'ARCHIVED') throw new SliceException('SLICE_ARCHIVED', `Slice "${slice.key}" is archived and can no longer change.`, { sliceKey: slice.key });
        const open = await this.plans.findBySlice(args.sliceKey, tx, true);
        if (open !== null && isOpen(open.phase)) {
          throw new PlanException('PLAN_ALREADY_OPEN', `Slice "${slice.key}" has a plan ${open.phase} already: abort it first.`, { sliceKey: slice.key, phase: open.phase });
        }
        // The mismatch gate without a threshold takes the slice's (setObservation), fixed now.
        const g = gates.gates;
        const fixed =
          g.mismatch !== undefined && args.gates.mismatch?.thresholdPercent == null
            ? { ...g, mismatch: { ...g.mismatch, threshold: observationOf(slice).mismatchThresholdPpm / 1_000_000 } }
            : g;
        const at = this.clock.now().toISOString();
        const plan: PlanRecord = {
          id: randomUUID(),
          sliceKey: slice.key,
          phase: 'PENDING',
          steps: steps.steps,
          gates: fixed,
          author: actor.name,
          currentStep: 0,
          stepStartedAt: null,
          approvals: [],
          version: 1,
          createdAt: at,
          updatedAt: at,
        };
        await this.plans.insert(tx, plan);
        return { result: plan, history: [{ action: HistoryAction.PLAN_CREATED, before: null, after: plan }] };
      },
    });
  }

  /** The slice watched, at the first step's percentage (exposure guards apply: a freeze window refuses it), the plan RUNNING. */
  start(args: PlanExposureCallArgs, actor: Actor): Promise<PlanRecord> {
    const refused = this.reasonRefusal('startPlan', args.reason);
    if (refused !== null) return Promise.reject(refused);
    return this.keepInstanceFigures(
      this.changePlan('startPlan', args, actor, async (tx, plan, now) => {
        requirePhase(plan, ['PENDING'], 'startPlan');
        const first = plan.steps[0]!;
        if (first.requiresApproval && !isApproved(plan, 0)) {
          throw new PlanException('PLAN_APPROVAL_REQUIRED', `Step 1 of the plan of "${plan.sliceKey}" needs an approval by someone other than ${plan.author} first.`, {
            sliceKey: plan.sliceKey,
            step: 1,
          });
        }
        const watched = await this.slicesService.watchWithin(tx, now, plan.sliceKey);
        // Still PENDING in this transaction: the plan guard lets the person who starts it move the slice.
        const rollout = await this.slicesService.setRolloutWithin(tx, now, { key: plan.sliceKey, percent: basisPointsToPercent(first.basisPoints), reason: args.reason }, actor);
        return {
          // A plan of one step runs that step like any last step (held, gates watched), then completes.
          next: { ...plan, phase: 'RUNNING', currentStep: 0, stepStartedAt: this.clock.now().toISOString() },
          action: HistoryAction.PLAN_STARTED,
          sliceRows: [...watched.history, ...rollout.history],
        };
      }),
    );
  }

  pause(args: PlanCallArgs, actor: Actor): Promise<PlanRecord> {
    return this.changePlan('pausePlan', args, actor, (_tx, plan) => {
      requirePhase(plan, ['RUNNING'], 'pausePlan');
      return { next: { ...plan, phase: 'PAUSED' }, action: HistoryAction.PLAN_PAUSED };
    });
  }

  /**
   * Back to RUNNING on the step it paused at: the slice goes back to that step's percentage (a
   * person may have moved it meanwhile) and the step starts again (its duration and evidence
   * count from now). A rolled-back slice must be resumed first.
   */
  resume(args: PlanExposureCallArgs, actor: Actor): Promise<PlanRecord> {
    const refused = this.reasonRefusal('resumePlan', args.reason);
    if (refused !== null) return Promise.reject(refused);
    return this.keepInstanceFigures(
      this.changePlan('resumePlan', args, actor, async (tx, plan, now) => {
        requirePhase(plan, ['PAUSED'], 'resumePlan');
        const step = plan.steps[plan.currentStep]!;
        // Watched again, should someone have turned it off while the plan was paused.
        const watched = await this.slicesService.watchWithin(tx, now, plan.sliceKey);
        const rollout = await this.slicesService.setRolloutWithin(tx, now, { key: plan.sliceKey, percent: basisPointsToPercent(step.basisPoints), reason: args.reason }, actor);
        return {
          next: { ...plan, phase: 'RUNNING', stepStartedAt: this.clock.now().toISOString() },
          action: HistoryAction.PLAN_RESUMED,
          sliceRows: [...watched.history, ...rollout.history],
        };
      }),
    );
  }

  /** Once the plan is RUNNING: this instance keeps its slice's per-instance figures from the next report on (others within a flush tick). */
  private async keepInstanceFigures(changed: Promise<PlanRecord>): Promise<PlanRecord> {
    const plan = await changed;
    if (plan.phase === 'RUNNING') this.instanceEvidence.keepFor(plan.sliceKey, plan.gates.latency !== undefined);
    return plan;
  }

  /** Finished for good; the slice stays where it is (roll it back, or set it, by hand). */
  abort(args: PlanCallArgs, actor: Actor): Promise<PlanRecord> {
    return this.changePlan('abortPlan', args, actor, (_tx, plan) => {
      requirePhase(plan, ['PENDING', 'RUNNING', 'PAUSED'], 'abortPlan');
      return { next: { ...plan, phase: 'ABORTED' }, action: HistoryAction.PLAN_ABORTED };
    });
  }

  /** By a token other than the author's (release manager or admin: the resolver's permission). Approving twice changes nothing. */
  approve(args: ApprovePlanStepArgs, actor: Actor): Promise<PlanRecord> {
    return this.changePlan('approvePlanStep', args, actor, (_tx, plan, now) => {
      requirePhase(plan, ['PENDING', 'RUNNING', 'PAUSED'], 'approvePlanStep');
      const index = args.step - 1;
      const step = plan.steps[index];
      if (step === undefined) throw InvalidInputException.field('step', `the plan has ${plan.steps.length} steps`);
      if (!step.requiresApproval) throw InvalidInputException.field('step', `step ${args.step} does not require an approval`);
      if (plan.phase !== 'PENDING' && index <= plan.currentStep) throw InvalidInputException.field('step', `step ${args.step} is reached already`);
      if (actor.name === plan.author) {
        throw new PlanException('PLAN_APPROVAL_BY_AUTHOR', `${actor.name} wrote this plan: step ${args.step} is approved by someone else (a release manager or an admin).`, {
          sliceKey: plan.sliceKey,
          step: args.step,
          author: plan.author,
        });
      }
      if (isApproved(plan, index)) return { next: plan, action: HistoryAction.PLAN_STEP_APPROVED };
      return { next: { ...plan, approvals: [...plan.approvals, { step: index, by: actor.name, at: now.toISOString() }] }, action: HistoryAction.PLAN_STEP_APPROVED };
    });
  }

  /**
   * The shape of every plan change (the runner's too): the plan locked under the append lock, its
   * version checked, `apply`, the version bumped, the plan written, its history row after the slice
   * rows `apply` wrote. `apply` returning the plan unchanged writes nothing.
   */
  changePlan(
    operation: string,
    args: { sliceKey: string; expectedVersion?: number | null; reason?: string | null; idempotencyKey?: string | null },
    actor: Actor,
    apply: (tx: EntityManager, plan: PlanRecord, now: Date) => PlanStepResult | Promise<PlanStepResult>,
  ): Promise<PlanRecord> {
    return this.changes.run({
      operation,
      args,
      actor,
      codec: PLAN_CODEC,
      execute: async (tx, now) => {
        const plan = await this.plans.findBySlice(args.sliceKey, tx, true);
        if (plan === null) throw PlanException.notFound(args.sliceKey);
        if (args.expectedVersion != null && args.expectedVersion !== plan.version) throw PlanException.staleVersion(plan.sliceKey, args.expectedVersion, plan.version);
        const { next, action, sliceRows = [], evidence } = await apply(tx, plan, now);
        if (next === plan && sliceRows.length === 0) return { result: plan, history: [] };
        const saved: PlanRecord = { ...next, version: plan.version + 1, updatedAt: this.clock.now().toISOString() };
        await this.plans.save(tx, saved, saved.phase !== plan.phase || saved.currentStep !== plan.currentStep || saved.stepStartedAt !== plan.stepStartedAt);
        const row: HistoryDraft = { action, before: plan, after: evidence === undefined ? saved : { ...saved, evidence } };
        return { result: saved, history: [...sliceRows, row] };
      },
    });
  }

  /** start and resume move the slice: like setRollout, they say why while SWITCHYARD_REQUIRE_REASON is on. */
  private reasonRefusal(operation: string, reason: string | null | undefined): InvalidInputException | null {
    if (!this.config.requireReason || (reason != null && /\S/.test(reason))) return null;
    return InvalidInputException.field('reason', `${operation} changes who is on NEW: say why (SWITCHYARD_REQUIRE_REASON is on; history records it)`);
  }
}

export function requirePhase(plan: PlanRecord, allowed: readonly PlanPhase[], operation: string): void {
  if (!allowed.includes(plan.phase)) throw PlanException.wrongPhase(plan.sliceKey, plan.phase, allowed, operation);
}
